// WordPiece vocabulary training.
//
// What we do, step by step:
//  1. Words are counted after the same BertNormalizer + BertPreTokenizer the tokenizer runs, so the
//     vocabulary is learned on exactly the strings WordPiece will later see.
//  2. Every kept character enters the vocabulary twice, as "c" (word-initial) and "##c"
//     (continuation), as in BERT's released vocabularies. HF's trainer adds a "##c" only when it is
//     seen in a training word; adding both means any word made of known characters tokenizes
//     without [UNK], which matters for Hangul where many syllables are rare.
//  3. Each word starts as its characters (first plain, the rest prefixed) and we repeatedly merge
//     the best adjacent pair everywhere it occurs; the merged piece is the left piece followed by
//     the right one without its prefix. "Best" is either the most frequent pair, which is
//     byte-pair encoding (Sennrich et al., 2016, "Neural Machine Translation of Rare Words with
//     Subword Units") and what HF's WordPieceTrainer runs, or the pair maximising
//     count(ab) / (count(a) count(b)): the increase in unigram log-likelihood that Schuster &
//     Nakajima (2012, "Japanese and Korean Voice Search") use to pick WordPiece units, up to the
//     normalising constant. Pair counts are updated incrementally: only words containing the merged
//     pair are revisited.
//  4. Merging stops when the vocabulary reaches vocab_size or no pair occurs min_frequency times.
//     The vocabulary is: special tokens, characters, continuation characters, merges in order.
//
// WordPiece tokenization is greedy longest-match, not replay of the merges, so segmentations can
// differ from the training segmentation; that is inherent to WordPiece and is also true of HF's.
#include "ksparse/encoder/wordpiece_trainer.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "ksparse/core/error.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

using nlohmann::json;

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) |
         static_cast<std::uint32_t>(b);
}
std::int32_t pair_left(std::uint64_t k) { return static_cast<std::int32_t>(k >> 32); }
std::int32_t pair_right(std::uint64_t k) { return static_cast<std::int32_t>(k & 0xFFFFFFFFu); }

const char* score_name(MergeScore s) {
  return s == MergeScore::kFrequency ? "frequency" : "likelihood";
}

// Pieces of the vocabulary under construction plus the current segmentation of every word.
//
// The best pair comes from a lazy max-heap: an entry stores the score its pair had when pushed and
// is trusted only if the pair still has that score. Existing pairs only lose occurrences when a
// merge happens (their scores can only drop, under kFrequency), new pairs contain the merged piece
// and are pushed after the merge; under kLikelihood the merged pieces' counts drop, which raises
// the score of every pair containing them, so those pairs are pushed again too.
class MergeState {
 public:
  explicit MergeState(const WordPieceTrainerOptions& options)
      : options_(options), heap_(Worse{this}) {}

  std::int32_t intern(const std::string& piece, bool* added = nullptr) {
    auto [it, inserted] = ids_.emplace(piece, static_cast<std::int32_t>(pieces_.size()));
    if (inserted) {
      pieces_.push_back(piece);
      piece_freq_.push_back(0);
      piece_pairs_.emplace_back();
    }
    if (added != nullptr) *added = inserted;
    return it->second;
  }

  void add_word(std::vector<std::int32_t> seq, std::uint64_t count) {
    const auto w = static_cast<std::int32_t>(words_.size());
    words_.push_back(std::move(seq));
    counts_.push_back(count);
    visited_.push_back(0);
    account(w, +1, /*index_all=*/true);
  }

  // Call once after the last add_word().
  void start() {
    for (const auto& [key, count] : pair_counts_) push(key);
  }

  // Best pair by the configured score, or nullopt when none reaches min_frequency.
  std::optional<std::uint64_t> best_pair() {
    while (!heap_.empty()) {
      Candidate top = heap_.top();
      double current = score(top.key);
      if (current == top.score) return top.key;
      heap_.pop();
      // Lower now: re-queue at the true score. Higher: a fresher entry is already queued.
      if (current >= 0.0 && current < top.score) heap_.push({current, top.key});
    }
    return std::nullopt;
  }

  // Replaces every (a, b) by `merged` in all words containing it.
  void merge(std::uint64_t key, std::int32_t merged) {
    const std::int32_t a = pair_left(key);
    const std::int32_t b = pair_right(key);
    ++stamp_;
    fresh_pairs_.clear();
    std::vector<std::int32_t> words = std::move(pair_words_[key]);
    for (std::int32_t w : words) {
      if (visited_[w] == stamp_) continue;
      visited_[w] = stamp_;
      auto& seq = words_[w];
      account(w, -1, false);
      std::vector<std::int32_t> out;
      out.reserve(seq.size());
      for (std::size_t i = 0; i < seq.size(); ++i) {
        if (i + 1 < seq.size() && seq[i] == a && seq[i + 1] == b) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(seq[i]);
        }
      }
      seq.swap(out);
      account(w, +1, false, merged);
    }
    pair_counts_.erase(key);
    pair_words_.erase(key);
    for (std::uint64_t k : fresh_pairs_) push(k);
    if (options_.score == MergeScore::kLikelihood) {
      for (std::int32_t piece : {a, b}) {
        for (std::uint64_t k : piece_pairs_[piece]) push(k);
      }
    }
  }

  const std::string& piece(std::int32_t id) const { return pieces_[id]; }

 private:
  struct Candidate {
    double score;
    std::uint64_t key;
  };
  // Heap order: lower score first out last; equal scores pop the lexicographically smaller pair.
  struct Worse {
    const MergeState* state;
    bool operator()(const Candidate& x, const Candidate& y) const {
      if (x.score != y.score) return x.score < y.score;
      return state->tie_before(y.key, x.key);
    }
  };

  // Current score, or -1 when the pair is gone or below min_frequency.
  double score(std::uint64_t key) const {
    auto it = pair_counts_.find(key);
    if (it == pair_counts_.end() ||
        it->second < static_cast<std::int64_t>(options_.min_frequency)) {
      return -1.0;
    }
    double s = static_cast<double>(it->second);
    if (options_.score == MergeScore::kLikelihood) {
      s /= static_cast<double>(piece_freq_[pair_left(key)]) *
           static_cast<double>(piece_freq_[pair_right(key)]);
    }
    return s;
  }

  void push(std::uint64_t key) {
    double s = score(key);
    if (s >= 0.0) heap_.push({s, key});
  }

  // Adds (sign +1) or removes (-1) word w's pieces and adjacent pairs from the statistics. New
  // pairs are indexed for the word when index_all, or when they contain `fresh`. Pairs whose count
  // reaches 0 are kept (score() treats them as absent), so each key is indexed per piece once.
  void account(std::int32_t w, int sign, bool index_all, std::int32_t fresh = -1) {
    const auto& seq = words_[w];
    const auto c = static_cast<std::int64_t>(counts_[w]) * sign;
    for (std::size_t i = 0; i < seq.size(); ++i) {
      piece_freq_[seq[i]] += c;
      if (i + 1 == seq.size()) break;
      std::uint64_t key = pair_key(seq[i], seq[i + 1]);
      auto [it, inserted] = pair_counts_.try_emplace(key, 0);
      it->second += c;
      if (inserted && options_.score == MergeScore::kLikelihood) {
        piece_pairs_[seq[i]].push_back(key);
        if (seq[i + 1] != seq[i]) piece_pairs_[seq[i + 1]].push_back(key);
      }
      if (sign > 0 && (index_all || seq[i] == fresh || seq[i + 1] == fresh)) {
        pair_words_[key].push_back(w);
        if (!index_all) fresh_pairs_.push_back(key);
      }
    }
  }

  bool tie_before(std::uint64_t x, std::uint64_t y) const {
    const std::string& xl = pieces_[pair_left(x)];
    const std::string& yl = pieces_[pair_left(y)];
    if (xl != yl) return xl < yl;
    return pieces_[pair_right(x)] < pieces_[pair_right(y)];
  }

  const WordPieceTrainerOptions& options_;
  std::vector<std::string> pieces_;
  std::unordered_map<std::string, std::int32_t> ids_;
  std::vector<std::int64_t> piece_freq_;
  std::vector<std::vector<std::uint64_t>> piece_pairs_;  // pairs containing a piece (kLikelihood)
  std::vector<std::vector<std::int32_t>> words_;
  std::vector<std::uint64_t> counts_;
  std::vector<std::uint32_t> visited_;
  std::uint32_t stamp_ = 0;
  std::unordered_map<std::uint64_t, std::int64_t> pair_counts_;
  // Words that may contain the pair (possibly stale or repeated; merge() rechecks).
  std::unordered_map<std::uint64_t, std::vector<std::int32_t>> pair_words_;
  std::vector<std::uint64_t> fresh_pairs_;
  std::priority_queue<Candidate, std::vector<Candidate>, Worse> heap_;
};

}  // namespace

void WordPieceTrainerOptions::validate() const {
  if (min_frequency == 0) throw ConfigError("min_frequency is 0: use 1 or more");
  if (continuing_subword_prefix.empty()) {
    throw ConfigError("continuing_subword_prefix is empty: use e.g. ##");
  }
  if (max_input_chars_per_word == 0) throw ConfigError("max_input_chars_per_word is 0: use >= 1");
  if (std::find(special_tokens.begin(), special_tokens.end(), "[UNK]") == special_tokens.end()) {
    throw ConfigError("special_tokens must contain [UNK] (the tokenizer's unknown token)");
  }
  std::unordered_set<std::string> seen;
  for (const auto& t : special_tokens) {
    if (t.empty() || !seen.insert(t).second) {
      throw ConfigError("special_tokens has an empty or repeated entry '" + t + "'");
    }
  }
}

WordPieceTrainer::WordPieceTrainer(WordPieceTrainerOptions options) : options_(std::move(options)) {
  options_.validate();
}

void WordPieceTrainer::add_text(std::string_view text) {
  ++stats_.lines;
  for (std::string& word : bert_pre_tokenize(bert_normalize(text, options_.normalizer))) {
    if (utf8_length(word) > options_.max_input_chars_per_word) continue;
    ++counts_[std::move(word)];
    ++stats_.words;
  }
}

void WordPieceTrainer::add_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open corpus " + path.string() + ": check the path");
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::size_t bad = 0;
    if (!utf8_valid(line, &bad)) {
      throw DataError(where(path, line_no) + ": invalid UTF-8 at byte " + std::to_string(bad) +
                      " of the line: re-encode the corpus as UTF-8");
    }
    add_text(line);
  }
}

WordPieceTokenizer WordPieceTrainer::train() {
  if (counts_.empty()) {
    throw DataError("the training corpus has no words: give add_text/add_file non-empty text");
  }
  stats_.unique_words = counts_.size();
  stats_.merges = 0;

  // Character frequencies, weighted by word counts.
  std::unordered_map<char32_t, std::uint64_t> char_counts;
  for (const auto& [word, count] : counts_) {
    for (char32_t c : utf8_decode(word)) char_counts[c] += count;
  }
  std::vector<std::pair<char32_t, std::uint64_t>> chars(char_counts.begin(), char_counts.end());
  std::sort(chars.begin(), chars.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  if (options_.limit_alphabet > 0 && chars.size() > options_.limit_alphabet) {
    chars.resize(options_.limit_alphabet);
  }
  std::sort(chars.begin(), chars.end());
  std::unordered_set<char32_t> alphabet;
  for (const auto& [c, n] : chars) alphabet.insert(c);
  stats_.alphabet = alphabet.size();

  std::vector<std::string> vocab = options_.special_tokens;
  MergeState state(options_);
  for (const auto& t : options_.special_tokens) state.intern(t);
  const std::string& prefix = options_.continuing_subword_prefix;
  for (const auto& [c, n] : chars) {
    std::string s = utf8_encode(std::u32string(1, c));
    bool added = false;
    state.intern(s, &added);
    if (added) vocab.push_back(s);
  }
  for (const auto& [c, n] : chars) {
    std::string s = prefix + utf8_encode(std::u32string(1, c));
    bool added = false;
    state.intern(s, &added);
    if (added) vocab.push_back(s);
  }

  for (const auto& [word, count] : counts_) {
    std::u32string cps = utf8_decode(word);
    if (!std::all_of(cps.begin(), cps.end(), [&](char32_t c) { return alphabet.count(c) > 0; })) {
      continue;
    }
    std::vector<std::int32_t> seq;
    seq.reserve(cps.size());
    for (std::size_t i = 0; i < cps.size(); ++i) {
      std::string s = (i == 0 ? std::string() : prefix) + utf8_encode(std::u32string(1, cps[i]));
      seq.push_back(state.intern(s));
    }
    state.add_word(std::move(seq), count);
  }
  state.start();

  while (vocab.size() < options_.vocab_size) {
    auto best = state.best_pair();
    if (!best) break;
    const std::string& right = state.piece(pair_right(*best));
    std::string merged = state.piece(pair_left(*best)) + right.substr(prefix.size());
    bool added = false;
    std::int32_t id = state.intern(merged, &added);
    if (added) vocab.push_back(merged);
    state.merge(*best, id);
    ++stats_.merges;
  }

  WordPieceConfig config;
  config.normalizer = options_.normalizer;
  config.continuing_subword_prefix = prefix;
  config.max_input_chars_per_word = options_.max_input_chars_per_word;
  return WordPieceTokenizer(std::move(vocab), std::move(config));
}

void write_trained_tokenizer(const std::filesystem::path& dir, const WordPieceTokenizer& tokenizer,
                             const WordPieceTrainerOptions& options,
                             const WordPieceTrainStats& stats) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create " + dir.string() + ": " + ec.message());
  tokenizer.save_vocab_txt(dir / "vocab.txt");
  tokenizer.save_tokenizer_json(dir / "tokenizer.json");
  const BertNormalizerOptions& n = options.normalizer;
  json spec = {{"format", "ksparse.wordpiece_trainer_spec"},
               {"format_version", 1},
               {"options",
                {{"vocab_size", options.vocab_size},
                 {"min_frequency", options.min_frequency},
                 {"limit_alphabet", options.limit_alphabet},
                 {"score", score_name(options.score)},
                 {"normalizer",
                  {{"clean_text", n.clean_text},
                   {"handle_chinese_chars", n.handle_chinese_chars},
                   {"strip_accents", n.strip_accents ? json(*n.strip_accents) : json()},
                   {"lowercase", n.lowercase}}},
                 {"special_tokens", options.special_tokens},
                 {"continuing_subword_prefix", options.continuing_subword_prefix},
                 {"max_input_chars_per_word", options.max_input_chars_per_word}}},
               {"stats",
                {{"lines", stats.lines},
                 {"words", stats.words},
                 {"unique_words", stats.unique_words},
                 {"alphabet", stats.alphabet},
                 {"merges", stats.merges},
                 {"vocab_size", tokenizer.vocab_size()}}}};
  std::ofstream out(dir / "trainer_spec.json", std::ios::binary);
  out << spec.dump(2) << '\n';
  if (!out) throw IoError("cannot write " + (dir / "trainer_spec.json").string());
}

}  // namespace ksparse
