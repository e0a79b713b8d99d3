// Trains a WordPiece vocabulary (for a Korean-English BERT-style encoder) from raw text.
//
// Method (documented in wordpiece_trainer.cpp): count words after BERT normalization and
// pre-tokenization, start from every character in both forms ("c" and "##c"), then repeatedly merge
// the best adjacent pair of pieces until the vocabulary is full or no pair is frequent enough.
// "Best" is the most frequent pair (BPE-style, as HF's WordPieceTrainer) or, with
// MergeScore::kLikelihood, the pair with the highest count(ab) / (count(a) count(b)).
//
// A trainer is not thread-safe; train() is const and may run while no add_* call is in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ksparse/encoder/bert_text.h"
#include "ksparse/encoder/wordpiece.h"

namespace ksparse {

enum class MergeScore {
  kFrequency,   // count(ab): byte-pair-encoding merges (Sennrich et al., 2016)
  kLikelihood,  // count(ab) / (count(a) count(b)): the language-model gain of Schuster & Nakajima
};

struct WordPieceTrainerOptions {
  // Target vocabulary size, special tokens and the full alphabet included. The alphabet is never
  // cut to fit, so a corpus with more distinct characters than this yields a larger vocabulary.
  std::size_t vocab_size = 30000;
  // A pair is merged only if it occurs at least this many times (word frequencies included). >= 1.
  std::size_t min_frequency = 2;
  // Keep only the this many most frequent characters (ties: smaller code point); 0 keeps all.
  // Words with a dropped character do not take part in merges (they tokenize to [UNK]).
  std::size_t limit_alphabet = 0;
  MergeScore score = MergeScore::kFrequency;
  // Normalization used for counting and stored in the trained tokenizer. Default keeps Hangul
  // syllables whole (strip_accents off) while lowercasing English.
  BertNormalizerOptions normalizer{
      .clean_text = true, .handle_chinese_chars = true, .strip_accents = false, .lowercase = true};
  // Placed first, in this order (ids 0..n-1). Must contain the tokenizer's unk/cls/sep tokens.
  std::vector<std::string> special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::string continuing_subword_prefix = "##";
  // Words longer than this (code points) are not counted: the tokenizer maps them to [UNK].
  std::size_t max_input_chars_per_word = 100;

  void validate() const;  // throws ConfigError
};

struct WordPieceTrainStats {
  std::uint64_t lines = 0;         // texts given to add_text / lines of add_file
  std::uint64_t words = 0;         // word occurrences counted
  std::uint64_t unique_words = 0;  // distinct words at train()
  std::size_t alphabet = 0;        // distinct characters kept
  std::size_t merges = 0;          // merges performed by train()
};

class WordPieceTrainer {
 public:
  explicit WordPieceTrainer(WordPieceTrainerOptions options = {});  // validates

  // Normalizes and pre-tokenizes one text and counts its words.
  void add_text(std::string_view text);
  // One text per line. Throws IoError when unreadable, DataError (file:line) on invalid UTF-8.
  void add_file(const std::filesystem::path& path);

  // Runs the merges. Deterministic: ties go to the lexicographically smaller (left, right) pair.
  // Throws DataError when nothing was counted.
  WordPieceTokenizer train();

  const WordPieceTrainStats& stats() const { return stats_; }
  const WordPieceTrainerOptions& options() const { return options_; }
  const std::map<std::string, std::uint64_t>& word_counts() const { return counts_; }

 private:
  WordPieceTrainerOptions options_;
  std::map<std::string, std::uint64_t> counts_;
  WordPieceTrainStats stats_;
};

// Writes vocab.txt, tokenizer.json (loadable by HF `tokenizers`) and trainer_spec.json (the
// options and stats the vocabulary was trained with) into `dir`, creating it.
void write_trained_tokenizer(const std::filesystem::path& dir, const WordPieceTokenizer& tokenizer,
                             const WordPieceTrainerOptions& options,
                             const WordPieceTrainStats& stats);

}  // namespace ksparse
