// Export parity with Hugging Face `transformers` (issue 6, acceptance 4): the folder SparseEncoder
// saves loads in `transformers` as BertForMaskedLM (and AutoTokenizer), and its logits on 20
// padded inputs match ours within 1e-4. The reference runs in KSPARSE_PYREF_HF, the venv that
// scripts/setup.sh creates (~/.cache/ksparse/deps/pyref-hf: Debian python3-torch +
// transformers 4.40.2); without it the test fails, it does not skip.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "ksparse/encoder/sparse_encoder.h"
#include "ksparse/encoder/wordpiece_trainer.h"
#include "sparse_encoder_internal.h"

namespace ksparse {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kScript = fs::path(KSPARSE_SOURCE_DIR) / "tests/unit/encoder/hf_export_ref.py";
const fs::path kPython = KSPARSE_PYREF_HF;
const char* const kNoPython =
    ": run scripts/setup.sh (creates ~/.cache/ksparse/deps/pyref-hf with python3-torch and "
    "transformers 4.40.2) or configure with -DKSPARSE_PYREF_HF=<python>";

// The non-empty lines of the mixed Korean/English fixture.
std::vector<std::string> fixture_lines() {
  std::vector<std::string> lines;
  std::ifstream in(test::fixture("encoder/mixed_lines.txt"));
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) lines.push_back(l);
  }
  return lines;
}

// A WordPiece vocabulary of up to `vocab_size` pieces trained on `lines` (min frequency 1).
WordPieceTokenizer train_tokenizer(const std::vector<std::string>& lines, std::size_t vocab_size) {
  WordPieceTrainerOptions to;
  to.vocab_size = vocab_size;
  to.min_frequency = 1;
  WordPieceTrainer trainer(to);
  for (const auto& l : lines) trainer.add_text(l);
  return trainer.train();
}

BertConfig small_config(std::int64_t hidden, std::int64_t layers, std::int64_t heads,
                        std::int64_t intermediate, std::int64_t max_positions) {
  BertConfig cfg;
  cfg.hidden_size = hidden;
  cfg.num_hidden_layers = layers;
  cfg.num_attention_heads = heads;
  cfg.intermediate_size = intermediate;
  cfg.max_position_embeddings = max_positions;
  return cfg;
}

TEST(HfExport, TransformersLoadsTheFolderAsBertForMaskedLMWithMatchingLogits) {
  ASSERT_TRUE(fs::exists(kPython)) << "no Python with transformers at " << kPython << kNoPython;
  test::TempDir dir;
  std::vector<std::string> lines = fixture_lines();
  auto tok = train_tokenizer(lines, 500);
  lines.resize(20);

  const BertConfig cfg = small_config(64, 3, 4, 160, 96);
  SparseEncoderSettings settings;
  settings.max_length = 96;
  auto enc = SparseEncoder::create(tok, cfg, settings, compute_idf(tok, lines), /*lexical_prior=*/true, 5);
  {
    // Move every parameter off its structured init (identity transform, unit LayerNorm, zero
    // biases) so that the comparison exercises every weight.
    torch::NoGradGuard g;
    torch::manual_seed(9);
    for (auto& p : enc.impl().model->parameters()) p.add_(torch::randn_like(p) * 0.02);
  }
  const fs::path model_dir = dir / "model";
  enc.save(model_dir);

  auto batch = encoder::detail::tokenize_batch(tok, lines, 96);
  torch::Tensor logits;
  {
    torch::NoGradGuard g;
    enc.impl().model->eval();
    logits = enc.impl().model->forward(batch.input_ids, batch.attention_mask).contiguous();
  }
  {
    std::ofstream bin(dir / "ours.bin", std::ios::binary);
    bin.write(static_cast<const char*>(logits.data_ptr()),
              static_cast<std::streamsize>(logits.numel() * sizeof(float)));
    std::ofstream rows(dir / "inputs.jsonl");
    for (std::size_t i = 0; i < lines.size(); ++i) {
      rows << json{{"text", lines[i]}, {"ids", tok.encode(lines[i]).ids}}.dump() << "\n";
    }
  }
  auto r = test::run_program({kPython.string(), kScript.string(), model_dir.string(),
                              (dir / "inputs.jsonl").string(), (dir / "ours.bin").string(),
                              (dir / "out.json").string()});
  ASSERT_EQ(r.exit_code, 0) << "reference failed (" << kPython << "):\n" << r.err;
  json out = json::parse(test::read_file(dir / "out.json"));
  std::printf("transformers %s: %d inputs, max |logit diff| %.3g (logits up to %.3g)\n",
              out["transformers"].get<std::string>().c_str(), out["inputs"].get<int>(),
              out["max_abs_diff"].get<double>(), out["logit_abs_max"].get<double>());
  EXPECT_EQ(out["inputs"], 20);
  EXPECT_EQ(out["tokenizer_mismatches"], 0);
  EXPECT_TRUE(out["missing_keys"].empty()) << out["missing_keys"].dump();
  EXPECT_TRUE(out["unexpected_keys"].empty()) << out["unexpected_keys"].dump();
  EXPECT_TRUE(out["mismatched_keys"].empty()) << out["mismatched_keys"].dump();
  EXPECT_LT(out["max_abs_diff"].get<double>(), 1e-4);
  EXPECT_GT(out["logit_abs_max"].get<double>(), 0.1);  // not a degenerate all-zero model
}

// The other direction: checkpoints that `transformers` writes (save_pretrained, safetensors) for
// BertForMaskedLM and DistilBertForMaskedLM load through SparseEncoder::load's name mapping and
// give transformers' logits.
TEST(HfImport, LoadsTransformersBertAndDistilBertCheckpoints) {
  ASSERT_TRUE(fs::exists(kPython)) << "no Python with transformers at " << kPython << kNoPython;
  test::TempDir dir;
  std::vector<std::string> lines = fixture_lines();
  auto tok = train_tokenizer(lines, 400);
  lines.resize(12);
  const BertConfig cfg = small_config(32, 1, 2, 64, 128);
  SparseEncoderSettings settings;
  settings.max_length = 128;
  SparseEncoder::create(tok, cfg, settings).save(dir / "ours");  // tokenizer files for HF
  {
    std::ofstream rows(dir / "inputs.jsonl");
    for (const auto& l : lines) rows << json{{"text", l}, {"ids", tok.encode(l).ids}}.dump() << "\n";
  }
  auto r = test::run_program({kPython.string(), kScript.string(), "--make-checkpoints",
                              (dir / "ours").string(), (dir / "inputs.jsonl").string(),
                              dir.path().string()});
  ASSERT_EQ(r.exit_code, 0) << "reference failed (" << kPython << "):\n" << r.err;
  auto batch = encoder::detail::tokenize_batch(tok, lines, 128);
  for (const std::string name : {"bert", "distilbert"}) {
    auto enc = SparseEncoder::load(dir / name);
    EXPECT_EQ(enc.settings().mode, EncoderMode::kSiamese) << name;  // no idf.json
    torch::Tensor ours;
    {
      torch::NoGradGuard g;
      ours = enc.impl().model->forward(batch.input_ids, batch.attention_mask);
    }
    std::string raw = test::read_file(dir / (name + ".bin"));
    ASSERT_EQ(raw.size(), static_cast<std::size_t>(ours.numel()) * sizeof(float)) << name;
    auto theirs = torch::from_blob(raw.data(), ours.sizes(), torch::kFloat).clone();
    auto valid = batch.attention_mask.unsqueeze(-1).to(torch::kFloat);
    const double diff = ((ours - theirs).abs() * valid).max().item<double>();
    const double scale = (theirs.abs() * valid).max().item<double>();
    std::printf("%s checkpoint from transformers: max |logit diff| %.3g (logits up to %.3g)\n",
                name.c_str(), diff, scale);
    EXPECT_LT(diff, 1e-4) << name;
    EXPECT_GT(scale, 0.1) << name;
  }
}

}  // namespace
}  // namespace ksparse
