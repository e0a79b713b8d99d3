// WordPiece tokenizer compatible with Hugging Face BERT tokenizers (`vocab.txt` or a
// `tokenizer.json` whose model is WordPiece): BertNormalizer -> BertPreTokenizer -> greedy
// longest-match-first WordPiece with a continuation prefix -> [CLS] ... [SEP].
//
// A WordPieceTokenizer is immutable after construction; all const members are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ksparse/encoder/bert_text.h"

namespace ksparse {

struct WordPieceConfig {
  BertNormalizerOptions normalizer;
  std::string unk_token = "[UNK]";  // must be in the vocabulary
  std::string cls_token = "[CLS]";  // needed in the vocabulary only to add special tokens
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  std::string continuing_subword_prefix = "##";  // marks a piece that continues a word
  // Words longer than this many code points become [UNK] without being split. Must be >= 1.
  std::size_t max_input_chars_per_word = 100;
  // decode(): glue " ." " ," " 's" ... back together as HF's WordPiece decoder with cleanup does.
  bool decode_cleanup = true;

  void validate() const;  // throws ConfigError
};

struct EncodeOptions {
  bool add_special_tokens = true;  // [CLS] text [SEP]
  // Truncate so the result, special tokens included, has at most this many ids; 0 disables.
  // With special tokens it must be >= 2.
  std::size_t max_length = 0;

  void validate() const;  // throws ConfigError
};

struct Encoding {
  std::vector<std::int32_t> ids;
  std::vector<std::string> tokens;  // tokens[i] is the vocabulary entry of ids[i]
};

class WordPieceTokenizer {
 public:
  // `vocab[i]` gets id i. Throws ConfigError for a bad config or a vocabulary without unk_token,
  // DataError for duplicate entries. Special tokens present in the vocabulary
  // (unk/cls/sep/pad/mask) are matched verbatim in the raw input text before normalization, as HF
  // does for added tokens.
  WordPieceTokenizer(std::vector<std::string> vocab, WordPieceConfig config = {});

  // One token per line, id = line number (0-based); trailing whitespace of a line is ignored.
  // Throws IoError if unreadable, DataError (file:line) on duplicates.
  static WordPieceTokenizer from_vocab_txt(const std::filesystem::path& path,
                                           WordPieceConfig config = {});
  // HF tokenizer.json with model WordPiece; normalizer BertNormalizer (or null: no normalization),
  // pre_tokenizer BertPreTokenizer, post_processor BertProcessing/TemplateProcessing, decoder
  // WordPiece. Throws IoError / ModelError naming the file and the unsupported component.
  static WordPieceTokenizer from_tokenizer_json(const std::filesystem::path& path);
  // tokenizer.json when the file name ends in ".json", vocab.txt otherwise; a directory is
  // searched for tokenizer.json, then vocab.txt.
  static WordPieceTokenizer from_file(const std::filesystem::path& path);

  // WordPiece of one pre-tokenized word (already normalized): greedy longest match first, pieces
  // after the first carry the continuation prefix; a word that cannot be covered is [UNK].
  std::vector<std::string> tokenize_word(std::string_view word) const;
  // Normalize, pre-tokenize and WordPiece `text`; no special tokens added.
  std::vector<std::string> tokenize(std::string_view text) const;
  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  // Tokens joined by spaces, continuation pieces glued to the previous one. Ids out of range throw
  // DataError. Special tokens are dropped when `skip_special_tokens`.
  std::string decode(std::span<const std::int32_t> ids, bool skip_special_tokens = true) const;

  std::size_t vocab_size() const { return vocab_.size(); }
  // -1 when absent.
  std::int32_t token_to_id(std::string_view token) const;
  // Precondition: 0 <= id < vocab_size().
  const std::string& id_to_token(std::int32_t id) const { return vocab_[static_cast<size_t>(id)]; }
  const std::vector<std::string>& vocab() const { return vocab_; }
  const WordPieceConfig& config() const { return config_; }
  bool is_special(std::int32_t id) const;
  std::int32_t unk_id() const { return unk_id_; }
  std::int32_t cls_id() const { return token_to_id(config_.cls_token); }  // -1 when absent
  std::int32_t sep_id() const { return token_to_id(config_.sep_token); }
  std::int32_t pad_id() const { return token_to_id(config_.pad_token); }
  std::int32_t mask_id() const { return token_to_id(config_.mask_token); }

  void save_vocab_txt(const std::filesystem::path& path) const;
  // Writes a tokenizer.json that Hugging Face `tokenizers.Tokenizer.from_file` loads.
  void save_tokenizer_json(const std::filesystem::path& path) const;

 private:
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Appends the WordPiece ids of every word of the normalized, special-token-free `segment`.
  void encode_segment(std::string_view segment, Encoding& out) const;
  void add_word_pieces(std::string_view word, Encoding& out) const;

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, std::int32_t, StringHash, std::equal_to<>> ids_;
  WordPieceConfig config_;
  std::int32_t unk_id_ = -1;
  std::vector<std::string> special_tokens_;  // longest first, for verbatim matching
  std::vector<bool> special_ids_;            // by id
};

}  // namespace ksparse
