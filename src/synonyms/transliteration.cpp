#include "ksparse/synonyms/transliteration.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ksparse/core/error.h"
#include "ksparse/core/hangul.h"
#include "ksparse/core/utf8.h"
#include "ksparse/synonyms/terms.h"

namespace ksparse::synonyms {

namespace {

// Phones of the Hangul jamo, by index (orders in hangul.h). Initial ㅇ is silent.
constexpr const char* kInitial[kHangulInitialCount] = {
    "G", "G", "N", "D", "D", "L", "M", "B", "B", "S", "S", "", "J", "J", "C", "K", "T", "P", "H"};
// ㅐ and ㅔ are both "e" (they merged in speech; loanwords use ㅐ for English a as in "bank").
// ㅓ is "E", ㅡ the epenthetic "_".
constexpr const char* kMedial[kHangulMedialCount] = {"a",  "e",  "ya", "ye", "E",  "e",  "yE",
                                                     "ye", "o",  "wa", "we", "we", "yo", "u",
                                                     "wE", "we", "wi", "yu", "_",  "i",  "i"};
// Finals as read at a syllable end: in loanwords final ㅅ writes English t (인터넷 internet).
constexpr const char* kFinal[kHangulFinalCount] = {
    "",   "K", "K", "KS", "N",  "NJ", "N", "T", "L", "LK", "LM", "LB", "LS", "LT",
    "LP", "L", "M", "P",  "PS", "T",  "T", "Q", "J", "C",  "K",  "T",  "P",  "H"};

bool is_vowel_phone(char c) { return std::strchr("aeiouE_", c) != nullptr && c != '\0'; }
bool is_glide_phone(char c) { return c == 'y' || c == 'w'; }
bool is_consonant_phone(char c) { return c != '\0' && std::strchr("GKNDTLMBPSJCHQ", c) != nullptr; }

bool is_vowel_letter(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

// Drops repeated consonant phones ("ll" -> "l", Korean 필름's ㄹ+ㄹ).
std::string collapse_repeats(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (!out.empty() && out.back() == c && is_consonant_phone(c)) continue;
    out += c;
  }
  return out;
}

double weight(char c) {
  if (c == '_') return 0.1;
  if (is_glide_phone(c)) return 0.2;
  if (is_vowel_phone(c)) return 0.5;
  return 1.0;
}

double weighted_length(const std::string& s) {
  double w = 0;
  for (char c : s) w += weight(c);
  return w;
}

bool pair_is(char a, char b, char x, char y) { return (a == x && b == y) || (a == y && b == x); }

double substitution(char a, char b) {
  if (a == b) return 0.0;
  const bool va = is_vowel_phone(a), vb = is_vowel_phone(b);
  if (va && vb) {
    if (a == '_' || b == '_') return 0.3;
    if (a == 'E' || b == 'E') return 0.15;  // ㅓ writes English a, u, o, e, er
    if (pair_is(a, b, 'a', 'e') || pair_is(a, b, 'e', 'i') || pair_is(a, b, 'o', 'u')) return 0.2;
    return 0.35;
  }
  if ((va && is_glide_phone(b)) || (vb && is_glide_phone(a))) {
    if (pair_is(a, b, 'y', 'i') || pair_is(a, b, 'w', 'u')) return 0.2;
    if (pair_is(a, b, 'w', 'o')) return 0.3;
    return 0.8;
  }
  if (is_glide_phone(a) && is_glide_phone(b)) return 0.5;
  if (va || vb || is_glide_phone(a) || is_glide_phone(b)) return 1.5;  // vowel vs consonant
  // Consonants: near pairs of the loanword orthography.
  if (pair_is(a, b, 'G', 'K') || pair_is(a, b, 'D', 'T') || pair_is(a, b, 'B', 'P') ||
      pair_is(a, b, 'J', 'C'))
    return 0.3;
  if (pair_is(a, b, 'N', 'Q')) return 0.4;
  if (pair_is(a, b, 'S', 'J')) return 0.4;
  if (pair_is(a, b, 'S', 'T') || pair_is(a, b, 'S', 'C') || pair_is(a, b, 'T', 'C') ||
      pair_is(a, b, 'D', 'J') || pair_is(a, b, 'G', 'J') || pair_is(a, b, 'L', 'N') ||
      pair_is(a, b, 'P', 'H'))
    return 0.5;
  if (pair_is(a, b, 'M', 'N')) return 0.6;
  return 1.0;
}

// Cost of a phone present on the Korean side only.
double korean_extra(const std::string& k, std::size_t i) {
  const char c = k[i];
  if (c == '_') return 0.1;
  if (is_glide_phone(c)) return 0.2;
  if (is_vowel_phone(c)) {
    // Second half of a Hangul diphthong for one English vowel: 데이터 "dei" for data's "a".
    if (c == 'i' && i > 0 && std::strchr("aeoE", k[i - 1]) != nullptr) return 0.2;
    return 0.5;
  }
  if (c == 'H') return 0.6;
  return 1.0;
}

// Cost of a phone present on the English side only.
double english_extra(const std::string& e, std::size_t j) {
  const char c = e[j];
  if (is_glide_phone(c)) return 0.2;
  if (is_vowel_phone(c)) return 0.5;
  if (c == 'H') return 0.4;
  if (c == 'G' && j > 0 && e[j - 1] == 'Q') return 0.5;  // "finger": ng + g
  return 1.0;
}

double phone_distance(const std::string& k, const std::string& e) {
  const std::size_t n = k.size(), m = e.size();
  std::vector<double> prev(m + 1), cur(m + 1);
  prev[0] = 0;
  for (std::size_t j = 1; j <= m; ++j) prev[j] = prev[j - 1] + english_extra(e, j - 1);
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = prev[0] + korean_extra(k, i - 1);
    for (std::size_t j = 1; j <= m; ++j) {
      cur[j] = std::min({prev[j - 1] + substitution(k[i - 1], e[j - 1]),
                         prev[j] + korean_extra(k, i - 1), cur[j - 1] + english_extra(e, j - 1)});
    }
    std::swap(prev, cur);
  }
  return prev[m];
}

double phone_similarity(const std::string& k, const std::string& e) {
  const double size = std::max(weighted_length(k), weighted_length(e));
  if (size <= 0) return 0.0;
  return std::max(0.0, 1.0 - phone_distance(k, e) / size);
}

// First two consonant classes (g/k/ng, d/t, b/p, s/j/ch, l, m, n; h ignored), repeats merged.
std::string blocking_key(const std::string& phones) {
  std::string key;
  for (char c : phones) {
    char cls = 0;
    switch (c) {
      case 'G':
      case 'K':
      case 'Q':
        cls = 'K';
        break;
      case 'D':
      case 'T':
        cls = 'T';
        break;
      case 'B':
      case 'P':
        cls = 'P';
        break;
      case 'S':
      case 'J':
      case 'C':
        cls = 'S';
        break;
      case 'L':
      case 'M':
      case 'N':
        cls = c;
        break;
      default:
        break;
    }
    if (cls == 0 || (!key.empty() && key.back() == cls)) continue;
    key += cls;
    if (key.size() == 2) break;
  }
  return key;
}

}  // namespace

void TransliterationOptions::validate() const {
  if (!(min_score >= 0.0 && min_score <= 1.0))
    throw ConfigError("transliteration.min_score must be in [0, 1]");
  if (!(prior_bonus >= 0.0)) throw ConfigError("transliteration.prior_bonus must be >= 0");
}

std::string loanword_phones_ko(std::string_view ko) {
  std::string out;
  const std::u32string t = utf8_decode(ko);
  for (char32_t c : t) {
    const auto parts = decompose_syllable(c);
    if (!parts) continue;
    out += kInitial[parts->initial];
    out += kMedial[parts->medial];
    out += kFinal[parts->final];
  }
  // A word-final ㅣ after ㅈ/ㅊ is the vowel added to -ge/-dge/-ch/-sh endings (이미지 image).
  if (out.size() >= 2 && out.back() == 'i' &&
      (out[out.size() - 2] == 'J' || out[out.size() - 2] == 'C'))
    out.back() = '_';
  return collapse_repeats(out);
}

std::string loanword_phones_en(std::string_view en_in) {
  std::string w;
  for (char c : en_in) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c >= 'a' && c <= 'z') w += c;
  }
  const std::size_t n = w.size();
  auto at = [&](std::size_t k) -> char { return k < n ? w[k] : '\0'; };
  auto starts = [&](std::size_t i, const char* s) { return w.compare(i, std::strlen(s), s) == 0; };
  // A vowel letter at k (y counts after a consonant: "city", "system").
  auto vowel_at = [&](std::size_t k) {
    const char c = at(k);
    return is_vowel_letter(c) || (c == 'y' && k > 0 && !is_vowel_letter(at(k - 1)));
  };
  std::string out;
  std::size_t i = 0;
  while (i < n) {
    const char c = w[i];
    if (starts(i, "tion") || starts(i, "sion")) {
      out += "SyEN";
      i += 4;
      continue;
    }
    if (starts(i, "ture")) {
      out += "CE";
      i += 4;
      continue;
    }
    if (starts(i, "tch")) {
      out += 'C';
      i += 3;
      continue;
    }
    if ((starts(i, "ts") || starts(i, "tz")) && i + 2 == n) {
      out += 'C';
      i += 2;
      continue;
    }
    if (starts(i, "igh")) {
      out += "ai";
      i += 3;
      continue;
    }
    if (starts(i, "chr")) {
      out += 'K';
      i += 2;
      continue;
    }
    if (starts(i, "ign") && (i + 3 == n || !vowel_at(i + 3))) {
      out += "aiN";
      i += 3;
      continue;
    }
    if (starts(i, "are") && i + 3 == n && i > 0) {
      out += "eE";
      i += 3;
      continue;
    }
    if (starts(i, "wor")) {
      out += "wE";
      i += 3;
      continue;
    }
    if (starts(i, "ow") && i + 2 == n && i > 0) {
      out += "ou";
      i += 2;
      continue;
    }
    if (c == 's' && i > 0 && vowel_at(i - 1) && vowel_at(i + 1) && at(i + 1) != 'y') {
      out += 'J';  // intervocalic s is voiced: season 시즌, music 뮤직, design 디자인
      ++i;
      continue;
    }
    if (starts(i, "dge")) {
      out += 'J';
      i += 3;
      continue;
    }
    if (starts(i, "ch")) {
      out += 'C';
      i += 2;
      continue;
    }
    if (starts(i, "sh")) {
      out += 'S';
      i += 2;
      continue;
    }
    if (starts(i, "ph")) {
      out += 'P';
      i += 2;
      continue;
    }
    if (starts(i, "th")) {
      out += 'S';
      i += 2;
      continue;
    }
    if (starts(i, "ck")) {
      out += 'K';
      i += 2;
      continue;
    }
    if (starts(i, "qu")) {
      out += "Kw";
      i += 2;
      continue;
    }
    if (starts(i, "wh")) {
      out += 'w';
      i += 2;
      continue;
    }
    if (starts(i, "gh")) {
      if (i == 0) out += 'G';
      i += 2;
      continue;
    }
    if (starts(i, "ng")) {
      const char next = at(i + 2);
      out += (is_vowel_letter(next) || next == 'l' || next == 'r') ? "QG" : "Q";
      i += 2;
      continue;
    }
    if (is_vowel_letter(c) || (c == 'y' && i > 0 && !is_vowel_letter(at(i - 1)))) {
      // Vowel digraphs first.
      std::string v;
      std::size_t len = 1;
      const char d = at(i + 1);
      if (c == 'e' && (d == 'e' || d == 'a'))
        v = "i", len = 2;
      else if (c == 'o' && d == 'o')
        v = "u", len = 2;
      else if (c == 'o' && d == 'u')
        v = "au", len = 2;
      else if (c == 'a' && (d == 'i' || d == 'y'))
        v = "ei", len = 2;
      else if (c == 'o' && d == 'a')
        v = "o", len = 2;
      else if (c == 'i' && d == 'e')
        v = "i", len = 2;
      else if (c == 'e' && d == 'i')
        v = "ei", len = 2;
      else if (c == 'a' && (d == 'u' || d == 'w'))
        v = "o", len = 2;
      else if (c == 'o' && d == 'w')
        v = "o", len = 2;
      else if ((c == 'e' && d == 'w') || (c == 'e' && d == 'u'))
        v = "yu", len = 2;
      else if (c == 'o' && (d == 'i' || d == 'y'))
        v = "oi", len = 2;
      else if (c == 'u' && d == 'e' && i + 2 == n)
        v = "u", len = 2;
      if (len == 1) {
        // Silent final e ("game", "line").
        if (c == 'e' && i + 1 == n && n > 3 && !vowel_at(i - 1)) {
          ++i;
          continue;
        }
        const char r = at(i + 1);
        // Magic e: vowel + one consonant + final e says the vowel's name.
        // Only in one-syllable words ("game", "line"; not "service", "office").
        bool earlier_vowel = false;
        for (std::size_t k = 0; k < i; ++k) earlier_vowel = earlier_vowel || vowel_at(k);
        const bool magic = !earlier_vowel && i + 3 == n && at(i + 2) == 'e' && r != '\0' &&
                           !is_vowel_letter(r) && r != 'r' && r != 'w' && r != 'y' && n > 3;
        if (r == 'r' && !vowel_at(i + 2) && at(i + 2) != 'r') {
          // Post-vocalic r is dropped; er/ir/ur become ㅓ.
          // Unstressed final -or is ㅓ too (sensor 센서, doctor 닥터, motor 모터).
          const bool final_or = c == 'o' && i + 2 == n && earlier_vowel;
          v = (c == 'a') ? "a" : (c == 'o' && !final_or) ? "o" : "E";
          len = 2;
        } else if (magic) {
          v = c == 'a' ? "ei" : c == 'i' ? "ai" : c == 'o' ? "o" : c == 'u' ? "yu" : "i";
        } else {
          v = (c == 'y') ? "i" : std::string(1, c);
        }
      }
      out += v;
      i += len;
      continue;
    }
    switch (c) {
      case 'b':
        out += 'B';
        break;
      case 'c':
        out += (at(i + 1) == 'e' || at(i + 1) == 'i' || at(i + 1) == 'y') ? 'S' : 'K';
        break;
      case 'd':
        out += 'D';
        break;
      case 'f':
        out += 'P';
        break;
      case 'g':
        out += (at(i + 1) == 'e' || at(i + 1) == 'i' || at(i + 1) == 'y') ? 'J' : 'G';
        break;
      case 'h':
        if (vowel_at(i + 1)) out += 'H';
        break;
      case 'j':
        out += 'J';
        break;
      case 'k':
        out += 'K';
        break;
      case 'l':
        out += 'L';
        break;
      case 'm':
        out += 'M';
        break;
      case 'n':
        out += (at(i + 1) == 'k' || (at(i + 1) == 'c' && at(i + 2) != 'e' && at(i + 2) != 'i'))
                   ? 'Q'
                   : 'N';
        break;
      case 'p':
        out += 'P';
        break;
      case 'q':
        out += 'K';
        break;
      case 'r':
        if (!(i > 0 && vowel_at(i - 1) && !vowel_at(i + 1))) out += 'L';
        break;
      case 's':
        out += 'S';
        break;
      case 't':
        out += 'T';
        break;
      case 'v':
        out += 'B';
        break;
      case 'w':
        if (vowel_at(i + 1))
          out += 'w';
        else if (!(i > 0 && vowel_at(i - 1)))
          out += 'u';
        break;
      case 'x':
        out += (i == 0) ? "J" : "KS";
        break;
      case 'y':
        out += 'y';
        break;  // a glide before a vowel (a vowel y was handled above)
      case 'z':
        out += 'J';
        break;
      default:
        break;
    }
    ++i;
  }
  return collapse_repeats(out);
}

double transliteration_score(std::string_view ko, std::string_view en) {
  return phone_similarity(loanword_phones_ko(ko), loanword_phones_en(en));
}

namespace {

std::vector<std::string> syllable_features(std::string_view ko) {
  std::vector<std::string> syl = {"<"};
  std::size_t pos = 0;
  while (pos < ko.size()) {
    const std::size_t start = pos;
    if (is_hangul_syllable(utf8_next(ko, pos))) syl.emplace_back(ko.substr(start, pos - start));
  }
  syl.emplace_back(">");
  std::vector<std::string> feats;
  for (std::size_t i = 1; i + 1 < syl.size(); ++i) feats.push_back(syl[i]);
  for (std::size_t i = 0; i + 1 < syl.size(); ++i) feats.push_back(syl[i] + "|" + syl[i + 1]);
  return feats;
}

}  // namespace

void LoanwordClassifier::train(const std::vector<std::string>& loanwords,
                               const std::vector<std::string>& native) {
  counts_.clear();
  total_ = {0, 0};
  words_ = {0, 0};
  auto add = [&](const std::string& w, int cls) {
    words_[cls] += 1;
    for (const std::string& f : syllable_features(w)) {
      counts_[f][cls] += 1;
      total_[cls] += 1;
    }
  };
  for (const auto& w : native) add(w, 0);
  for (const auto& w : loanwords) add(w, 1);
}

std::pair<std::size_t, std::size_t> LoanwordClassifier::train_from_pairs(
    const std::vector<std::pair<std::string, std::string>>& pairs, double loan_min,
    double native_max) {
  std::unordered_map<std::string, double> best;
  for (const auto& [ko, en] : pairs) {
    if (!is_hangul_word(ko)) continue;
    double& b = best[ko];
    b = std::max(b, transliteration_score(ko, en));
  }
  std::vector<std::string> loan, native;
  for (const auto& [ko, s] : best) {
    if (s >= loan_min)
      loan.push_back(ko);
    else if (s < native_max)
      native.push_back(ko);
  }
  std::sort(loan.begin(), loan.end());
  std::sort(native.begin(), native.end());
  train(loan, native);
  return {loan.size(), native.size()};
}

double LoanwordClassifier::probability(std::string_view ko) const {
  if (!trained() || words_[0] == 0 || words_[1] == 0) return 0.5;
  const double vocab = static_cast<double>(counts_.size()) + 1.0;
  double logit = std::log(words_[1] / words_[0]);
  for (const std::string& f : syllable_features(ko)) {
    auto it = counts_.find(f);
    const double c0 = it == counts_.end() ? 0.0 : it->second[0];
    const double c1 = it == counts_.end() ? 0.0 : it->second[1];
    logit +=
        std::log((c1 + 1.0) / (total_[1] + vocab)) - std::log((c0 + 1.0) / (total_[0] + vocab));
  }
  return 1.0 / (1.0 + std::exp(-logit));
}

TransliterationMatcher::TransliterationMatcher(const std::vector<std::string>& vocabulary,
                                               TransliterationOptions options)
    : options_(options) {
  options_.validate();
  // Occurrences per word: a word listed by many sources (lexicon senses, corpus tokens) is more
  // common, and a common word is the likelier reading of an ambiguous transliteration.
  std::unordered_map<std::string, std::size_t> counts;
  for (const std::string& v : vocabulary) ++counts[normalize_en(v)];
  std::vector<std::pair<std::string, std::size_t>> words(counts.begin(), counts.end());
  std::sort(words.begin(), words.end());
  const double saturation = std::log1p(static_cast<double>(options_.prior_saturation));
  for (auto& [text, count] : words) {
    std::string phones = loanword_phones_en(text);
    if (phones.empty()) continue;
    buckets_[blocking_key(phones)].push_back(words_.size());
    const double prior =
        saturation > 0 ? std::min(1.0, std::log1p(static_cast<double>(count)) / saturation) : 0.0;
    words_.push_back({std::move(text), std::move(phones), prior});
  }
}

std::vector<TransliterationMatch> TransliterationMatcher::match(std::string_view ko) const {
  struct Scored {
    TransliterationMatch m;
    double rank;
  };
  std::vector<Scored> found;
  const std::string phones = loanword_phones_ko(ko);
  if (phones.empty()) return {};
  auto consider = [&](const Word& w) {
    const double s = phone_similarity(phones, w.phones);
    if (s >= options_.min_score) found.push_back({{w.text, s}, s + options_.prior_bonus * w.prior});
  };
  if (options_.blocking) {
    auto it = buckets_.find(blocking_key(phones));
    if (it != buckets_.end()) {
      for (std::size_t idx : it->second) consider(words_[idx]);
    }
  } else {
    for (const Word& w : words_) consider(w);
  }
  std::sort(found.begin(), found.end(), [](const Scored& a, const Scored& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.m.en < b.m.en;
  });
  if (options_.top_k > 0 && found.size() > options_.top_k) found.resize(options_.top_k);
  std::vector<TransliterationMatch> out;
  out.reserve(found.size());
  for (Scored& f : found) out.push_back(std::move(f.m));
  return out;
}

}  // namespace ksparse::synonyms
