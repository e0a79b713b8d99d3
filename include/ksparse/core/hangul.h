// Hangul: syllable <-> jamo decomposition and composition, and Revised Romanization of Korean.
//
// A precomposed syllable (U+AC00..U+D7A3) is initial (19 choices) x medial (21) x final (28,
// index 0 = none), per the Unicode Standard §3.12 arithmetic. Jamo come in two encodings:
// conjoining jamo (U+1100..U+11FF, positional: an initial ㄱ U+1100 differs from a final ㄱ
// U+11A8) and compatibility jamo (U+3131..U+318E, one letter per shape, as typed on a keyboard and
// as in "ㅋㅋ"). Index orders follow Unicode:
//   initial: ㄱ ㄲ ㄴ ㄷ ㄸ ㄹ ㅁ ㅂ ㅃ ㅅ ㅆ ㅇ ㅈ ㅉ ㅊ ㅋ ㅌ ㅍ ㅎ
//   medial:  ㅏ ㅐ ㅑ ㅒ ㅓ ㅔ ㅕ ㅖ ㅗ ㅘ ㅙ ㅚ ㅛ ㅜ ㅝ ㅞ ㅟ ㅠ ㅡ ㅢ ㅣ
//   final:   (none) ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄹ ㄺ ㄻ ㄼ ㄽ ㄾ ㄿ ㅀ ㅁ ㅂ ㅄ ㅅ ㅆ ㅇ ㅈ ㅊ ㅋ ㅌ ㅍ
//   ㅎ
//
// All functions are pure and thread-safe; string functions take and return UTF-8, pass every
// non-Hangul character through unchanged, and turn ill-formed bytes into U+FFFD.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ksparse {

inline constexpr char32_t kHangulSyllableFirst = 0xAC00;
inline constexpr char32_t kHangulSyllableLast = 0xD7A3;
inline constexpr int kHangulInitialCount = 19;
inline constexpr int kHangulMedialCount = 21;
inline constexpr int kHangulFinalCount = 28;  // including index 0, "no final"

// Jamo indices of one syllable (orders above).
struct HangulParts {
  int initial = 0;  // 0..18
  int medial = 0;   // 0..20
  int final = 0;    // 0..27, 0 = open syllable
  bool operator==(const HangulParts&) const = default;
};

bool is_hangul_syllable(char32_t c);  // U+AC00..U+D7A3
// Conjoining jamo: U+1100..U+11FF, extended-A U+A960..U+A97F, extended-B U+D7B0..U+D7FF.
bool is_conjoining_jamo(char32_t c);
bool is_compat_jamo(char32_t c);  // U+3131..U+318E (incl. archaic letters U+3165..U+318E)

// Parts of a precomposed syllable; nullopt when `c` is not one.
std::optional<HangulParts> decompose_syllable(char32_t c);
// The syllable with these parts; nullopt when an index is out of range.
std::optional<char32_t> compose_syllable(HangulParts parts);

// Conjoining jamo for an index (precondition: index in range; final index 0 is not a jamo).
char32_t initial_jamo(int initial);  // U+1100..U+1112
char32_t medial_jamo(int medial);    // U+1161..U+1175
char32_t final_jamo(int final);      // U+11A8..U+11C2, final >= 1
// Compatibility jamo for an index (final >= 1): initial_compat_jamo(0) == U'ㄱ' U+3131.
char32_t initial_compat_jamo(int initial);
char32_t medial_compat_jamo(int medial);
char32_t final_compat_jamo(int final);

// Index of a jamo in a position, accepting the conjoining jamo of that position or the matching
// compatibility jamo (ㄳ, for instance, has no initial index); nullopt otherwise.
std::optional<int> initial_index(char32_t jamo);
std::optional<int> medial_index(char32_t jamo);
std::optional<int> final_index(char32_t jamo);

// Compatibility jamo for a modern conjoining jamo (U+1100..U+1112, U+1161..U+1175,
// U+11A8..U+11C2); other code points are returned unchanged.
char32_t to_compat_jamo(char32_t c);

// Syllables -> conjoining jamo ("한" -> U+1112 U+1161 U+11AB); the Hangul part of NFD.
std::string hangul_decompose(std::string_view s);
// Conjoining L V [T] sequences -> syllables; LV syllable + T -> LVT; the Hangul part of NFC.
// Jamo that do not form a syllable are left as they are.
std::string hangul_compose(std::string_view s);

// Jamo-level form: syllables and modern conjoining jamo -> compatibility jamo, one per jamo
// ("한국" -> "ㅎㅏㄴㄱㅜㄱ", "닭" -> "ㄷㅏㄺ"; double letters and clusters stay one letter).
std::string hangul_to_compat_jamo(std::string_view s);
// Inverse of hangul_to_compat_jamo for well-formed input: composes runs of compatibility jamo the
// way a Korean keyboard IME does (consonant + vowel opens a syllable; a following consonant is its
// final unless a vowel follows it). Letters that cannot take part stay as they are ("ㅋㅋ").
std::string compat_jamo_to_hangul(std::string_view s);

// Revised Romanization of Korean (Ministry of Culture, 2000) of the single jamo values.
// Initial ㅇ is "" and ㄹ is "r"; finals are the romanization at a word end or before a consonant
// (ㄱ ㄲ ㅋ ㄳ ㄺ -> "k"; ㄷ ㅅ ㅆ ㅈ ㅊ ㅌ ㅎ -> "t"; ㅂ ㅍ ㅄ ㄿ -> "p"; ㄹ ㄼ ㄽ ㄾ ㅀ -> "l";
// ㅁ ㄻ -> "m"; ㅇ -> "ng"; final 0 -> "").
std::string_view romanize_initial(int initial);
std::string_view romanize_medial(int medial);
std::string_view romanize_final(int final);

struct RomanizeOptions {
  // true: apply the sound changes that RR transcribes between syllables of one word (see
  // romanize()). false: transcribe each syllable on its own (한국어 -> "hangukeo"), a stable
  // letter-level key.
  bool sound_changes = true;
};

// Revised Romanization, lowercase, without hyphens. Sound changes applied between adjacent
// syllables of one word (never across a space or other character):
//  - liaison: a final moves to a following silent ㅇ (한국어 hangugeo; clusters split: 읽어 ilgeo;
//    ㅎ drops: 좋아 joa, 많이 mani), with palatalization before 이 (같이 gachi, 굳이 guji);
//  - nasalisation: k/t/p finals before ㄴ ㅁ become ng/n/m (백마 baengma, 십만 simman);
//  - ㄹ after a final other than ㄴ/ㄹ is read ㄴ (종로 jongno, 독립 dongnip, 왕십리 wangsimni);
//  - liquidisation: ㄴ+ㄹ, ㄹ+ㄴ, ㄹ+ㄹ -> ll (신라 silla, 설날 seollal);
//  - ㅎ aspiration: final ㅎ before ㄱ ㄷ ㅈ -> k t ch (좋고 joko, 놓다 nota); ㄱ ㄷ ㅂ + ㅎ keep
//    "h" as RR prescribes for nouns (묵호 mukho).
// Not modelled (they need morphology or a dictionary): tensing (not transcribed by RR anyway),
// ㄴ-insertion (학여울 hangnyeoul comes out hagyeoul), ㄴ+ㄹ -> nn in compounds (생산량).
// Lone jamo are transcribed by their value (initial value for consonants, ㅇ -> "ng"); any other
// character is copied through. Input may be NFD (conjoining jamo); it is composed first.
std::string romanize(std::string_view hangul, const RomanizeOptions& options = {});

}  // namespace ksparse
