#include "ksparse/core/text.h"

#include <unicode/bytestream.h>
#include <unicode/casemap.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include <climits>
#include <string>

#include "ksparse/core/error.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// ICU's StringPiece holds an int32_t length.
icu::StringPiece piece(std::string_view s) {
  if (s.size() > static_cast<std::size_t>(INT32_MAX)) {
    throw DataError("text of " + std::to_string(s.size()) +
                    " bytes exceeds ICU's 2 GiB limit for one string: split it into documents");
  }
  return icu::StringPiece(s.data(), static_cast<int32_t>(s.size()));
}

void check_icu(UErrorCode status, const char* what) {
  // Only an ICU installation without its data can fail here; nothing the caller can fix.
  if (U_FAILURE(status)) {
    throw Error(std::string(what) + " failed in ICU: " + u_errorName(status) +
                " (is the ICU data library installed?)");
  }
}

const icu::Normalizer2& nfc_normalizer() {
  static const icu::Normalizer2* n = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* p = icu::Normalizer2::getNFCInstance(status);
    check_icu(status, "NFC normaliser");
    return p;
  }();
  return *n;
}

const icu::Normalizer2& nfkc_normalizer() {
  static const icu::Normalizer2* n = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* p = icu::Normalizer2::getNFKCInstance(status);
    check_icu(status, "NFKC normaliser");
    return p;
  }();
  return *n;
}

std::string normalize(const icu::Normalizer2& n, std::string_view s, const char* what) {
  if (is_ascii(s)) return std::string(s);  // ASCII is invariant under NFC and NFKC
  // ICU's UTF-8 normaliser has its own rules for ill-formed input; replacing it first makes the
  // result match every other function here (one U+FFFD per maximal subpart).
  const std::string clean = utf8_valid(s) ? std::string() : utf8_sanitize(s);
  const std::string_view in = clean.empty() ? s : std::string_view(clean);
  std::string out;
  out.reserve(in.size());
  icu::StringByteSink<std::string> sink(&out);
  UErrorCode status = U_ZERO_ERROR;
  n.normalizeUTF8(0, piece(in), sink, nullptr, status);
  check_icu(status, what);
  return out;
}

bool in(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

ScriptClass classify_ascii(char32_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return ScriptClass::kLatin;
  if (c >= '0' && c <= '9') return ScriptClass::kDigit;
  if (c <= 0x20 || c == 0x7F) return ScriptClass::kSpace;  // controls, including \t \n \r
  return ScriptClass::kPunctuation;
}

// Fast ranges for the scripts that dominate Korean–English corpora; everything else asks ICU.
ScriptClass classify_slow(char32_t c) {
  if (c == 0x200B || u_isUWhiteSpace(static_cast<UChar32>(c))) return ScriptClass::kSpace;
  const int8_t gc = u_charType(static_cast<UChar32>(c));
  switch (gc) {
    case U_CONTROL_CHAR:
      return ScriptClass::kSpace;
    case U_DECIMAL_DIGIT_NUMBER:
      return ScriptClass::kDigit;
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
      return ScriptClass::kPunctuation;
    default:
      break;
  }
  if (c == 0x30FC || c == 0xFF70) return ScriptClass::kKana;  // prolonged sound mark (Common)
  UErrorCode status = U_ZERO_ERROR;
  const UScriptCode script = uscript_getScript(static_cast<UChar32>(c), &status);
  if (U_FAILURE(status)) return ScriptClass::kOther;
  const bool letter = u_isalpha(static_cast<UChar32>(c));
  switch (script) {
    case USCRIPT_HANGUL:
      return letter ? ScriptClass::kHangulJamo : ScriptClass::kOther;
    case USCRIPT_LATIN:
      return letter ? ScriptClass::kLatin : ScriptClass::kOther;
    case USCRIPT_HAN:
      return letter ? ScriptClass::kHan : ScriptClass::kOther;
    case USCRIPT_HIRAGANA:
    case USCRIPT_KATAKANA:
    case USCRIPT_KATAKANA_OR_HIRAGANA:
      return letter ? ScriptClass::kKana : ScriptClass::kOther;
    default:
      return ScriptClass::kOther;
  }
}

}  // namespace

std::string nfc(std::string_view s) { return normalize(nfc_normalizer(), s, "NFC"); }

std::string nfkc(std::string_view s) { return normalize(nfkc_normalizer(), s, "NFKC"); }

bool is_nfkc(std::string_view s) {
  if (is_ascii(s)) return true;
  if (!utf8_valid(s)) return false;
  UErrorCode status = U_ZERO_ERROR;
  const bool yes = nfkc_normalizer().isNormalizedUTF8(piece(s), status);
  check_icu(status, "NFKC check");
  return yes;
}

// True when some non-ASCII character of (well-formed) `s` changes under lowercasing. Korean text is
// mostly Hangul and CJK punctuation, which have no case; skipping ICU for it halves the cost.
bool has_non_ascii_cased(std::string_view s) {
  for (std::size_t pos = 0; pos < s.size();) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const char32_t c = utf8_next(s, pos);
    if (in(c, 0xAC00, 0xD7A3) || in(c, 0x3000, 0x9FFF)) continue;
    if (u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CHANGES_WHEN_LOWERCASED)) return true;
  }
  return false;
}

std::string_view trim_ascii(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const auto b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

std::string to_lower(std::string_view s) {
  const std::string clean = utf8_valid(s) ? std::string() : utf8_sanitize(s);
  const std::string_view in = clean.empty() ? s : std::string_view(clean);
  if (!has_non_ascii_cased(in)) {
    std::string out(in);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  std::string out;
  out.reserve(in.size());
  icu::StringByteSink<std::string> sink(&out);
  UErrorCode status = U_ZERO_ERROR;
  // "" is ICU's root locale (nullptr would mean the process default, e.g. Turkish dotless i).
  icu::CaseMap::utf8ToLower("", 0, piece(in), sink, nullptr, status);
  check_icu(status, "lowercase");
  return out;
}

ScriptClass script_class(char32_t c) {
  if (c < 0x80) return classify_ascii(c);
  if (in(c, 0xAC00, 0xD7A3)) return ScriptClass::kHangulSyllable;
  if (in(c, 0x1100, 0x11FF) || in(c, 0x3131, 0x318E) || in(c, 0xA960, 0xA97C) ||
      in(c, 0xD7B0, 0xD7FB) || in(c, 0xFFA1, 0xFFDC)) {
    return ScriptClass::kHangulJamo;
  }
  if (in(c, 0x4E00, 0x9FFF) || in(c, 0x3400, 0x4DBF)) return ScriptClass::kHan;
  if (in(c, 0x3041, 0x3096) || in(c, 0x30A1, 0x30FA)) return ScriptClass::kKana;
  if (in(c, 0x00C0, 0x024F) && c != 0xD7 && c != 0xF7) return ScriptClass::kLatin;
  if (c == kReplacementChar) return ScriptClass::kPunctuation;
  return classify_slow(c);
}

const char* script_class_name(ScriptClass c) {
  switch (c) {
    case ScriptClass::kHangulSyllable:
      return "hangul_syllable";
    case ScriptClass::kHangulJamo:
      return "hangul_jamo";
    case ScriptClass::kLatin:
      return "latin";
    case ScriptClass::kHan:
      return "han";
    case ScriptClass::kKana:
      return "kana";
    case ScriptClass::kDigit:
      return "digit";
    case ScriptClass::kPunctuation:
      return "punctuation";
    case ScriptClass::kSpace:
      return "space";
    case ScriptClass::kOther:
      return "other";
  }
  return "other";
}

bool is_space(char32_t c) { return script_class(c) == ScriptClass::kSpace; }

bool is_punctuation(char32_t c) { return script_class(c) == ScriptClass::kPunctuation; }

bool is_run_extender(char32_t c) {
  if (c < 0xAD || c == 0x200B) return false;
  const int8_t gc = u_charType(static_cast<UChar32>(c));
  return gc == U_NON_SPACING_MARK || gc == U_COMBINING_SPACING_MARK || gc == U_ENCLOSING_MARK ||
         gc == U_FORMAT_CHAR;
}

std::vector<TextRun> split_runs(std::string_view s, bool keep_separators) {
  std::vector<TextRun> runs;
  auto key = [](ScriptClass c) {
    return c == ScriptClass::kHangulJamo ? ScriptClass::kHangulSyllable : c;
  };
  auto is_separator = [](ScriptClass c) {
    return c == ScriptClass::kSpace || c == ScriptClass::kPunctuation;
  };
  bool open = false;
  TextRun cur;
  ScriptClass cur_key = ScriptClass::kOther;
  auto close = [&](std::size_t end) {
    if (!open) return;
    cur.text = s.substr(cur.offset, end - cur.offset);
    if (keep_separators || !is_separator(cur.script)) runs.push_back(cur);
    open = false;
  };
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t start = pos;
    const char32_t c = utf8_next(s, pos);
    const ScriptClass cls = script_class(c);
    // An extender continues a letter run; after a separator or at the start it counts as Other.
    if (open && !is_separator(cur.script) && cls == ScriptClass::kOther && is_run_extender(c)) {
      continue;
    }
    if (open && key(cls) == cur_key) {
      if (cls == ScriptClass::kHangulSyllable) cur.script = cls;
      continue;
    }
    close(start);
    open = true;
    cur.offset = start;
    cur.script = cls;
    cur_key = key(cls);
  }
  close(s.size());
  return runs;
}

}  // namespace ksparse
