// BERT normalization and pre-tokenization (Devlin et al., 2019, "BERT", section 3 and the released
// `tokenization.py`), following the behaviour of Hugging Face `tokenizers` where the two differ
// (HF's CJK ranges skip U+2B820..U+2B91F; its lowercase is per code point), because vocabularies
// and models are exchanged with that library. Behaviour was checked against it, not copied from it.
#include "ksparse/encoder/bert_text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include <algorithm>

#include "ksparse/core/error.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

bool all_ascii(std::u32string_view s) {
  return std::all_of(s.begin(), s.end(), [](char32_t c) { return c < 0x80; });
}

std::u32string from_unicode_string(const icu::UnicodeString& u) {
  std::u32string out;
  out.reserve(static_cast<size_t>(u.length()));
  for (int32_t i = 0; i < u.length();) {
    UChar32 c = u.char32At(i);
    out.push_back(static_cast<char32_t>(c));
    i += U16_LENGTH(c);
  }
  return out;
}

icu::UnicodeString to_unicode_string(std::u32string_view s) {
  return icu::UnicodeString::fromUTF32(reinterpret_cast<const UChar32*>(s.data()),
                                       static_cast<int32_t>(s.size()));
}

// NFD, then drop nonspacing marks: "é" -> "e" + U+0301 -> "e".
std::u32string strip_accents(const std::u32string& s) {
  if (all_ascii(s)) return s;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status))
    throw ModelError("ICU NFD normalizer unavailable: " + std::string(u_errorName(status)));
  icu::UnicodeString decomposed = nfd->normalize(to_unicode_string(s), status);
  if (U_FAILURE(status))
    throw DataError("NFD normalization failed: " + std::string(u_errorName(status)));
  std::u32string out;
  for (char32_t c : from_unicode_string(decomposed)) {
    if (u_charType(static_cast<UChar32>(c)) != U_NON_SPACING_MARK) out.push_back(c);
  }
  return out;
}

// Full lowercase mapping of each code point on its own (root locale): U+0130 "İ" becomes "i̇" (two
// code points) and Σ always becomes σ, matching a per-character mapping with no context.
void append_lowercase(std::u32string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    return;
  }
  UChar src[2];
  int32_t src_len = 0;
  U16_APPEND_UNSAFE(src, src_len, static_cast<UChar32>(c));
  UChar dst[8];
  UErrorCode status = U_ZERO_ERROR;
  int32_t n = u_strToLower(dst, 8, src, src_len, "", &status);
  if (U_FAILURE(status) || n > 8) {
    out.push_back(c);
    return;
  }
  for (int32_t i = 0; i < n;) {
    UChar32 lc;
    U16_NEXT(dst, i, n, lc);
    out.push_back(static_cast<char32_t>(lc));
  }
}

}  // namespace

bool bert_is_whitespace(char32_t c) {
  return c == '\t' || c == '\n' || c == '\r' || u_isUWhiteSpace(static_cast<UChar32>(c));
}

bool bert_is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return true;
    default:
      return false;
  }
}

bool bert_is_punctuation(char32_t c) {
  if ((c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
      (c >= 0x7B && c <= 0x7E)) {
    return true;
  }
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      return true;
    default:
      return false;
  }
}

bool bert_is_chinese_char(char32_t c) {
  // CJK Unified Ideographs and extensions A-F plus compatibility ideographs. Hangul (U+AC00..) and
  // kana are deliberately absent: they are written with spaces between words.
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::string bert_normalize(std::string_view text, const BertNormalizerOptions& options) {
  std::u32string s = utf8_decode(text);
  if (options.clean_text) {
    std::u32string cleaned;
    cleaned.reserve(s.size());
    for (char32_t c : s) {
      if (c == 0 || c == kReplacementChar || bert_is_control(c)) continue;
      cleaned.push_back(bert_is_whitespace(c) ? U' ' : c);
    }
    s.swap(cleaned);
  }
  if (options.handle_chinese_chars) {
    std::u32string spaced;
    spaced.reserve(s.size());
    for (char32_t c : s) {
      if (bert_is_chinese_char(c)) {
        spaced.push_back(U' ');
        spaced.push_back(c);
        spaced.push_back(U' ');
      } else {
        spaced.push_back(c);
      }
    }
    s.swap(spaced);
  }
  if (options.strip_accents_effective()) s = strip_accents(s);
  if (options.lowercase) {
    std::u32string lower;
    lower.reserve(s.size());
    for (char32_t c : s) append_lowercase(lower, c);
    s.swap(lower);
  }
  return utf8_encode(s);
}

std::vector<std::string> bert_pre_tokenize(std::string_view normalized) {
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (size_t pos = 0; pos < normalized.size();) {
    size_t start = pos;
    char32_t c = utf8_next(normalized, pos);
    if (bert_is_whitespace(c)) {
      flush();
    } else if (bert_is_punctuation(c)) {
      flush();
      words.emplace_back(normalized.substr(start, pos - start));
    } else {
      current.append(normalized.substr(start, pos - start));
    }
  }
  flush();
  return words;
}

}  // namespace ksparse
