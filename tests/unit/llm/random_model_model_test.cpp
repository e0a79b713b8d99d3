// Tiny random-weight GGUF built from the real small GGUF's metadata (label "model": it needs that
// file for the tokenizer). llama.cpp must load and run it, and it must write garbage.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"
#include "ksparse/llm/llama_backend.h"
#include "ksparse/llm/model.h"
#include "ksparse/llm/random_model.h"

namespace ksparse::llm {
namespace {
namespace fs = std::filesystem;

RandomModelOptions tiny(const fs::path& out, std::uint64_t seed) {
  RandomModelOptions o;
  o.like = test::test_model();
  o.out = out;
  o.seed = seed;
  return o;
}

TEST(RandomModel, LoadsWithTheTinySizesAndTheRealTokenizer) {
  test::TempDir dir;
  write_random_model(tiny(dir / "m.gguf", 7));
  ModelOptions mo;
  mo.path = dir / "m.gguf";
  mo.n_gpu_layers = 0;
  Model m(mo);
  const ModelInfo& info = m.info();
  EXPECT_EQ(info.architecture, "gemma3");
  EXPECT_EQ(info.n_layer, 2);
  EXPECT_EQ(info.n_embd, 64);
  EXPECT_EQ(info.n_head, 2);
  EXPECT_EQ(info.n_head_kv, 1);
  EXPECT_EQ(info.n_ctx_train, 4096);
  EXPECT_EQ(info.n_vocab, 262144);
  // token_embd 64 x 262144 + 2 blocks + output_norm: about 16.8M parameters, under 40 MB.
  EXPECT_GT(info.n_params, 16'000'000u);
  EXPECT_LT(info.n_params, 17'500'000u);
  EXPECT_LT(info.file_bytes, 40u << 20);
  EXPECT_EQ(m.meta("ksparse.random_model.seed"), "7");
  EXPECT_NE(m.meta("general.name").find("random weights"), std::string::npos);

  // Same tokenizer as the model it was made like.
  ModelOptions real;
  real.path = test::test_model();
  real.vocab_only = true;
  Model r(real);
  const std::string text = "세종대왕은 1443년 훈민정음을 창제하였다. BERT 모델 학습 방법";
  EXPECT_EQ(m.tokenize(text), r.tokenize(text));
}

TEST(RandomModel, SameSeedSameBytesOtherSeedOtherBytes) {
  test::TempDir dir;
  write_random_model(tiny(dir / "a.gguf", 1));
  write_random_model(tiny(dir / "b.gguf", 1));
  write_random_model(tiny(dir / "c.gguf", 2));
  EXPECT_EQ(sha256_file(dir / "a.gguf"), sha256_file(dir / "b.gguf"));
  EXPECT_NE(sha256_file(dir / "a.gguf"), sha256_file(dir / "c.gguf"));
  EXPECT_FALSE(fs::exists(dir / "a.gguf.tmp"));
}

TEST(RandomModel, GeneratesNearUniformGarbage) {
  test::TempDir dir;
  write_random_model(tiny(dir / "m.gguf", 3));
  LlamaBackendOptions lo;
  lo.model.path = dir / "m.gguf";
  lo.model.n_gpu_layers = 0;
  lo.context.n_parallel = 4;
  lo.context.n_ctx = 4 * 256;
  lo.context.n_threads = 2;
  LlamaBackend backend(lo);
  std::vector<GenerationRequest> reqs;
  for (const char* p : {"서울은 대한민국의", "The capital of France is", "검색어: ", "1, 2, 3,"}) {
    GenerationRequest r;
    r.prompt = p;
    r.max_tokens = 24;
    r.sampling.temperature = 1.0f;
    r.sampling.top_k = 0;
    r.sampling.top_p = 1.0f;
    r.sampling.min_p = 0.0f;
    r.sampling.seed = 11;
    reqs.push_back(r);
  }
  const std::vector<GenerationResult> out = backend.generate(reqs);
  ASSERT_EQ(out.size(), reqs.size());
  for (const GenerationResult& g : out) {
    EXPECT_GT(g.generated_tokens, 0);
    // ln(262144) = 12.5: a near-uniform next-token distribution puts every sampled token far
    // below the synth log-prob filter's default of -3.
    EXPECT_LT(g.mean_logprob, -6.0) << g.text;
  }
}

TEST(RandomModel, RejectsWhatItCannotMake) {
  test::TempDir dir;
  RandomModelOptions o = tiny(dir / "m.gguf", 0);
  o.n_layer = 19;  // the 270M model has 18 blocks
  EXPECT_THROW(write_random_model(o), ModelError);
  o = tiny(dir / "m.gguf", 0);
  o.n_head = 3;
  o.n_head_kv = 2;
  EXPECT_THROW(write_random_model(o), ConfigError);
  o = tiny(dir / "m.gguf", 0);
  o.like = test::write_file(dir / "not.gguf", "not a gguf file");
  EXPECT_THROW(write_random_model(o), IoError);
  EXPECT_FALSE(fs::exists(dir / "m.gguf"));
}

}  // namespace
}  // namespace ksparse::llm
