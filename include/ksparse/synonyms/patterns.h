// Candidate pairs from parenthetical glosses in Korean text: "한국어(English)" and
// "English(한국어)", with round, full-width, square and corner brackets (( ), （ ）, [ ], ［ ］,
// 「 」, 『 』, 【 】, 〔 〕, 〈 〉, 《 》).
//
// What is a match (everything else is counted as a rejection with a reason):
//  - ko(en): the Hangul run right before the bracket (optionally one space before it) must have
//    >= min_ko_syllables syllables and not be glued to Latin/digits ("FIFA월드컵(...)" is
//    "mixed"). The gloss must be Latin words (letters, digits, - ' . & allowed), with >= 2 letters,
//    no 4-digit number (dates), not a URL/domain, and not a 1-2 letter mixed-case symbol ("As",
//    chemical symbols). A multiword English name (every word capitalised) extends the Korean side
//    backwards over up to as many space-separated Hangul words ("조셉 바이든(Joseph Biden)"),
//    stopping at a word that ends in a particle ("주의"). An all-caps gloss of 2-6 letters is
//    flagged as an acronym
//    ("유럽연합(EU)"): kept (it is a true equivalent) unless keep_acronyms is false.
//  - en(ko): Latin words right before the bracket (up to max_en_words, leading the/a/an dropped)
//    and a gloss of Hangul words only, its last word's particle stripped.
//  - A gloss starting with Han characters ("국화(國花)", "이대호(李大浩, 1982년 ~ )") is a Hanja
//    gloss: reported separately, never a pair.
//  - Particles after the closing bracket ("당원대회(caucus)에서") are recognised and reported;
//    the Korean term before the bracket is never particle-stripped (the bracket marks its end).
//
// Pure functions and a single-threaded aggregator; no global state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ksparse/synonyms/dictionary.h"

namespace ksparse::synonyms {

struct PatternOptions {
  std::size_t max_gloss_chars = 60;  // longest bracket content considered, in code points
  std::size_t max_en_words = 5;      // longer English sides are rejected ("too_long")
  std::size_t max_ko_words = 4;      // Korean side extends over at most this many words
  std::size_t min_ko_syllables = 2;  // shorter Korean sides ("시(KST)") are rejected
  std::size_t min_en_letters = 2;    // English sides with fewer letters are rejected
  bool keep_acronyms = true;         // keep "유럽연합(EU)"-style all-caps glosses
  std::size_t max_evidence = 3;      // example sentences kept per pair by the aggregator
  std::size_t min_count = 1;         // aggregator: pairs seen fewer times are dropped
  void validate() const;             // throws ConfigError
};

enum class PatternKind : std::uint8_t { kKoEn, kEnKo };

struct PatternMatch {
  std::string ko;  // as written (NFC), spaces between words kept
  std::string en;  // as written
  PatternKind kind = PatternKind::kKoEn;
  std::string particle;    // particle right after the closing bracket ("에서"), or ""
  bool acronym = false;    // English side is an all-caps abbreviation
  std::size_t offset = 0;  // byte offset of the opening bracket in the NFC text
  std::string sentence;    // the sentence around the match (for evidence)
};

struct HanjaGloss {
  std::string ko;     // Hangul word before the bracket
  std::string hanja;  // leading Han run of the gloss
};

struct PatternScan {
  std::vector<PatternMatch> matches;
  std::vector<HanjaGloss> hanja;
  std::size_t brackets = 0;                     // bracketed spans examined
  std::map<std::string, std::size_t> rejected;  // reason -> count
};

// Scans one text (any normalisation; NFC is applied first).
PatternScan scan_patterns(std::string_view text, const PatternOptions& options = {});

// Aggregates matches over a corpus. Score of a pair (in [0, 1]):
//   score = form * c / (c + 1) * c / n_ko
// where c is the number of matches of the pair and n_ko the number of matches with the same
// Korean side: one sighting gives 0.5, repeated and consistent sightings approach 1, and a Korean
// term glossed with several English terms splits its weight. `form` is 1 for a lowercase gloss
// of up to 3 words or when the Korean transliterates the English (score >= 0.7), 0.5 for an
// acronym and 0.3 for a capitalised name/title or a longer phrase: those usually gloss a longer
// Korean phrase than the word before the bracket (위원회(IOC), 음반(Let's Talk About Love)).
class PatternAggregator {
 public:
  explicit PatternAggregator(PatternOptions options = {});

  void add_document(std::string_view doc_id, std::string_view text);

  // Pairs with count >= options.min_count as Source::kPattern provenance (count = matches, note =
  // "ko(en)"/"en(ko)" kinds, "acronym", "docs=N").
  Dictionary to_dictionary() const;

  std::size_t documents() const { return documents_; }
  std::size_t brackets() const { return brackets_; }
  std::size_t matches() const { return matches_; }
  std::size_t distinct_pairs() const { return pairs_.size(); }
  const std::map<std::string, std::size_t>& rejected() const { return rejected_; }
  // Hanja glosses: (ko, hanja) -> count.
  const std::map<std::pair<std::string, std::string>, std::size_t>& hanja() const { return hanja_; }

 private:
  struct Agg {
    std::size_t count = 0;
    std::size_t docs = 0;
    std::string last_doc;
    bool acronym = false;
    bool name = false;  // every English word capitalised (not an acronym)
    bool ko_en = false;
    bool en_ko = false;
    std::vector<Evidence> evidence;
  };
  PatternOptions options_;
  std::size_t documents_ = 0;
  std::size_t brackets_ = 0;
  std::size_t matches_ = 0;
  std::map<std::pair<std::string, std::string>, Agg> pairs_;  // (normalize_ko, normalize_en)
  std::map<std::string, std::size_t> rejected_;
  std::map<std::pair<std::string, std::string>, std::size_t> hanja_;
};

}  // namespace ksparse::synonyms
