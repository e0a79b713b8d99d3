// `ksparse encoder ...`: the encoder module (libtorch runtime, WordPiece tokenizer and trainer).
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/encoder/torch_info.h"
#include "ksparse/encoder/wordpiece.h"
#include "ksparse/encoder/wordpiece_trainer.h"

namespace ksparse::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  std::string input = "-";
  std::size_t max_length = 0;
  bool no_special = false;
  bool decode = false;
};

void run_tokenize(const TokenizeArgs& args) {
  WordPieceTokenizer tok = WordPieceTokenizer::from_file(args.tokenizer);
  EncodeOptions options;
  options.add_special_tokens = !args.no_special;
  options.max_length = args.max_length;
  options.validate();
  std::ifstream file;
  if (args.input != "-") {
    file.open(args.input, std::ios::binary);
    if (!file) throw IoError("cannot open " + args.input + ": check the path");
  }
  std::istream& in = args.input == "-" ? std::cin : file;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Encoding e = tok.encode(line, options);
    nlohmann::json j = {{"ids", e.ids}, {"tokens", e.tokens}};
    if (args.decode) j["decoded"] = tok.decode(e.ids);
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
}

struct TrainArgs {
  std::vector<std::string> inputs;
  std::string output;
  std::string score = "frequency";
  bool strip_accents = false;
  bool no_lowercase = false;
  WordPieceTrainerOptions options;
};

void run_train(TrainArgs& args) {
  args.options.score =
      args.score == "likelihood" ? MergeScore::kLikelihood : MergeScore::kFrequency;
  args.options.normalizer.strip_accents = args.strip_accents;
  args.options.normalizer.lowercase = !args.no_lowercase;
  WordPieceTrainer trainer(args.options);
  for (const auto& path : args.inputs) trainer.add_file(path);
  WordPieceTokenizer tok = trainer.train();
  write_trained_tokenizer(args.output, tok, trainer.options(), trainer.stats());
  const auto& s = trainer.stats();
  spdlog::info("trained {} pieces ({} merges, alphabet {}) from {} words ({} distinct) -> {}",
               tok.vocab_size(), s.merges, s.alphabet, s.words, s.unique_words, args.output);
}

}  // namespace

void add_torch_commands(CLI::App& app) {
  auto* encoder =
      app.add_subcommand("encoder", "Encoder: libtorch runtime, WordPiece tokenizer and trainer");
  encoder->require_subcommand(1);

  auto* info = encoder->add_subcommand(
      "info", "Print the libtorch version, threads, BLAS in use and CUDA availability");
  // Flags outlive this function: CLI11 writes them during parse, after registration returns.
  auto full = std::make_shared<bool>(false);
  info->add_flag("--build-config", *full, "Also print libtorch's full build configuration");
  info->callback([full] {
    TorchInfo t = torch_info();
    std::cout << format_torch_info(t);
    if (*full) std::cout << '\n' << t.build_config;
  });

  auto tok_args = std::make_shared<TokenizeArgs>();
  auto* tokenize = encoder->add_subcommand(
      "tokenize",
      "WordPiece-encode each input line; prints one JSON {ids, tokens[, decoded]} per line");
  tokenize
      ->add_option("--tokenizer", tok_args->tokenizer,
                   "vocab.txt, tokenizer.json, or a directory holding one")
      ->required();
  tokenize->add_option("--input", tok_args->input, "text file, one text per line; - for stdin")
      ->capture_default_str();
  tokenize
      ->add_option("--max-length", tok_args->max_length,
                   "truncate to this many ids, special tokens included; 0 = off")
      ->capture_default_str();
  tokenize->add_flag("--no-special", tok_args->no_special, "do not add [CLS] and [SEP]");
  tokenize->add_flag("--decode", tok_args->decode,
                     "also print the ids decoded back to text (special tokens skipped)");
  tokenize->callback([tok_args] { run_tokenize(*tok_args); });

  auto train_args = std::make_shared<TrainArgs>();
  auto& o = train_args->options;
  auto* train = encoder->add_subcommand(
      "train-vocab",
      "Train a WordPiece vocabulary; writes vocab.txt, tokenizer.json, trainer_spec.json");
  train->add_option("--input", train_args->inputs, "corpus files, one text per line")->required();
  train->add_option("--output", train_args->output, "output directory")->required();
  train->add_option("--vocab-size", o.vocab_size, "target vocabulary size, specials included")
      ->capture_default_str();
  train->add_option("--min-frequency", o.min_frequency, "minimum pair count to merge (>= 1)")
      ->capture_default_str();
  train
      ->add_option("--limit-alphabet", o.limit_alphabet,
                   "keep the N most frequent characters; 0 = all")
      ->capture_default_str();
  train->add_option("--score", train_args->score, "merge score: frequency (BPE) | likelihood")
      ->capture_default_str()
      ->check(CLI::IsMember({"frequency", "likelihood"}));
  train->add_flag("--strip-accents", train_args->strip_accents,
                  "NFD and drop accents (also splits Hangul into jamo)");
  train->add_flag("--no-lowercase", train_args->no_lowercase, "keep case");
  train->callback([train_args] { run_train(*train_args); });
}

}  // namespace ksparse::cli
