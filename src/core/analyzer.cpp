#include "ksparse/core/analyzer.h"

#include <cstddef>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

// What a character does to the current run.
enum class Group : unsigned char {
  kSeparator,  // space or punctuation: closes the run
  kExtend,     // combining mark / format character: continues whatever run is open
  kHangul,
  kHan,
  kKana,
  kWord,   // Latin letters and digits
  kOther,  // letters of other scripts
};

bool is_cjk(Group g) { return g == Group::kHangul || g == Group::kHan || g == Group::kKana; }

Group group_of(char32_t c) {
  switch (script_class(c)) {
    case ScriptClass::kHangulSyllable:
    case ScriptClass::kHangulJamo:
      return Group::kHangul;
    case ScriptClass::kHan:
      return Group::kHan;
    case ScriptClass::kKana:
      return Group::kKana;
    case ScriptClass::kLatin:
    case ScriptClass::kDigit:
      return Group::kWord;
    case ScriptClass::kSpace:
    case ScriptClass::kPunctuation:
      return Group::kSeparator;
    case ScriptClass::kOther:
      return is_run_extender(c) ? Group::kExtend : Group::kOther;
  }
  return Group::kOther;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

void AnalyzerOptions::validate() const {
  if (kind != "bigram" && kind != "word") {
    throw ConfigError("analyzer kind '" + kind + "' is unknown: use \"bigram\" or \"word\"");
  }
}

Analyzer::Analyzer(AnalyzerOptions options) : options_(std::move(options)) {
  options_.validate();
  bigram_ = options_.kind == "bigram";
}

template <typename Emit>
void Analyzer::run(std::string_view text, Emit&& emit) const {
  // Normalise the whole text once into one buffer; every term below is a view into it.
  std::string buf;
  std::string_view s = text;
  if (!utf8_valid(s)) {
    buf = utf8_sanitize(s);
    s = buf;
  }
  if (!is_ascii(s)) {
    buf = nfkc(s);
    s = buf;
  } else if (options_.lowercase && buf.empty()) {
    buf.assign(s);  // lowercasing below writes into the buffer
    s = buf;
  }
  // Only Latin and other-script words can have case (Hangul, Han and Kana have none), so
  // lowercasing happens per word, in place for ASCII words, instead of as a pass over all text.
  std::string lowered;
  auto emit_word = [&](std::size_t begin, std::size_t end) {
    if (!options_.lowercase) {
      emit(s.substr(begin, end - begin));
      return;
    }
    if (is_ascii(s.substr(begin, end - begin))) {
      for (std::size_t i = begin; i < end; ++i) {
        char& c = buf[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      emit(s.substr(begin, end - begin));
      return;
    }
    lowered = to_lower(s.substr(begin, end - begin));
    emit(std::string_view(lowered));
  };

  Group group = Group::kSeparator;  // group of the open run; kSeparator = no run open
  std::size_t run_start = 0;
  std::size_t prev_start = 0;  // byte offset of the previous character of a CJK run
  std::size_t chars = 0;       // characters in the open CJK run
  auto close = [&](std::size_t end) {
    if (group == Group::kSeparator) return;
    if (!bigram_ || !is_cjk(group)) {
      emit_word(run_start, end);
    } else if (chars == 1 || (chars >= 3 && options_.emit_words)) {
      emit(s.substr(run_start, end - run_start));
    }
    group = Group::kSeparator;
  };

  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t start = pos;
    const char32_t c = utf8_next(s, pos);
    Group g = group_of(c);
    if (g == Group::kExtend) {
      if (group != Group::kSeparator) continue;  // a mark on its own acts as an Other letter
      g = Group::kOther;
    }
    if (!bigram_ && g != Group::kSeparator) g = Group::kWord;  // word kind: only separators cut
    if (g == group) {
      if (bigram_ && is_cjk(g)) {
        if (chars == 1 && options_.emit_head_unigrams) emit(s.substr(run_start, start - run_start));
        emit(s.substr(prev_start, pos - prev_start));
        prev_start = start;
        ++chars;
      }
      continue;
    }
    close(start);
    if (g == Group::kSeparator) continue;
    group = g;
    run_start = start;
    prev_start = start;
    chars = 1;
  }
  close(s.size());
}

std::vector<std::string> Analyzer::analyze(std::string_view text) const {
  std::vector<std::string> out;
  analyze(text, out);
  return out;
}

void Analyzer::analyze(std::string_view text, std::vector<std::string>& out) const {
  run(text, [&out](std::string_view term) { out.emplace_back(term); });
}

void Analyzer::for_each_term(std::string_view text,
                             const std::function<void(std::string_view)>& emit) const {
  run(text, emit);
}

}  // namespace ksparse
