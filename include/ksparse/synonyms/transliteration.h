// Loanword transliteration matching: is a Korean word a transliteration of an English word?
//
// Both sides are mapped to a small phone alphabet and compared with a weighted edit distance whose
// costs encode how English loanwords are written in Hangul (외래어 표기법 practice):
//  - consonant classes: ㄱ g / ㅋ k,c,q / ㄷ d / ㅌ t / ㅂ b,v / ㅍ p,f,ph / ㅅ s,th,sh / ㅈ j,z,
//    soft g / ㅊ ch,tch,-ture / ㄹ r,l / ㅁ m / ㄴ n / final ㅇ ng,n(k) / ㅎ h; near pairs (g~k,
//    d~t, b~p (f~p, v~b), j~ch, s~z, s~t for th and final ㅅ) substitute cheaply;
//  - epenthetic ㅡ (eu) after a consonant ("네트워크" net-eu-wo-keu) is almost free to drop, as is
//    the ㅣ ending "-ge/-dge/-sh" words ("이미지" image);
//  - ㅓ (eo) stands for English a, u, o, er, ir, ur and matches any vowel cheaply; post-vocalic r
//    is dropped (computer -> 컴퓨터, server -> 서버); -tion/-sion -> 션, -ture -> 처;
//  - glides (y, w) and diphthong halves (데이터 "dei" for data's "a") are cheap to insert.
// The score is 1 - distance / size, where size is the larger of the two sides' weighted lengths
// (consonant 1, vowel 0.5, glide 0.2, epenthetic vowel 0.1); 1 means the phone strings agree.
//
// Everything here is pure and thread-safe; a TransliterationMatcher is immutable after
// construction.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ksparse::synonyms {

struct TransliterationOptions {
  double min_score = 0.75;  // matches scoring lower are not returned
  std::size_t top_k = 5;    // at most this many matches per Korean word (0: all above min_score)
  // Compare only English words whose first two consonant classes equal the Korean word's (a
  // blocking key); false compares against the whole vocabulary (slow, for measurements).
  bool blocking = true;
  // Ranking prefers common English words among near-equal matches (센서: sensor over censer):
  // rank = score + prior_bonus * prior, prior = min(1, ln(1 + n) / ln(1 + prior_saturation)),
  // n = how often the word occurs in the vocabulary passed in (duplicates count). min_score and
  // the reported score use the similarity alone. prior_bonus 0 ranks by similarity only.
  double prior_bonus = 0.05;
  std::size_t prior_saturation = 20;
  void validate() const;  // throws ConfigError
};

// Phone strings (one ASCII letter per phone), exposed for tests and debugging. Consonants:
// G K N D T L M B P S J C H Q(=ng); vowels a e i o u E(=ㅓ) _(=epenthetic); glides y w.
std::string loanword_phones_ko(std::string_view ko);  // non-Hangul characters are skipped
std::string loanword_phones_en(std::string_view en);  // non-ASCII-letters are skipped

// Similarity in [0, 1] of a Korean word and an English word (see the file comment).
double transliteration_score(std::string_view ko, std::string_view en);

// Is a Korean word a loanword at all? Short native and Sino-Korean words (고리, 거리) sound like
// some English word often enough that the phonetic score alone is not precise, so candidates are
// first gated by this classifier: multinomial naive Bayes over the word's syllables and syllable
// bigrams (with word-boundary marks), add-one smoothing, class priors from the training counts.
// Loanword syllables differ from native ones (epenthetic 트/크/스/프, ㅔ/ㅐ, aspirated initials).
class LoanwordClassifier {
 public:
  // Trains on labelled Korean words (replacing any earlier training).
  void train(const std::vector<std::string>& loanwords, const std::vector<std::string>& native);

  // Labels bilingual pairs with the transliteration score and trains on them: a Korean word is a
  // loanword when some English translation scores >= `loan_min`, native when all score <
  // `native_max`; words in between are not used. Returns the numbers of {loanword, native} words.
  std::pair<std::size_t, std::size_t> train_from_pairs(
      const std::vector<std::pair<std::string, std::string>>& pairs, double loan_min = 0.85,
      double native_max = 0.6);

  // P(loanword | word) in [0, 1]; 0.5 when untrained.
  double probability(std::string_view ko) const;
  bool trained() const { return total_[0] + total_[1] > 0; }

 private:
  std::unordered_map<std::string, std::array<double, 2>> counts_;  // feature -> {native, loan}
  std::array<double, 2> total_{0, 0};                              // feature tokens per class
  std::array<double, 2> words_{0, 0};                              // training words per class
};

struct TransliterationMatch {
  std::string en;
  double score = 0.0;
};

// Finds the English words of a fixed vocabulary that a Korean word transliterates.
class TransliterationMatcher {
 public:
  // `vocabulary`: English words or phrases (normalised with normalize_en; entries without ASCII
  // letters dropped; duplicates merged, their number is the word's frequency prior). Throws
  // ConfigError when options are invalid.
  explicit TransliterationMatcher(const std::vector<std::string>& vocabulary,
                                  TransliterationOptions options = {});

  // Matches with score >= min_score, best first (ties by English word), at most top_k.
  std::vector<TransliterationMatch> match(std::string_view ko) const;

  std::size_t vocabulary_size() const { return words_.size(); }
  const TransliterationOptions& options() const { return options_; }

 private:
  struct Word {
    std::string text;
    std::string phones;
    double prior = 0.0;  // in [0, 1], see TransliterationOptions::prior_bonus
  };
  TransliterationOptions options_;
  std::vector<Word> words_;
  std::unordered_map<std::string, std::vector<std::size_t>> buckets_;  // blocking key -> words
};

}  // namespace ksparse::synonyms
