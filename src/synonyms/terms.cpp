#include "ksparse/synonyms/terms.h"

#include <algorithm>

#include "ksparse/core/hangul.h"
#include "ksparse/core/text.h"
#include "ksparse/core/utf8.h"

namespace ksparse::synonyms {

namespace {

std::string collapse_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  bool pending_space = false;
  while (pos < s.size()) {
    const std::size_t start = pos;
    const char32_t c = utf8_next(s, pos);
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out.append(s.substr(start, pos - start));
  }
  return out;
}

}  // namespace

std::string normalize_ko(std::string_view term) { return collapse_spaces(nfc(term)); }

std::string normalize_en(std::string_view term) { return collapse_spaces(to_lower(nfkc(term))); }

bool is_hangul_word(std::string_view s) {
  if (s.empty()) return false;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (!is_hangul_syllable(utf8_next(s, pos))) return false;
  }
  return true;
}

bool has_hangul(std::string_view s) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (is_hangul(script_class(utf8_next(s, pos)))) return true;
  }
  return false;
}

bool has_latin(std::string_view s) {
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (script_class(utf8_next(s, pos)) == ScriptClass::kLatin) return true;
  }
  return false;
}

std::size_t hangul_syllables(std::string_view s) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < s.size()) {
    if (is_hangul_syllable(utf8_next(s, pos))) ++n;
  }
  return n;
}

const std::vector<std::string>& korean_particles() {
  // Longest first so that "에서는" wins over "는" and "에서" over "서".
  static const std::vector<std::string> kParticles = [] {
    std::vector<std::string> p = {
        "이",     "가",     "을",     "를",     "은",     "는",     "의",     "에",     "도",
        "만",     "로",     "와",     "과",     "랑",     "께",     "뿐",     "에서",   "에게",
        "한테",   "으로",   "까지",   "부터",   "보다",   "처럼",   "라고",   "이나",   "이랑",
        "과의",   "와의",   "에는",   "에도",   "로는",   "로서",   "로써",   "밖에",   "조차",
        "마저",   "마다",   "께서",   "이라",   "에의",   "으로는", "으로서", "으로써", "이라고",
        "에서의", "에서는", "에서도", "에게는", "까지는", "부터는", "이라는", "라는",   "만의",
        "들이",   "들은",   "들을",   "들의",   "들과",   "들도",   "들에게"};
    std::sort(p.begin(), p.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() > b.size() : a < b;
    });
    return p;
  }();
  return kParticles;
}

StemParticle strip_particle(std::string_view word, std::size_t min_stem_syllables) {
  for (const std::string& p : korean_particles()) {
    if (word.size() <= p.size() || word.substr(word.size() - p.size()) != p) continue;
    std::string_view stem = word.substr(0, word.size() - p.size());
    if (hangul_syllables(stem) < min_stem_syllables || !is_hangul_word(stem)) continue;
    // "으" before 로 belongs to the particle (으로 after a consonant): "것으로" is not "것으" +
    // "로".
    if (p.rfind("로", 0) == 0 && stem.size() >= 3 && stem.substr(stem.size() - 3) == "으") continue;
    return {std::string(stem), p};
  }
  return {std::string(word), {}};
}

std::vector<std::string> extract_words(std::string_view text, const WordOptions& options) {
  std::vector<std::string> words;
  const std::string norm = to_lower(nfkc(text));
  const std::vector<TextRun> runs = split_runs(norm);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const TextRun& run = runs[i];
    if (run.script == ScriptClass::kHangulSyllable) {
      if (!is_hangul_word(run.text)) continue;  // stray jamo inside: not a word
      // A counter glued to a number ("2008년에", "3명이") is not a word of its own.
      if (i > 0 && runs[i - 1].script == ScriptClass::kDigit &&
          runs[i - 1].offset + runs[i - 1].text.size() == run.offset)
        continue;
      StemParticle sp = strip_particle(run.text);
      if (hangul_syllables(sp.stem) >= options.min_ko_syllables)
        words.push_back(std::move(sp.stem));
    } else if (run.script == ScriptClass::kLatin) {
      if (utf8_length(run.text) >= options.min_en_letters) words.emplace_back(run.text);
    }
  }
  return words;
}

}  // namespace ksparse::synonyms
