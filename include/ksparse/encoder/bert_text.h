// BERT text preparation, compatible with Hugging Face `tokenizers`' BertNormalizer and
// BertPreTokenizer: what runs before WordPiece.
//
// Character classes follow the Unicode data of the linked ICU, which may be a newer Unicode version
// than the one HF's Rust crates use; code points assigned between the two versions can classify
// differently (for example a format character that clean_text deletes, or punctuation that the
// pre-tokenizer splits off). All functions are pure and
// thread-safe. Input that is not valid UTF-8 is decoded with U+FFFD for each ill-formed subpart
// (which clean_text then deletes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksparse {

struct BertNormalizerOptions {
  // Delete U+0000, U+FFFD and control, format, private-use and surrogate characters (categories
  // Cc Cf Co Cs; tab, LF and CR excepted; unassigned code points are kept, as in HF); map every
  // White_Space character to a plain space.
  bool clean_text = true;
  // Put spaces around CJK Unified Ideographs (BERT's ranges: Hangul and kana are not included), so
  // each ideograph becomes its own word.
  bool handle_chinese_chars = true;
  // NFD-decompose and delete nonspacing marks (Mn). nullopt follows `lowercase`, as in HF. Note
  // that NFD also decomposes Hangul syllables into conjoining jamo, which are letters and are kept:
  // with strip_accents on, Korean is tokenized as jamo.
  std::optional<bool> strip_accents;
  // Full Unicode lowercase mapping per code point (no context: final sigma stays σ).
  bool lowercase = true;

  bool strip_accents_effective() const { return strip_accents.value_or(lowercase); }
};

// Applies the normalizer steps in HF's order: clean_text, CJK spacing, strip accents, lowercase.
std::string bert_normalize(std::string_view text, const BertNormalizerOptions& options);

// Splits normalized text into words: White_Space separates (and is dropped); each punctuation
// character (ASCII punctuation, or Unicode categories Pc Pd Ps Pe Pi Pf Po) is a word of its own.
// Symbols outside ASCII (€, ©, →) are not punctuation and stay inside words.
std::vector<std::string> bert_pre_tokenize(std::string_view normalized);

// Predicates used above, exposed for tests and for the trainer.
bool bert_is_whitespace(char32_t c);
bool bert_is_control(char32_t c);
bool bert_is_punctuation(char32_t c);
bool bert_is_chinese_char(char32_t c);

}  // namespace ksparse
