// Parity with Hugging Face `tokenizers`: a vocabulary trained by `ksparse encoder train-vocab` on
// real Korean/English/mixed text, then every line encoded by `ksparse encoder tokenize` and by HF
// (tokenizer_hf_ref.py, run with KSPARSE_PYREF) must give identical ids, tokens and decoded text.
#ifdef KSPARSE_HAVE_TORCH

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/test_util.h"

namespace ksparse {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;
using test::run_program;
using test::TempDir;

const fs::path kScript = fs::path(KSPARSE_SOURCE_DIR) / "tests/integration/tokenizer_hf_ref.py";

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<json> parse_jsonl(const std::string& text) {
  std::vector<json> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) rows.push_back(json::parse(line));
  return rows;
}

// Runs the reference script; a missing `tokenizers` package fails with the way to install it.
void run_reference(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {KSPARSE_PYREF, kScript.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_program(argv);
  ASSERT_EQ(r.exit_code, 0) << "reference script failed (install the reference packages with "
                               "scripts/setup.sh, or `pip install tokenizers` into "
                            << KSPARSE_PYREF << "):\n"
                            << r.err;
}

struct Parity {
  std::size_t lines = 0;
  std::size_t id_mismatches = 0;
  std::size_t decode_mismatches = 0;
};

// Encodes `lines_file` both ways and counts the lines whose results differ.
Parity compare(const std::string& label, const fs::path& lines_file,
               const std::vector<std::string>& ours_args, const std::vector<std::string>& ref_args,
               const fs::path& ref_out) {
  Parity p;
  std::vector<std::string> cli = {"encoder", "tokenize", "--decode", "--input",
                                  lines_file.string()};
  cli.insert(cli.end(), ours_args.begin(), ours_args.end());
  auto ours_run = run_cli(cli);
  EXPECT_EQ(ours_run.exit_code, 0) << ours_run.err;
  std::vector<std::string> ref = {"encode", "--input", lines_file.string(), "--out",
                                  ref_out.string()};
  ref.insert(ref.end(), ref_args.begin(), ref_args.end());
  run_reference(ref);
  if (testing::Test::HasFatalFailure()) return p;
  auto ours = parse_jsonl(ours_run.out);
  auto theirs = parse_jsonl(test::read_file(ref_out));
  auto text = read_lines(lines_file);
  EXPECT_EQ(ours.size(), text.size());
  EXPECT_EQ(theirs.size(), text.size());
  p.lines = std::min(ours.size(), theirs.size());
  int shown = 0;
  for (std::size_t i = 0; i < p.lines; ++i) {
    bool ids_differ =
        ours[i]["ids"] != theirs[i]["ids"] || ours[i]["tokens"] != theirs[i]["tokens"];
    bool decode_differs = ours[i]["decoded"] != theirs[i]["decoded"];
    p.id_mismatches += ids_differ;
    p.decode_mismatches += decode_differs;
    if ((ids_differ || decode_differs) && shown++ < 5) {
      ADD_FAILURE() << label << " line " << i + 1 << ": " << text[i]
                    << "\n ours: " << ours[i].dump() << "\n   hf: " << theirs[i].dump();
    }
  }
  std::cout << "[parity] " << label << ": " << p.lines << " lines, " << p.id_mismatches
            << " id/token mismatches, " << p.decode_mismatches << " decode mismatches\n";
  return p;
}

TEST(TokenizerHf, TrainedVocabularyMatchesHuggingFace) {
  TempDir tmp;
  const fs::path data =
      test::shared_data("korquad-v1/KorQuAD_v1.0_dev.json").parent_path().parent_path();
  const fs::path lines = tmp / "lines.txt";
  run_reference({"corpus", "--data", data.string(), "--out", lines.string()});
  if (HasFatalFailure()) return;
  // Hand-written edge cases: accents, controls, CJK ranges, special tokens in text, long words.
  {
    std::ofstream out(lines, std::ios::app | std::ios::binary);
    out << test::read_file(test::fixture("encoder/edge_cases.txt"));
  }
  const std::size_t n_lines = read_lines(lines).size();
  ASSERT_GE(n_lines, 5000u);

  // A: Korean syllables kept (strip_accents off), loaded from tokenizer.json by both sides.
  auto train = run_cli({"encoder", "train-vocab", "--input", lines.string(), "--output",
                        (tmp / "syllable").string(), "--vocab-size", "16000"});
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const std::string json_path = (tmp / "syllable" / "tokenizer.json").string();
  Parity a = compare("tokenizer.json", lines, {"--tokenizer", json_path},
                     {"--tokenizer", json_path}, tmp / "hf_a.jsonl");
  EXPECT_EQ(a.lines, n_lines);
  EXPECT_EQ(a.id_mismatches, 0u);
  EXPECT_EQ(a.decode_mismatches, 0u);

  // Truncation to 24 ids, special tokens included.
  Parity t = compare("tokenizer.json, max_length 24", lines,
                     {"--tokenizer", json_path, "--max-length", "24"},
                     {"--tokenizer", json_path, "--max-length", "24"}, tmp / "hf_t.jsonl");
  EXPECT_EQ(t.id_mismatches + t.decode_mismatches, 0u);

  // B: BERT-uncased defaults (strip_accents follows lowercase: NFD, Hangul as jamo), trained with
  // --strip-accents and loaded from vocab.txt (HF: BertWordPieceTokenizer with its defaults).
  train = run_cli({"encoder", "train-vocab", "--input", lines.string(), "--output",
                   (tmp / "jamo").string(), "--vocab-size", "8000", "--strip-accents"});
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const std::string vocab_path = (tmp / "jamo" / "vocab.txt").string();
  Parity b = compare("vocab.txt, strip_accents", lines, {"--tokenizer", vocab_path},
                     {"--vocab", vocab_path, "--lowercase", "1", "--strip-accents", "-1"},
                     tmp / "hf_b.jsonl");
  EXPECT_EQ(b.lines, n_lines);
  EXPECT_EQ(b.id_mismatches, 0u);
  EXPECT_EQ(b.decode_mismatches, 0u);
}

}  // namespace
}  // namespace ksparse

#endif  // KSPARSE_HAVE_TORCH
