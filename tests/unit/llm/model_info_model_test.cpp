// ModelInfo of the real GGUF (label "model"), cross-checked against our own GGUF reader.
#include "ksparse/llm/model.h"

#include <gtest/gtest.h>

#include <string>

#include "common/test_util.h"
#include "ksparse/llm/memory_plan.h"

namespace ksparse::llm {
namespace {

TEST(ModelInfo, RealModelAgreesWithTheGgufLayout) {
  ModelOptions o;
  o.path = test::test_model();
  o.n_gpu_layers = 0;
  const Model m(o);
  const ModelInfo& info = m.info();
  const GgufLayout l = read_gguf_layout(o.path);
  EXPECT_EQ(info.architecture, l.architecture);
  EXPECT_EQ(info.n_layer, l.n_layer);
  EXPECT_EQ(info.n_ctx_train, l.n_ctx_train);
  EXPECT_EQ(info.n_embd, l.n_embd);
  EXPECT_EQ(info.n_head, l.n_head);
  EXPECT_EQ(info.n_head_kv, l.n_head_kv.at(0));
  EXPECT_EQ(info.n_vocab, l.n_vocab);
  EXPECT_EQ(info.n_swa, l.n_swa);
  EXPECT_EQ(info.file_bytes, l.file_bytes);
  EXPECT_EQ(info.tensor_bytes, l.tensor_bytes);
  EXPECT_EQ(info.name, m.meta("general.name"));
  // Facts of google/gemma-3-270m as converted to GGUF.
  EXPECT_EQ(info.architecture, "gemma3");
  EXPECT_EQ(info.n_layer, 18);
  EXPECT_EQ(info.n_ctx_train, 32768);
  EXPECT_GT(info.n_params, 250'000'000u);
  EXPECT_LT(info.n_params, 300'000'000u);
  EXPECT_NE(info.file_type.find("Q4_K"), std::string::npos) << info.file_type;
  EXPECT_NE(info.description.find("gemma3"), std::string::npos) << info.description;
  // The base model's GGUF carries no chat template, and the info says so consistently.
  EXPECT_EQ(info.has_chat_template, !info.chat_template.empty());
  EXPECT_EQ(info.has_chat_template, !m.meta("tokenizer.chat_template").empty());
  // Gemma 3: 5 of every 6 layers use the sliding window.
  int swa = 0;
  for (bool b : l.swa_layer) swa += b ? 1 : 0;
  EXPECT_EQ(swa, 15);
}

TEST(ModelInfo, VocabOnlyLoadTokenizes) {
  ModelOptions o;
  o.path = test::test_model();
  o.vocab_only = true;
  const Model m(o);
  const auto toks = m.tokenize("Hello world", true);
  ASSERT_GE(toks.size(), 2u);
  std::string text;
  for (size_t i = 1; i < toks.size(); ++i) text += m.token_to_piece(toks[i]);
  EXPECT_EQ(text, "Hello world");
  EXPECT_EQ(m.tokenize("Hello world", false).size(), toks.size() - 1);  // BOS added only once
}

TEST(ModelInfo, LoadModesGiveTheSameModel) {
  ModelOptions o;
  o.path = test::test_model();
  o.n_gpu_layers = 0;
  o.load_mode = LoadMode::kRead;
  const Model read(o);
  o.load_mode = LoadMode::kMmap;
  const Model mapped(o);
  EXPECT_EQ(read.info().n_params, mapped.info().n_params);
  EXPECT_EQ(read.info().tensor_bytes, mapped.info().tensor_bytes);
}

}  // namespace
}  // namespace ksparse::llm
