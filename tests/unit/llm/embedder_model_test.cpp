// Embeddings with the real GGUF (label "model").
#include "ksparse/llm/embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse::llm {
namespace {

EmbedderOptions options(Pooling pooling, int parallel = 8, int n_batch = 256) {
  EmbedderOptions o;
  o.model.path = test::test_model();
  o.pooling = pooling;
  o.n_parallel = parallel;
  o.n_batch = n_batch;
  o.max_tokens = 64;
  return o;
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
  return m;
}

const std::vector<std::string>& texts() {
  static const std::vector<std::string> t = {
      "computer", "컴퓨터",   "the cat sat on the mat", "고양이가 매트 위에 앉았다", "data",
      "데이터",   "banana", "서울은 대한민국의 수도이다",      "network",                "네트워크",
      "",
  };
  return t;
}

TEST(LlamaEmbedderModel, ShapesAndUnitNorm) {
  for (Pooling pooling : {Pooling::kMean, Pooling::kLast}) {
    LlamaEmbedder emb(options(pooling));
    EXPECT_EQ(emb.n_embd(), emb.model().info().n_embd);
    const auto v = emb.embed(texts());
    ASSERT_EQ(v.size(), texts().size());
    for (const auto& e : v) {
      ASSERT_EQ(e.size(), static_cast<std::size_t>(emb.n_embd()));
      EXPECT_NEAR(dot(e, e), 1.0, 1e-4);
      for (float x : e) ASSERT_TRUE(std::isfinite(x));
    }
    EXPECT_TRUE(emb.embed({}).empty());
  }
}

TEST(LlamaEmbedderModel, IdenticalTextsGiveIdenticalVectorsAndPoolingsDiffer) {
  LlamaEmbedder mean(options(Pooling::kMean));
  const auto v = mean.embed({"database", "database", "banana"});
  EXPECT_EQ(max_abs_diff(v[0], v[1]), 0.0) << "same text, same batch";
  const auto again = mean.embed({"database"});
  EXPECT_LT(max_abs_diff(v[0], again[0]), 1e-3) << "same text, another call";
  EXPECT_LT(dot(v[0], v[2]), 0.9999);

  LlamaEmbedder last(options(Pooling::kLast));
  const auto l = last.embed({"the cat sat on the mat"});
  const auto m = mean.embed({"the cat sat on the mat"});
  EXPECT_LT(dot(l[0], m[0]), 0.999) << "mean and last-token pooling must not coincide";
}

TEST(LlamaEmbedderModel, BatchedEqualsOneAtATime) {
  // Same texts packed 8 sequences per decode vs one sequence per decode (a small n_batch forces
  // splits by tokens as well).
  LlamaEmbedder batched(options(Pooling::kMean, 8, 256));
  LlamaEmbedder single(options(Pooling::kMean, 1, 64));
  const auto a = batched.embed(texts());
  const auto b = single.embed(texts());
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_GT(dot(a[i], b[i]), 0.999) << "text " << i << " '" << texts()[i] << "'";
    EXPECT_LT(max_abs_diff(a[i], b[i]), 0.02) << "text " << i;
  }
}

TEST(LlamaEmbedderModel, SimilarTextsAreCloserThanUnrelatedOnes) {
  LlamaEmbedder emb(options(Pooling::kMean));
  const auto v = emb.embed({"The cat sat on the mat.", "A cat was sitting on the mat.",
                            "Interest rates rose sharply in the third quarter."});
  EXPECT_GT(dot(v[0], v[1]), dot(v[0], v[2]));
  EXPECT_GT(dot(v[0], v[1]), dot(v[1], v[2]));
}

TEST(LlamaEmbedderModel, TruncatesLongTexts) {
  EmbedderOptions o = options(Pooling::kMean);
  o.max_tokens = 8;
  LlamaEmbedder emb(o);
  std::string long_text;
  for (int i = 0; i < 50; ++i) long_text += "word ";
  const auto v = emb.embed({long_text, "short"});
  EXPECT_EQ(v.size(), 2u);
  EXPECT_EQ(emb.truncated(), 1u);
}

TEST(LlamaEmbedderModel, RejectsBadOptions) {
  EmbedderOptions o = options(Pooling::kMean);
  o.n_batch = 16;
  o.max_tokens = 64;
  EXPECT_THROW(LlamaEmbedder{o}, ConfigError);
  o = options(Pooling::kMean);
  o.n_parallel = 0;
  EXPECT_THROW(LlamaEmbedder{o}, ConfigError);
  EXPECT_THROW(parse_pooling("max"), ConfigError);
  EXPECT_EQ(parse_pooling("last"), Pooling::kLast);
  o = options(Pooling::kMean);
  o.model.path = "/nonexistent/model.gguf";
  EXPECT_THROW(LlamaEmbedder{o}, ModelError);
}

}  // namespace
}  // namespace ksparse::llm
