#include "ksparse/synonyms/patterns.h"

#include <algorithm>

#include "ksparse/core/error.h"
#include "ksparse/core/hangul.h"
#include "ksparse/core/text.h"
#include "ksparse/core/utf8.h"
#include "ksparse/synonyms/terms.h"
#include "ksparse/synonyms/transliteration.h"

namespace ksparse::synonyms {

namespace {

char32_t closing_bracket(char32_t c) {
  switch (c) {
    case U'(':
      return U')';
    case U'（':
      return U'）';
    case U'[':
      return U']';
    case U'［':
      return U'］';
    case U'「':
      return U'」';
    case U'『':
      return U'』';
    case U'【':
      return U'】';
    case U'〔':
      return U'〕';
    case U'〈':
      return U'〉';
    case U'《':
      return U'》';
    default:
      return 0;
  }
}

bool is_latin(char32_t c) { return script_class(c) == ScriptClass::kLatin; }
bool is_han(char32_t c) { return script_class(c) == ScriptClass::kHan; }
bool is_syllable(char32_t c) { return is_hangul_syllable(c); }
bool is_ws(char32_t c) { return c == U' ' || c == U'\t' || c == 0x00A0 || c == 0x3000; }

std::u32string_view trim(std::u32string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::u32string_view> split_words(std::u32string_view s) {
  std::vector<std::u32string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ws(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !is_ws(s[j])) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string join_words(const std::vector<std::u32string_view>& words) {
  std::string out;
  for (auto w : words) {
    if (!out.empty()) out += ' ';
    out += utf8_encode(w);
  }
  return out;
}

bool all_syllables(std::u32string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_syllable);
}

// A character allowed inside an English term.
bool en_char(char32_t c) {
  return is_latin(c) || (c >= U'0' && c <= U'9') || c == U'-' || c == U'\'' || c == U'.' ||
         c == U'&' || c == U'’';
}

// Why an English gloss is not a term, or "" when it is one.
// `symbols_are_junk`: in ko(en) a 1-2 letter mixed-case gloss is an element or unit symbol
// ("비소(As)"), not a translation; in en(ko) ("kW(킬로와트)") the Korean spells the symbol out.
std::string check_english(std::u32string_view s, const PatternOptions& o, bool symbols_are_junk,
                          bool& acronym) {
  acronym = false;
  std::size_t letters = 0, upper = 0, digit_run = 0, max_digit_run = 0;
  for (char32_t c : s) {
    if (is_ws(c)) {
      digit_run = 0;
      continue;
    }
    if (!en_char(c)) return c == U',' || c == U';' ? "list" : "not_a_term";
    if (is_latin(c)) {
      ++letters;
      if (c >= U'A' && c <= U'Z') ++upper;
    }
    digit_run = (c >= U'0' && c <= U'9') ? digit_run + 1 : 0;
    max_digit_run = std::max(max_digit_run, digit_run);
  }
  if (letters == 0) return "number";
  if (max_digit_run >= 4) return "date";
  const std::string utf8 = utf8_encode(s);
  if (utf8.find("www") != std::string::npos || utf8.find("http") != std::string::npos) return "url";
  // Domains: a dot directly followed by 2+ letters at the end ("lottorich.co.kr").
  const auto dot = utf8.rfind('.');
  if (dot != std::string::npos && dot > 0 && utf8.find(' ') == std::string::npos &&
      utf8.size() - dot >= 3) {
    bool tail_letters = true;
    for (std::size_t k = dot + 1; k < utf8.size(); ++k)
      tail_letters = tail_letters && std::isalpha(static_cast<unsigned char>(utf8[k]));
    if (tail_letters) return "url";
  }
  if (letters < o.min_en_letters) return "too_short";
  const auto words = split_words(s);
  if (words.size() > o.max_en_words) return "too_long";
  if (words.size() == 1) {
    if (letters == upper && letters >= 2 && letters <= 6) acronym = true;
    // "As", "Na", "Fe": element or unit symbols, not translations.
    if (symbols_are_junk && letters <= 2 && upper > 0 && upper < letters) return "symbol";
  }
  return "";
}

// The sentence around [begin, end) of `t` (bounded by newlines and ". "), at most ~200 chars.
std::string sentence_around(const std::u32string& t, std::size_t begin, std::size_t end) {
  std::size_t s = begin;
  while (s > 0 && begin - s < 160) {
    const char32_t p = t[s - 1];
    if (p == U'\n' ||
        ((p == U' ') && s >= 2 && (t[s - 2] == U'.' || t[s - 2] == U'?' || t[s - 2] == U'!')))
      break;
    --s;
  }
  std::size_t e = end;
  while (e < t.size() && e - end < 160) {
    const char32_t c = t[e];
    if (c == U'\n') break;
    ++e;
    if ((c == U'.' || c == U'?' || c == U'!') && (e == t.size() || is_ws(t[e]) || t[e] == U'\n'))
      break;
  }
  return utf8_encode(trim(std::u32string_view(t).substr(s, e - s)));
}

}  // namespace

void PatternOptions::validate() const {
  if (max_gloss_chars == 0) throw ConfigError("patterns.max_gloss_chars must be > 0");
  if (max_en_words == 0) throw ConfigError("patterns.max_en_words must be > 0");
  if (max_ko_words == 0) throw ConfigError("patterns.max_ko_words must be > 0");
  if (min_ko_syllables == 0) throw ConfigError("patterns.min_ko_syllables must be > 0");
  if (min_count == 0) throw ConfigError("patterns.min_count must be > 0");
}

PatternScan scan_patterns(std::string_view text, const PatternOptions& o) {
  PatternScan scan;
  const std::u32string t = utf8_decode(nfc(text));
  // Byte offsets of each code point, for PatternMatch::offset.
  std::vector<std::size_t> byte_at(t.size() + 1, 0);
  for (std::size_t i = 0; i < t.size(); ++i) byte_at[i + 1] = byte_at[i] + utf8_encoded_size(t[i]);
  auto reject = [&](const char* why) { ++scan.rejected[why]; };

  for (std::size_t i = 0; i < t.size(); ++i) {
    const char32_t close = closing_bracket(t[i]);
    if (close == 0) continue;
    std::size_t j = i + 1;
    while (j < t.size() && j - i <= o.max_gloss_chars && t[j] != close && t[j] != t[i] &&
           t[j] != U'\n')
      ++j;
    if (j >= t.size() || t[j] != close) continue;  // unclosed, nested or too long: not a gloss
    ++scan.brackets;
    const std::u32string_view gloss = trim(std::u32string_view(t).substr(i + 1, j - i - 1));
    // End of the text before the bracket (one space allowed between term and bracket).
    std::size_t e = i;
    if (e > 0 && t[e - 1] == U' ') --e;
    const char32_t before = e > 0 ? t[e - 1] : 0;
    if (gloss.empty()) {
      reject("empty");
      continue;
    }
    if (is_han(gloss.front())) {
      if (!is_syllable(before)) {
        reject("hanja_without_korean");
        continue;
      }
      std::size_t s = e;
      while (s > 0 && is_syllable(t[s - 1])) --s;
      std::size_t h = 0;
      while (h < gloss.size() && is_han(gloss[h])) ++h;
      scan.hanja.push_back(
          {utf8_encode(std::u32string_view(t).substr(s, e - s)), utf8_encode(gloss.substr(0, h))});
      continue;
    }
    const bool gloss_hangul = std::any_of(gloss.begin(), gloss.end(), is_syllable);
    const bool gloss_latin = std::any_of(gloss.begin(), gloss.end(), is_latin);

    // Particle right after the closing bracket: the whole following Hangul run must be one.
    std::string particle;
    {
      std::size_t k = j + 1;
      while (k < t.size() && is_syllable(t[k])) ++k;
      if (k > j + 1) {
        const std::string run = utf8_encode(std::u32string_view(t).substr(j + 1, k - j - 1));
        const auto& ps = korean_particles();
        if (std::find(ps.begin(), ps.end(), run) != ps.end() || run == "서") particle = run;
      }
    }

    PatternMatch m;
    m.offset = byte_at[i];
    m.particle = particle;
    if (gloss_latin && !gloss_hangul) {
      // ko(en)
      if (!is_syllable(before)) {
        reject(is_latin(before) ? "latin_gloss" : "no_korean_before");
        continue;
      }
      bool acronym = false;
      const std::string why = check_english(gloss, o, true, acronym);
      if (!why.empty()) {
        reject(why.c_str());
        continue;
      }
      if (acronym && !o.keep_acronyms) {
        reject("acronym");
        continue;
      }
      std::size_t s = e;
      while (s > 0 && is_syllable(t[s - 1])) --s;
      if (s > 0 && !is_ws(t[s - 1]) &&
          (is_latin(t[s - 1]) || (t[s - 1] >= U'0' && t[s - 1] <= U'9'))) {
        reject("mixed");
        continue;
      }
      std::vector<std::u32string_view> ko_words = {std::u32string_view(t).substr(s, e - s)};
      if (hangul_syllables(utf8_encode(ko_words[0])) < o.min_ko_syllables) {
        reject("short_korean");
        continue;
      }
      // Only names ("Joseph Biden", "New Horizons": every word capitalised) are written with
      // spaces in Korean too; common nouns ("deep learning") are one Korean compound.
      const auto gloss_words = split_words(gloss);
      const bool title_case =
          std::all_of(gloss_words.begin(), gloss_words.end(),
                      [](std::u32string_view w) { return w.front() >= U'A' && w.front() <= U'Z'; });
      const std::size_t want = title_case ? std::min(gloss_words.size(), o.max_ko_words) : 1;
      std::size_t start = s;
      while (ko_words.size() < want && start >= 2 && t[start - 1] == U' ' &&
             is_syllable(t[start - 2])) {
        std::size_t ws = start - 1;
        while (ws > 0 && is_syllable(t[ws - 1])) --ws;
        if (ws > 0 && (is_latin(t[ws - 1]) || (t[ws - 1] >= U'0' && t[ws - 1] <= U'9')))
          break;  // glued to another script
        const std::u32string_view w = std::u32string_view(t).substr(ws, start - 1 - ws);
        if (!strip_particle(utf8_encode(w), 1).particle.empty()) break;
        ko_words.insert(ko_words.begin(), w);
        start = ws;
      }
      m.kind = PatternKind::kKoEn;
      m.ko = join_words(ko_words);
      {
        auto words = split_words(gloss);
        // "대학살(the massacre)": the article is not part of the term.
        while (words.size() > 1) {
          const std::string first = normalize_en(utf8_encode(words.front()));
          if (first != "the" && first != "a" && first != "an") break;
          words.erase(words.begin());
        }
        m.en = join_words(words);
      }
      m.acronym = acronym;
      m.sentence = sentence_around(t, start, j + 1);
    } else if (gloss_hangul && !gloss_latin) {
      // en(ko)
      if (!is_latin(before)) {
        reject("korean_gloss");
        continue;
      }
      auto ko_words = split_words(gloss);
      if (ko_words.size() > o.max_ko_words ||
          !std::all_of(ko_words.begin(), ko_words.end(), all_syllables)) {
        reject("korean_gloss");
        continue;
      }
      std::string ko = join_words(ko_words);
      {
        const auto last = ko.rfind(' ');
        const std::string tail = last == std::string::npos ? ko : ko.substr(last + 1);
        const StemParticle sp = strip_particle(tail, 2);
        if (!sp.particle.empty()) ko = ko.substr(0, ko.size() - sp.particle.size());
      }
      if (hangul_syllables(ko) < o.min_ko_syllables) {
        reject("short_korean");
        continue;
      }
      // English words before the bracket.
      std::vector<std::u32string_view> en_words;
      std::size_t end = e;
      while (en_words.size() < o.max_en_words && end > 0 && en_char(t[end - 1])) {
        std::size_t ws = end;
        while (ws > 0 && en_char(t[ws - 1])) --ws;
        const std::u32string_view w = std::u32string_view(t).substr(ws, end - ws);
        if (!std::any_of(w.begin(), w.end(), is_latin)) break;
        en_words.insert(en_words.begin(), w);
        if (ws > 0 && t[ws - 1] != U' ') break;  // glued to Hangul or punctuation: stop here
        end = ws - 1;
        if (ws < 2 || !en_char(t[ws - 2])) break;
      }
      while (en_words.size() > 1) {
        const std::string first = normalize_en(utf8_encode(en_words.front()));
        if (first != "the" && first != "a" && first != "an") break;
        en_words.erase(en_words.begin());
      }
      if (en_words.empty()) {
        reject("no_english_before");
        continue;
      }
      bool acronym = false;
      const std::u32string en_u = utf8_decode(join_words(en_words));
      const std::string why = check_english(en_u, o, false, acronym);
      if (!why.empty()) {
        reject(why.c_str());
        continue;
      }
      if (acronym && !o.keep_acronyms) {
        reject("acronym");
        continue;
      }
      m.kind = PatternKind::kEnKo;
      m.ko = std::move(ko);
      m.en = utf8_encode(en_u);
      m.acronym = acronym;
      m.sentence = sentence_around(t, e > 0 ? e - 1 : 0, j + 1);
    } else if (gloss_hangul && gloss_latin) {
      reject("mixed_gloss");
      continue;
    } else {
      reject(
          std::any_of(gloss.begin(), gloss.end(), [](char32_t c) { return c >= U'0' && c <= U'9'; })
              ? "number"
              : "other");
      continue;
    }
    scan.matches.push_back(std::move(m));
  }
  return scan;
}

PatternAggregator::PatternAggregator(PatternOptions options) : options_(std::move(options)) {
  options_.validate();
}

void PatternAggregator::add_document(std::string_view doc_id, std::string_view text) {
  ++documents_;
  PatternScan scan = scan_patterns(text, options_);
  brackets_ += scan.brackets;
  for (const auto& [why, n] : scan.rejected) rejected_[why] += n;
  for (const HanjaGloss& h : scan.hanja) ++hanja_[{h.ko, h.hanja}];
  for (PatternMatch& m : scan.matches) {
    ++matches_;
    Agg& a = pairs_[{normalize_ko(m.ko), normalize_en(m.en)}];
    ++a.count;
    if (a.docs == 0 || a.last_doc != doc_id) {
      ++a.docs;
      a.last_doc = std::string(doc_id);
    }
    a.acronym = a.acronym || m.acronym;
    if (!m.acronym && m.en.size() > 0 && m.en.front() >= 'A' && m.en.front() <= 'Z') {
      bool all_caps_initial = true;
      for (std::size_t k = 1; k < m.en.size(); ++k) {
        if (m.en[k - 1] == ' ' && !(m.en[k] >= 'A' && m.en[k] <= 'Z')) all_caps_initial = false;
      }
      a.name = a.name || all_caps_initial;
    }
    (m.kind == PatternKind::kKoEn ? a.ko_en : a.en_ko) = true;
    if (a.evidence.size() < options_.max_evidence)
      a.evidence.push_back({std::string(doc_id), std::move(m.sentence)});
  }
}

Dictionary PatternAggregator::to_dictionary() const {
  std::map<std::string, std::size_t> per_ko;
  for (const auto& [key, a] : pairs_) per_ko[key.first] += a.count;
  Dictionary dict;
  for (const auto& [key, a] : pairs_) {
    if (a.count < options_.min_count) continue;
    const double c = static_cast<double>(a.count);
    Provenance p;
    p.source = Source::kPattern;
    p.count = a.count;
    // Form of the gloss: a lowercase word or short phrase ("caucus") translates the Korean term
    // before it; an acronym ("EU") or a capitalised name/title ("Let's Talk About Love") usually
    // glosses a longer phrase or stands in apposition to a generic noun (음반, 위원회), unless
    // the Korean spells the English out (볼라벤(BOLAVEN), 조셉 바이든(Joseph Biden)).
    const std::size_t en_words =
        static_cast<std::size_t>(std::count(key.second.begin(), key.second.end(), ' ')) + 1;
    double form = 1.0;
    if (transliteration_score(key.first, key.second) < 0.7) {
      if (a.acronym) {
        form = 0.5;
      } else if (a.name || en_words > 3) {
        form = 0.3;
      }
    }
    p.score = form * c / (c + 1.0) * c / static_cast<double>(per_ko[key.first]);
    std::string note;
    if (a.ko_en) note += "ko(en)";
    if (a.en_ko) note += note.empty() ? "en(ko)" : ",en(ko)";
    if (a.acronym) note += ",acronym";
    if (a.name) note += ",name";
    note += ",docs=" + std::to_string(a.docs);
    p.note = std::move(note);
    p.evidence = a.evidence;
    dict.add(key.first, key.second, std::move(p), options_.max_evidence);
  }
  return dict;
}

}  // namespace ksparse::synonyms
