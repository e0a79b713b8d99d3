// Unicode text utilities for Korean–English text: normalisation, lowercasing, character classes
// and a splitter into runs of one script.
//
// All functions take and return UTF-8, are pure, and are thread-safe (the ICU normalizer and case
// mapper they use are immutable singletons). Ill-formed UTF-8 never throws: it is treated as
// U+FFFD (see utf8.h), which is a punctuation-class character and so separates runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ksparse {

// Unicode Normalization Form C (canonical composition). Decomposed Hangul (conjoining jamo L V T)
// composes to precomposed syllables. ASCII input is returned unchanged without calling ICU.
std::string nfc(std::string_view s);

// Unicode Normalization Form KC: NFC plus compatibility mappings — full-width Latin/digits to
// ASCII ("ＡＢＣ１" -> "ABC1"), ligatures split ("ﬁ" -> "fi"), half-width katakana to full width,
// compatibility jamo to conjoining jamo ("ㅋ" U+314B -> U+110F), circled/parenthesised Hangul
// expanded ("㉠" -> "ᄀ", "㈜" -> "(주)").
std::string nfkc(std::string_view s);

// True when nfkc(s) == s; cheap for ASCII. Ill-formed input is never normalised.
bool is_nfkc(std::string_view s);

// Full Unicode lowercase mapping in the root locale (so "I" -> "i" also under a Turkish default
// locale; "Σ" at a word end -> "ς"). Hangul, Han and Kana have no case and are unchanged.
std::string to_lower(std::string_view s);

// Script class of one code point; what the run splitter and the analyzer key on.
enum class ScriptClass : std::uint8_t {
  kHangulSyllable,  // precomposed syllable U+AC00..U+D7A3
  kHangulJamo,      // conjoining, compatibility, half-width and extended jamo
  kLatin,           // letters of the Latin script (incl. accented and full-width forms)
  kHan,             // CJK ideographs (Hanja), incl. extensions, compatibility ideographs and 々
  kKana,            // Hiragana and Katakana (incl. half-width and the prolonged sound mark ー)
  kDigit,           // decimal digits of any script (general category Nd)
  kPunctuation,     // general categories P* and S* (symbols, emoji) and U+FFFD
  kSpace,           // White_Space, control characters, U+200B ZERO WIDTH SPACE
  kOther,           // letters of other scripts (Greek, Cyrillic, Thai, ...), unassigned, marks
};

ScriptClass script_class(char32_t c);

// Lowercase English name of the class ("hangul_syllable", "latin", ...), for logs and tests.
const char* script_class_name(ScriptClass c);

// `s` without leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r): a view into `s`.
std::string_view trim_ascii(std::string_view s);

// Classification helpers, consistent with script_class().
bool is_space(char32_t c);        // script_class(c) == kSpace
bool is_punctuation(char32_t c);  // script_class(c) == kPunctuation
inline bool is_hangul(ScriptClass c) {
  return c == ScriptClass::kHangulSyllable || c == ScriptClass::kHangulJamo;
}

// A combining mark (Mn, Mc, Me) or an invisible format character (Cf other than U+200B, e.g. soft
// hyphen, ZWJ, ZWNJ): it does not start a run of its own but extends the run before it.
bool is_run_extender(char32_t c);

// A maximal stretch of text in one script class.
struct TextRun {
  std::string_view text;   // view into the input passed to split_runs(); valid while it lives
  std::size_t offset = 0;  // byte offset of `text` in that input
  ScriptClass script = ScriptClass::kOther;
};

// Cuts `s` into runs of one script class: "BERT모델을 학습" -> [BERT][모델을][학습]. Hangul
// syllables and jamo form one run (its class is kHangulSyllable when it holds any syllable); run
// extenders join the preceding run. Space and punctuation runs are returned only when
// `keep_separators`; consecutive punctuation characters form one run. Ill-formed bytes act as
// punctuation and are never part of a returned non-separator run.
std::vector<TextRun> split_runs(std::string_view s, bool keep_separators = false);

}  // namespace ksparse
