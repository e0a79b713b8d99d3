// SparseEncoder (include/ksparse/encoder/sparse_encoder.h): IDF, idf.json, doc-only query weights,
// pruning, the model directory round trip (identical vectors), and the lexical prior measured on
// real mixed Korean/English text.
#include "ksparse/encoder/sparse_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/encoder/wordpiece_trainer.h"

namespace ksparse {
namespace {

using test::TempDir;

std::vector<std::string> mixed_lines() {
  std::ifstream in(test::fixture("encoder/mixed_lines.txt"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

WordPieceTokenizer trained_tokenizer(const std::vector<std::string>& lines) {
  WordPieceTrainerOptions o;
  o.vocab_size = 600;
  o.min_frequency = 1;
  WordPieceTrainer trainer(o);
  for (const auto& l : lines) trainer.add_text(l);
  return trainer.train();
}

WordPieceTokenizer tiny_tokenizer() {
  return WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d"});
}

BertConfig small_config() {
  BertConfig c;
  c.hidden_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 128;
  c.max_position_embeddings = 256;
  return c;
}

TEST(Idf, HandComputed) {
  auto tok = tiny_tokenizer();
  auto idf = compute_idf(tok, {"a b", "a", "c a"});
  ASSERT_EQ(idf.size(), 9u);
  EXPECT_NEAR(idf[5], std::log(1.0 + 0.5 / 3.5), 1e-6);        // a: df 3
  EXPECT_NEAR(idf[6], std::log(1.0 + 2.5 / 1.5), 1e-6);        // b: df 1
  EXPECT_NEAR(idf[8], std::log(1.0 + 3.5 / 0.5), 1e-6);        // d: never seen
  for (int s = 0; s < 5; ++s) EXPECT_EQ(idf[static_cast<std::size_t>(s)], 0.0f);
  EXPECT_THROW(compute_idf(tok, {}), DataError);
}

TEST(Idf, JsonRoundTripAndMissingTokens) {
  TempDir dir;
  auto tok = tiny_tokenizer();
  auto idf = compute_idf(tok, {"a b", "c"});
  write_idf_json(dir / "idf.json", tok, idf);
  EXPECT_EQ(read_idf_json(dir / "idf.json", tok), idf);
  test::write_file(dir / "part.json", R"({"a": 2.5, "zzz": 9})");
  auto part = read_idf_json(dir / "part.json", tok, 1.0f);
  EXPECT_EQ(part[5], 2.5f);
  EXPECT_EQ(part[6], 1.0f);
  test::write_file(dir / "bad.json", R"({"a": "x"})");
  EXPECT_THROW(read_idf_json(dir / "bad.json", tok), DataError);
}

TEST(SparseEncoder, DocOnlyQueryWeightsAreIdfOfDistinctNonSpecialTokens) {
  auto tok = tiny_tokenizer();
  auto idf = compute_idf(tok, {"a b", "a", "c a"});
  SparseEncoderSettings s;
  auto enc = SparseEncoder::create(tok, small_config(), s, idf, /*lexical_prior=*/false);
  auto q = enc.query_weights("a a [CLS] b");
  ASSERT_EQ(q.size(), 2u);
  EXPECT_FLOAT_EQ(q.weight(5), idf[5]);  // once, not twice
  EXPECT_FLOAT_EQ(q.weight(6), idf[6]);
  auto tw = enc.term_weights(q);
  EXPECT_EQ(tw[0].first, "a");
  EXPECT_EQ(tw[1].first, "b");
  // Negative idf values are clipped (relu).
  auto neg = idf;
  neg[7] = -1.0f;
  enc.set_idf(neg);
  EXPECT_TRUE(enc.query_weights("c").empty());
  EXPECT_THROW(enc.set_idf({1.0f}), DataError);
  auto no_idf = SparseEncoder::create(tok, small_config(), s);
  EXPECT_THROW(no_idf.query_weights("a"), ModelError);
}

TEST(SparseEncoder, PruningKeepsTopKAndAboveThreshold) {
  auto lines = mixed_lines();
  auto tok = trained_tokenizer(lines);
  auto enc = SparseEncoder::create(tok, small_config(), {}, compute_idf(tok, lines));
  auto full = enc.encode_documents({lines[0], lines[1]});
  ASSERT_GT(full[0].size(), 5u);
  DocumentEncodeOptions o;
  o.top_k = 3;
  auto top = enc.encode_documents({lines[0], lines[1]}, o);
  for (std::size_t d = 0; d < 2; ++d) {
    ASSERT_EQ(top[d].size(), 3u);
    std::vector<float> ws;
    for (const auto& e : full[d].entries()) ws.push_back(e.weight);
    std::sort(ws.rbegin(), ws.rend());
    for (const auto& e : top[d].entries()) {
      EXPECT_EQ(e.weight, full[d].weight(e.term));
      EXPECT_GE(e.weight, ws[2]);
    }
  }
  DocumentEncodeOptions t;
  t.threshold = 1.0f;
  auto thr = enc.encode_documents({lines[0]}, t)[0];
  std::size_t above = 0;
  for (const auto& e : full[0].entries()) above += e.weight > 1.0f ? 1 : 0;
  EXPECT_EQ(thr.size(), above);
  for (const auto& e : thr.entries()) EXPECT_GT(e.weight, 1.0f);
  DocumentEncodeOptions bad;
  bad.batch_size = 0;
  EXPECT_THROW(enc.encode_documents({lines[0]}, bad), ConfigError);
}

TEST(SparseEncoder, BatchingDoesNotChangeVectorsBeyondRounding) {
  auto lines = mixed_lines();
  auto tok = trained_tokenizer(lines);
  auto enc = SparseEncoder::create(tok, small_config(), {}, compute_idf(tok, lines));
  DocumentEncodeOptions one;
  one.batch_size = 1;
  DocumentEncodeOptions many;
  many.batch_size = 7;
  auto a = enc.encode_documents(lines, one);
  auto b = enc.encode_documents(lines, many);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (const auto& e : a[i].entries()) EXPECT_NEAR(b[i].weight(e.term), e.weight, 1e-4) << i;
  }
}

TEST(SparseEncoder, SaveLoadGivesIdenticalVectors) {
  TempDir dir;
  auto lines = mixed_lines();
  auto tok = trained_tokenizer(lines);
  SparseEncoderSettings s;
  s.max_length = 64;
  s.pooling = SparsePooling::kL0;
  auto enc = SparseEncoder::create(tok, small_config(), s, compute_idf(tok, lines));
  enc.save(dir / "model", {{"note", "unit test"}}, {{"steps", 0}});
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer.json",
                        "tokenizer_config.json", "special_tokens_map.json", "idf.json", "manifest.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / "model" / f)) << f;
  }
  auto m = read_manifest(dir / "model", "sparse_encoder");
  EXPECT_EQ(m.config["settings"]["pooling"], "l0");
  EXPECT_EQ(m.config["note"], "unit test");
  EXPECT_EQ(m.outputs.size(), 7u);

  auto back = SparseEncoder::load(dir / "model");
  EXPECT_EQ(back.settings().max_length, 64u);
  EXPECT_EQ(back.settings().pooling, SparsePooling::kL0);
  EXPECT_EQ(back.idf(), enc.idf());
  EXPECT_EQ(back.tokenizer().vocab(), enc.tokenizer().vocab());
  EXPECT_EQ(back.encode_documents(lines), enc.encode_documents(lines));  // bit-identical
  EXPECT_EQ(back.query_weights(lines[3]), enc.query_weights(lines[3]));

  // Without our manifest (a foreign HF folder): doc-only because idf.json is there.
  std::filesystem::remove(dir / "model" / "manifest.json");
  auto foreign = SparseEncoder::load(dir / "model");
  EXPECT_EQ(foreign.settings().mode, EncoderMode::kDocOnly);
  EXPECT_THROW(SparseEncoder::load(dir / "nope"), IoError);
}

// Lexical prior on real text: the untrained model's document vectors hold the document's own
// tokens, weighted by a monotone function of their IDF, and IDF-weighted doc-only search finds
// each line from its own text.
TEST(SparseEncoder, LexicalPriorMakesAnUntrainedModelATermMatcher) {
  auto lines = mixed_lines();
  auto tok = trained_tokenizer(lines);
  auto idf = compute_idf(tok, lines);
  auto enc = SparseEncoder::create(tok, small_config(), {}, idf, /*lexical_prior=*/true, 21);
  auto docs = enc.encode_documents(lines);
  std::size_t own = 0, own_hit = 0, expansions = 0;
  std::vector<double> xs, ys;
  for (std::size_t d = 0; d < lines.size(); ++d) {
    std::set<std::int32_t> ids;
    for (auto id : tok.encode(lines[d]).ids) {
      if (!tok.is_special(id)) ids.insert(id);
    }
    for (auto id : ids) {
      ++own;
      const float w = docs[d].weight(static_cast<TermId>(id));
      if (w > 0) ++own_hit;
      xs.push_back(std::log1p(idf[static_cast<std::size_t>(id)]));
      ys.push_back(w);
    }
    for (const auto& e : docs[d].entries()) expansions += ids.contains(static_cast<std::int32_t>(e.term)) ? 0 : 1;
  }
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) { mx += xs[i]; my += ys[i]; }
  mx /= static_cast<double>(xs.size());
  my /= static_cast<double>(ys.size());
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) * (xs[i] - mx);
    syy += (ys[i] - my) * (ys[i] - my);
  }
  const double corr = sxy / std::sqrt(sxx * syy);
  std::size_t self_top1 = 0;
  for (std::size_t q = 0; q < lines.size(); ++q) {
    auto qv = enc.query_weights(lines[q]);
    std::size_t best = 0;
    for (std::size_t d = 1; d < docs.size(); ++d) {
      if (qv.dot(docs[d]) > qv.dot(docs[best])) best = d;
    }
    self_top1 += best == q ? 1 : 0;
  }
  std::printf("lexical prior on %zu lines: own tokens kept %zu/%zu, corr(w, log1p(idf)) %.3f, "
              "expansion entries %zu, self retrieved at rank 1: %zu/%zu\n",
              lines.size(), own_hit, own, corr, expansions, self_top1, lines.size());
  EXPECT_GE(static_cast<double>(own_hit), 0.95 * static_cast<double>(own));
  EXPECT_GT(corr, 0.8);
  EXPECT_LE(expansions, lines.size());  // about none
  EXPECT_EQ(self_top1, lines.size());
}

}  // namespace
}  // namespace ksparse
