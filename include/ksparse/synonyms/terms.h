// Term-level helpers shared by the synonym sources: normalised keys for Korean and English terms,
// Korean particle stripping, and word extraction (Korean words without particles, English words)
// used for vocabularies and trend statistics.
//
// All functions are pure and thread-safe; they take and return UTF-8.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ksparse::synonyms {

// Dictionary key of a Korean term: NFC, whitespace runs collapsed to one ' ', trimmed.
std::string normalize_ko(std::string_view term);
// Dictionary key of an English term: NFKC, root-locale lowercase, whitespace collapsed, trimmed.
std::string normalize_en(std::string_view term);

// True when `s` is non-empty and every code point is a precomposed Hangul syllable.
bool is_hangul_word(std::string_view s);
// True when `s` contains at least one Hangul syllable or jamo.
bool has_hangul(std::string_view s);
// True when `s` contains at least one Latin letter.
bool has_latin(std::string_view s);
// Number of precomposed Hangul syllables in `s`.
std::size_t hangul_syllables(std::string_view s);

// A Korean word split into stem and trailing particle (josa), e.g. "당원대회에서" -> {"당원대회",
// "에서"}. `particle` is empty when none was stripped.
struct StemParticle {
  std::string stem;
  std::string particle;
};

// Strips the longest trailing particle from a Hangul word when the remaining stem keeps at least
// `min_stem_syllables` syllables (default 2, so that nouns ending in a particle-like syllable such
// as "국가" or "회의" are left alone). Particles: case markers 이/가/을/를/은/는/의/에/에서/에게/
// 께/한테/으로/로/와/과/도/만/까지/부터/보다/처럼/라고/이라고/이나/랑/이랑/과의/와의/에서의/
// 에서는/에는/으로는/로는/로서/으로서/로써/으로써/밖에/조차/마저/마다/뿐, plural 들 + particle and
// a few combinations. Without morphology a noun ending in a particle-like syllable can lose it
// ("전문가" -> "전문"); callers that know the boundary (pattern extraction) do not strip.
// Without a particle (or when stripping would leave a too short stem) returns {word, ""}.
StemParticle strip_particle(std::string_view word, std::size_t min_stem_syllables = 2);

// The particle list used by strip_particle, longest first (exposed for tests and docs).
const std::vector<std::string>& korean_particles();

// Words of `text` for vocabularies and statistics: NFKC + lowercase; each Hangul run is one word
// with its particle stripped (strip_particle) and kept when it has >= `min_ko_syllables`
// syllables (a run glued to digits, "2008년에", is a counter and skipped); each Latin run (letters
// only; digits split) is one English word kept when it has >= `min_en_letters` letters. Hanja,
// digits, punctuation and other scripts are dropped. Order of occurrence, duplicates kept.
struct WordOptions {
  std::size_t min_ko_syllables = 2;
  std::size_t min_en_letters = 2;
};
std::vector<std::string> extract_words(std::string_view text, const WordOptions& options = {});

}  // namespace ksparse::synonyms
