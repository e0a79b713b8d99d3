#include "ksparse/core/hangul.h"

#include <array>
#include <cstddef>

#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

constexpr char32_t kInitialBase = 0x1100;  // conjoining ᄀ
constexpr char32_t kMedialBase = 0x1161;   // conjoining ᅡ
constexpr char32_t kFinalBase = 0x11A7;    // one before conjoining ᆨ, so final index 1 maps to it
constexpr char32_t kCompatVowelBase = 0x314F;  // ㅏ
constexpr int kSyllablesPerInitial = kHangulMedialCount * kHangulFinalCount;

constexpr std::array<char32_t, kHangulInitialCount> kInitialCompat = {
    0x3131, 0x3132, 0x3134, 0x3137, 0x3138, 0x3139, 0x3141, 0x3142, 0x3143, 0x3145,
    0x3146, 0x3147, 0x3148, 0x3149, 0x314A, 0x314B, 0x314C, 0x314D, 0x314E};

// Index 0 ("no final") has no letter.
constexpr std::array<char32_t, kHangulFinalCount> kFinalCompat = {
    0,      0x3131, 0x3132, 0x3133, 0x3134, 0x3135, 0x3136, 0x3137, 0x3139, 0x313A,
    0x313B, 0x313C, 0x313D, 0x313E, 0x313F, 0x3140, 0x3141, 0x3142, 0x3144, 0x3145,
    0x3146, 0x3147, 0x3148, 0x314A, 0x314B, 0x314C, 0x314D, 0x314E};

// Revised Romanization tables (Ministry of Culture and Tourism notice 2000-8, articles 1-2).
constexpr std::array<std::string_view, kHangulInitialCount> kInitialRoman = {
    "g",  "kk", "n", "d",  "tt", "r", "m", "b", "pp", "s",
    "ss", "",   "j", "jj", "ch", "k", "t", "p", "h"};
constexpr std::array<std::string_view, kHangulMedialCount> kMedialRoman = {
    "a",  "ae", "ya", "yae", "eo", "e",  "yeo", "ye", "o",  "wa", "wae",
    "oe", "yo", "u",  "wo",  "we", "wi", "yu",  "eu", "ui", "i"};
constexpr std::array<std::string_view, kHangulFinalCount> kFinalRoman = {
    "",  "k", "k", "k", "n", "n", "n", "t",  "l", "k", "m", "l", "l", "l",
    "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"};

// Before a silent initial ㅇ the final (or the second consonant of a cluster) is carried over as
// the next syllable's onset: {what stays as coda, the onset}. ㅎ is not pronounced there.
struct Boundary {
  std::string_view coda;
  std::string_view onset;
};
constexpr std::array<Boundary, kHangulFinalCount> kLiaison = {{
    {"", ""},   {"", "g"}, {"", "kk"}, {"k", "s"}, {"", "n"},  {"n", "j"}, {"", "n"},
    {"", "d"},  {"", "r"}, {"l", "g"}, {"l", "m"}, {"l", "b"}, {"l", "s"}, {"l", "t"},
    {"l", "p"}, {"", "r"}, {"", "m"},  {"", "b"},  {"p", "s"}, {"", "s"},  {"", "ss"},
    {"ng", ""}, {"", "j"}, {"", "ch"}, {"", "k"},  {"", "t"},  {"", "p"},  {"", ""},
}};

// Initial indices used by the sound-change rules.
constexpr int kG = 0, kN = 2, kD = 3, kR = 5, kM = 6, kS = 9, kSilent = 11, kJ = 12;
constexpr int kMedialI = 20;  // ㅣ
// Final indices used by the sound-change rules.
constexpr int kFinalD = 7, kFinalLT = 13, kFinalNH = 6, kFinalLH = 15, kFinalH = 27;

// The class of a final by its sound at a syllable end (the representative of Standard
// Pronunciation articles 9-11), which decides how it assimilates.
enum class Coda { kNone, kK, kT, kP, kN, kL, kM, kNg };

Coda coda_class(int final) {
  switch (final) {
    case 0:
      return Coda::kNone;
    case 1:
    case 2:
    case 3:
    case 9:
    case 24:  // ㄱ ㄲ ㄳ ㄺ ㅋ
      return Coda::kK;
    case 7:
    case 19:
    case 20:
    case 22:
    case 23:
    case 25:
    case 27:  // ㄷ ㅅ ㅆ ㅈ ㅊ ㅌ ㅎ
      return Coda::kT;
    case 14:
    case 17:
    case 18:
    case 26:  // ㄿ ㅂ ㅄ ㅍ
      return Coda::kP;
    case 4:
    case 5:
    case 6:  // ㄴ ㄵ ㄶ
      return Coda::kN;
    case 8:
    case 11:
    case 12:
    case 13:
    case 15:  // ㄹ ㄼ ㄽ ㄾ ㅀ
      return Coda::kL;
    case 10:
    case 16:  // ㄻ ㅁ
      return Coda::kM;
    default:  // 21 ㅇ
      return Coda::kNg;
  }
}

// How the final of one syllable and the initial of the next are written when they meet inside a
// word (Standard Pronunciation of Korean, articles 12-20, as far as RR transcribes them).
Boundary join(int final, int next_initial, int next_medial) {
  const Boundary plain{kFinalRoman[final], kInitialRoman[next_initial]};
  if (final == 0) return plain;
  if (next_initial == kSilent) {
    // Palatalization (article 17): ㄷ ㅌ before 이 are read ㅈ ㅊ.
    if (next_medial == kMedialI) {
      if (final == kFinalD) return {"", "j"};
      if (final == 25) return {"", "ch"};
      if (final == kFinalLT) return {"l", "ch"};
    }
    return kLiaison[final];
  }
  const Coda coda = coda_class(final);
  if (final == kFinalH || final == kFinalNH || final == kFinalLH) {
    // ㅎ merges with a following plain stop into the aspirate (article 12).
    const std::string_view rest = final == kFinalH ? "" : (final == kFinalNH ? "n" : "l");
    if (next_initial == kG) return {rest, "k"};
    if (next_initial == kD) return {rest, "t"};
    if (next_initial == kJ) return {rest, "ch"};
    if (next_initial == kS) return {rest, "s"};
    if (next_initial == kN) return final == kFinalLH ? Boundary{"l", "l"} : Boundary{"n", "n"};
  }
  if (next_initial == kN || next_initial == kM) {
    // Nasalisation (article 18) and ㄹ+ㄴ liquidisation (article 20).
    switch (coda) {
      case Coda::kK:
        return {"ng", plain.onset};
      case Coda::kT:
        return {"n", plain.onset};
      case Coda::kP:
        return {"m", plain.onset};
      case Coda::kL:
        return next_initial == kN ? Boundary{"l", "l"} : plain;
      default:
        return plain;
    }
  }
  if (next_initial == kR) {
    // ㄴ+ㄹ and ㄹ+ㄹ are read ll (article 20); after any other final ㄹ is read ㄴ (article 19),
    // and a k/t/p final then nasalises before that ㄴ (백로 baengno, 독립 dongnip).
    switch (coda) {
      case Coda::kN:
      case Coda::kL:
        return {"l", "l"};
      case Coda::kM:
        return {"m", "n"};
      case Coda::kNg:
        return {"ng", "n"};
      case Coda::kK:
        return {"ng", "n"};
      case Coda::kT:
        return {"n", "n"};
      case Coda::kP:
        return {"m", "n"};
      case Coda::kNone:
        return plain;
    }
  }
  return plain;
}

void romanize_word(const std::u32string& text, std::size_t begin, std::size_t end, bool sound,
                   std::string& out) {
  // Onsets of each syllable are decided by the boundary before it, so keep the pending onset.
  std::string_view onset;
  for (std::size_t i = begin; i < end; ++i) {
    const HangulParts p = *decompose_syllable(text[i]);
    if (i == begin || !sound) onset = kInitialRoman[p.initial];
    out.append(onset);
    out.append(kMedialRoman[p.medial]);
    if (sound && i + 1 < end) {
      const HangulParts next = *decompose_syllable(text[i + 1]);
      const Boundary b = join(p.final, next.initial, next.medial);
      out.append(b.coda);
      onset = b.onset;
    } else {
      out.append(kFinalRoman[p.final]);
    }
  }
}

void romanize_lone_jamo(char32_t c, std::string& out) {
  if (c == 0x3147 || c == 0x110B) {
    out.append("ng");  // ㅇ on its own
  } else if (is_compat_jamo(c) || (c >= 0x1100 && c <= 0x1112)) {
    if (const auto i = initial_index(c)) {
      out.append(kInitialRoman[*i]);
    } else if (const auto m = medial_index(c)) {
      out.append(kMedialRoman[*m]);
    } else if (const auto f = final_index(c)) {
      out.append(kFinalRoman[*f]);
    } else {
      utf8_append(out, c);  // archaic letter
    }
  } else if (const auto m = medial_index(c)) {
    out.append(kMedialRoman[*m]);
  } else if (const auto f = final_index(c)) {
    out.append(kFinalRoman[*f]);
  } else {
    utf8_append(out, c);
  }
}

}  // namespace

bool is_hangul_syllable(char32_t c) {
  return c >= kHangulSyllableFirst && c <= kHangulSyllableLast;
}

bool is_conjoining_jamo(char32_t c) {
  return (c >= 0x1100 && c <= 0x11FF) || (c >= 0xA960 && c <= 0xA97F) ||
         (c >= 0xD7B0 && c <= 0xD7FF);
}

bool is_compat_jamo(char32_t c) { return c >= 0x3131 && c <= 0x318E; }

std::optional<HangulParts> decompose_syllable(char32_t c) {
  if (!is_hangul_syllable(c)) return std::nullopt;
  const int s = static_cast<int>(c - kHangulSyllableFirst);
  return HangulParts{s / kSyllablesPerInitial, (s % kSyllablesPerInitial) / kHangulFinalCount,
                     s % kHangulFinalCount};
}

std::optional<char32_t> compose_syllable(HangulParts p) {
  if (p.initial < 0 || p.initial >= kHangulInitialCount || p.medial < 0 ||
      p.medial >= kHangulMedialCount || p.final < 0 || p.final >= kHangulFinalCount) {
    return std::nullopt;
  }
  return kHangulSyllableFirst + static_cast<char32_t>(p.initial * kSyllablesPerInitial +
                                                      p.medial * kHangulFinalCount + p.final);
}

char32_t initial_jamo(int initial) { return kInitialBase + static_cast<char32_t>(initial); }
char32_t medial_jamo(int medial) { return kMedialBase + static_cast<char32_t>(medial); }
char32_t final_jamo(int final) { return kFinalBase + static_cast<char32_t>(final); }
char32_t initial_compat_jamo(int initial) {
  return kInitialCompat[static_cast<std::size_t>(initial)];
}
char32_t medial_compat_jamo(int medial) { return kCompatVowelBase + static_cast<char32_t>(medial); }
char32_t final_compat_jamo(int final) { return kFinalCompat[static_cast<std::size_t>(final)]; }

std::optional<int> initial_index(char32_t c) {
  if (c >= kInitialBase && c < kInitialBase + kHangulInitialCount) {
    return static_cast<int>(c - kInitialBase);
  }
  for (int i = 0; i < kHangulInitialCount; ++i) {
    if (kInitialCompat[static_cast<std::size_t>(i)] == c) return i;
  }
  return std::nullopt;
}

std::optional<int> medial_index(char32_t c) {
  if (c >= kMedialBase && c < kMedialBase + kHangulMedialCount) {
    return static_cast<int>(c - kMedialBase);
  }
  if (c >= kCompatVowelBase && c < kCompatVowelBase + kHangulMedialCount) {
    return static_cast<int>(c - kCompatVowelBase);
  }
  return std::nullopt;
}

std::optional<int> final_index(char32_t c) {
  if (c > kFinalBase && c < kFinalBase + kHangulFinalCount) return static_cast<int>(c - kFinalBase);
  for (int i = 1; i < kHangulFinalCount; ++i) {
    if (kFinalCompat[static_cast<std::size_t>(i)] == c) return i;
  }
  return std::nullopt;
}

char32_t to_compat_jamo(char32_t c) {
  if (c >= kInitialBase && c < kInitialBase + kHangulInitialCount) {
    return initial_compat_jamo(static_cast<int>(c - kInitialBase));
  }
  if (c >= kMedialBase && c < kMedialBase + kHangulMedialCount) {
    return medial_compat_jamo(static_cast<int>(c - kMedialBase));
  }
  if (c > kFinalBase && c < kFinalBase + kHangulFinalCount) {
    return final_compat_jamo(static_cast<int>(c - kFinalBase));
  }
  return c;
}

std::string hangul_decompose(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (std::size_t pos = 0; pos < s.size();) {
    const char32_t c = utf8_next(s, pos);
    if (const auto p = decompose_syllable(c)) {
      utf8_append(out, initial_jamo(p->initial));
      utf8_append(out, medial_jamo(p->medial));
      if (p->final != 0) utf8_append(out, final_jamo(p->final));
    } else {
      utf8_append(out, c);
    }
  }
  return out;
}

std::string hangul_compose(std::string_view s) {
  const std::u32string in = utf8_decode(s);
  std::string out;
  out.reserve(s.size());
  auto final_at = [&](std::size_t i) -> int {
    if (i >= in.size() || in[i] <= kFinalBase || in[i] >= kFinalBase + kHangulFinalCount) return 0;
    return static_cast<int>(in[i] - kFinalBase);
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char32_t c = in[i];
    const bool lead = c >= kInitialBase && c < kInitialBase + kHangulInitialCount;
    const bool vowel_next = i + 1 < in.size() && in[i + 1] >= kMedialBase &&
                            in[i + 1] < kMedialBase + kHangulMedialCount;
    if (lead && vowel_next) {
      HangulParts p{static_cast<int>(c - kInitialBase), static_cast<int>(in[i + 1] - kMedialBase),
                    final_at(i + 2)};
      utf8_append(out, *compose_syllable(p));
      i += p.final != 0 ? 2 : 1;
      continue;
    }
    if (const auto p = decompose_syllable(c); p && p->final == 0 && final_at(i + 1) != 0) {
      utf8_append(out, c + static_cast<char32_t>(final_at(i + 1)));
      ++i;
      continue;
    }
    utf8_append(out, c);
  }
  return out;
}

std::string hangul_to_compat_jamo(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (std::size_t pos = 0; pos < s.size();) {
    const char32_t c = utf8_next(s, pos);
    if (const auto p = decompose_syllable(c)) {
      utf8_append(out, initial_compat_jamo(p->initial));
      utf8_append(out, medial_compat_jamo(p->medial));
      if (p->final != 0) utf8_append(out, final_compat_jamo(p->final));
    } else {
      utf8_append(out, to_compat_jamo(c));
    }
  }
  return out;
}

std::string compat_jamo_to_hangul(std::string_view s) {
  const std::u32string in = utf8_decode(s);
  std::string out;
  out.reserve(s.size());
  auto compat_initial = [&](std::size_t i) -> std::optional<int> {
    if (i >= in.size() || !is_compat_jamo(in[i])) return std::nullopt;
    return initial_index(in[i]);
  };
  auto compat_medial = [&](std::size_t i) -> std::optional<int> {
    if (i >= in.size() || !is_compat_jamo(in[i])) return std::nullopt;
    return medial_index(in[i]);
  };
  auto compat_final = [&](std::size_t i) -> std::optional<int> {
    if (i >= in.size() || !is_compat_jamo(in[i])) return std::nullopt;
    return final_index(in[i]);
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto l = compat_initial(i);
    const auto v = compat_medial(i + 1);
    if (!l || !v) {
      utf8_append(out, in[i]);
      continue;
    }
    HangulParts p{*l, *v, 0};
    // The consonant after the vowel closes this syllable unless it opens the next one.
    if (const auto t = compat_final(i + 2); t && !compat_medial(i + 3)) p.final = *t;
    utf8_append(out, *compose_syllable(p));
    i += p.final != 0 ? 2 : 1;
  }
  return out;
}

std::string_view romanize_initial(int initial) {
  return kInitialRoman[static_cast<std::size_t>(initial)];
}
std::string_view romanize_medial(int medial) {
  return kMedialRoman[static_cast<std::size_t>(medial)];
}
std::string_view romanize_final(int final) { return kFinalRoman[static_cast<std::size_t>(final)]; }

std::string romanize(std::string_view hangul, const RomanizeOptions& options) {
  const std::u32string text = utf8_decode(hangul_compose(hangul));
  std::string out;
  out.reserve(hangul.size() * 2);
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_hangul_syllable(text[i])) {
      std::size_t end = i;
      while (end < text.size() && is_hangul_syllable(text[end])) ++end;
      romanize_word(text, i, end, options.sound_changes, out);
      i = end;
      continue;
    }
    if (is_compat_jamo(text[i]) || is_conjoining_jamo(text[i])) {
      romanize_lone_jamo(text[i], out);
    } else {
      utf8_append(out, text[i]);
    }
    ++i;
  }
  return out;
}

}  // namespace ksparse
