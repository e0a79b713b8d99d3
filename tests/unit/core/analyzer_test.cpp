#include "ksparse/core/analyzer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

using Terms = std::vector<std::string>;

Terms bigram(std::string_view text, bool emit_words = false, bool emit_head_unigrams = true) {
  AnalyzerOptions o;
  o.emit_words = emit_words;
  o.emit_head_unigrams = emit_head_unigrams;
  return Analyzer(o).analyze(text);
}

Terms word(std::string_view text) {
  AnalyzerOptions o;
  o.kind = "word";
  return Analyzer(o).analyze(text);
}

TEST(AnalyzerOptions, ValidateRejectsUnknownKind) {
  AnalyzerOptions o;
  EXPECT_NO_THROW(o.validate());
  o.kind = "morpheme";
  EXPECT_THROW(o.validate(), ConfigError);
  EXPECT_THROW(Analyzer{o}, ConfigError);
}

TEST(BigramAnalyzer, HangulWordWithParticle) {
  EXPECT_EQ(bigram("모델을"), (Terms{"모", "모델", "델을"}));
  EXPECT_EQ(bigram("모델을", true), (Terms{"모", "모델", "델을", "모델을"}));
  EXPECT_EQ(bigram("모델을", true, false), (Terms{"모델", "델을", "모델을"}));
  EXPECT_EQ(bigram("모델을", false, false), (Terms{"모델", "델을"}));
  // The head unigram lets a one-syllable noun match across its particle.
  EXPECT_EQ(bigram("책을"), (Terms{"책", "책을"}));
}

TEST(BigramAnalyzer, OneAndTwoCharacterRunsAreNotDuplicated) {
  EXPECT_EQ(bigram("책", true, false), (Terms{"책"}));
  EXPECT_EQ(bigram("모델", true, false), (Terms{"모델"}));
  EXPECT_EQ(bigram("책 모델", true, true), (Terms{"책", "모", "모델"}));
}

TEST(BigramAnalyzer, MixedHangulLatinSentence) {
  EXPECT_EQ(bigram("BERT모델을 학습했다."),
            (Terms{"bert", "모", "모델", "델을", "학", "학습", "습했", "했다"}));
  EXPECT_EQ(bigram("BERT모델을 학습했다.", true, false),
            (Terms{"bert", "모델", "델을", "모델을", "학습", "습했", "했다", "학습했다"}));
}

TEST(BigramAnalyzer, FullWidthLatinIsNormalisedAndLowercased) {
  EXPECT_EQ(bigram("ＡＢＣ"), (Terms{"abc"}));
  EXPECT_EQ(bigram("ＧＰＴ４는"), (Terms{"gpt4", "는"}));
}

TEST(BigramAnalyzer, DigitsLatinAndScriptsSplit) {
  EXPECT_EQ(bigram("2023년 GPT-4o, H100 3.14"),
            (Terms{"2023", "년", "gpt", "4o", "h100", "3", "14"}));
  EXPECT_EQ(bigram("韓國語 カタカナ"), (Terms{"韓", "韓國", "國語", "カ", "カタ", "タカ", "カナ"}));
  EXPECT_EQ(bigram("한국韓國"), (Terms{"한", "한국", "韓", "韓國"}));
  EXPECT_EQ(bigram("Ελληνικά Русский"), (Terms{"ελληνικά", "русский"}));
}

TEST(BigramAnalyzer, PunctuationAndSymbolsSeparate) {
  EXPECT_EQ(bigram("「한국」·(서울)…e-mail😀ok"),
            (Terms{"한", "한국", "서", "서울", "e", "mail", "ok"}));
}

TEST(BigramAnalyzer, CompatibilityJamo) {
  // NFKC turns compatibility jamo into conjoining jamo; they still form Hangul runs.
  EXPECT_EQ(bigram("ㅋㅋㅋ 웃겨"), (Terms{"\u110F", "\u110F\u110F", "\u110F\u110F", "웃", "웃겨"}));
  // Decomposed (NFD) syllables analyse like precomposed ones.
  EXPECT_EQ(bigram("\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165"), bigram("한국어"));
}

TEST(BigramAnalyzer, EmptyWhitespaceAndIllFormed) {
  EXPECT_TRUE(bigram("").empty());
  EXPECT_TRUE(bigram(" \t\n.,!? ").empty());
  EXPECT_EQ(bigram("한\xFF국 ab\xC0"
                   "cd"),
            (Terms{"한", "국", "ab", "cd"}));
  for (const auto& t : bigram("\xE2\x82모델\xF0\x9F")) EXPECT_TRUE(utf8_valid(t)) << t;
}

TEST(BigramAnalyzer, CombiningMarksStayInTheirWord) {
  EXPECT_EQ(bigram("cafe\u0301 naïve"), (Terms{"caf\u00E9", "naïve"}));
  EXPECT_EQ(bigram("infor\u00ADmation"), (Terms{"infor\u00ADmation"}));
}

TEST(BigramAnalyzer, LowercaseCanBeDisabled) {
  AnalyzerOptions o;
  o.lowercase = false;
  EXPECT_EQ(Analyzer(o).analyze("BERT ＡＢＣ"), (Terms{"BERT", "ABC"}));
}

TEST(WordAnalyzer, SplitsOnlyOnSpaceAndPunctuation) {
  EXPECT_EQ(word("BERT모델을 학습했다. ＡＢＣ, 2023년"),
            (Terms{"bert모델을", "학습했다", "abc", "2023년"}));
  EXPECT_TRUE(word("").empty());
  EXPECT_EQ(word("a\xFF"
                 "b"),
            (Terms{"a", "b"}));
}

TEST(Analyzer, AppendAndCallbackFormsAgree) {
  const Analyzer a;
  const std::string text = "KorQuAD 데이터셋으로 BM25 검색을 평가한다.";
  const Terms expected = a.analyze(text);
  Terms appended = {"x"};
  a.analyze(text, appended);
  ASSERT_EQ(appended.size(), expected.size() + 1);
  EXPECT_EQ(Terms(appended.begin() + 1, appended.end()), expected);
  Terms via_callback;
  a.for_each_term(text, [&](std::string_view t) { via_callback.emplace_back(t); });
  EXPECT_EQ(via_callback, expected);
}

// Reference: the documented rules written naively over split_runs() of the normalised text.
Terms reference_bigram(std::string_view text, const AnalyzerOptions& o) {
  const std::string norm = to_lower(nfkc(utf8_sanitize(text)));
  Terms out;
  const auto runs = split_runs(norm);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const TextRun& r = runs[i];
    if (r.script == ScriptClass::kLatin || r.script == ScriptClass::kDigit) {
      // Adjacent Latin and digit runs form one word.
      std::size_t end = r.offset + r.text.size();
      while (i + 1 < runs.size() && runs[i + 1].offset == end &&
             (runs[i + 1].script == ScriptClass::kLatin ||
              runs[i + 1].script == ScriptClass::kDigit)) {
        ++i;
        end = runs[i].offset + runs[i].text.size();
      }
      out.push_back(norm.substr(r.offset, end - r.offset));
      continue;
    }
    if (r.script == ScriptClass::kOther) {
      out.emplace_back(r.text);
      continue;
    }
    const std::u32string chars = utf8_decode(r.text);
    if (chars.size() == 1) {
      out.emplace_back(r.text);
      continue;
    }
    if (o.emit_head_unigrams) out.push_back(utf8_encode(chars.substr(0, 1)));
    for (std::size_t k = 0; k + 1 < chars.size(); ++k) {
      out.push_back(utf8_encode(chars.substr(k, 2)));
    }
    if (o.emit_words && chars.size() >= 3) out.emplace_back(r.text);
  }
  return out;
}

TEST(BigramAnalyzer, MatchesNaiveReferenceOnRandomText) {
  const std::vector<std::string> pieces = {
      "한", "국", "어", "모", "델",   "을",       "ㅋ", " ",    "  ", ".",  ",",
      "-",  "A",  "b",  "Z",  "7",    "0",        "韓", "國",   "カ", "ナ", "Ａ",
      "１", "é",  "ω",  "\n", "\xFF", "\xE2\x82", "!",  "🙂", "É",  "Ω",  "İ"};
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> len(0, 25);
  for (int variant = 0; variant < 4; ++variant) {
    AnalyzerOptions o;
    o.emit_head_unigrams = (variant & 1) != 0;
    o.emit_words = (variant & 2) != 0;
    const Analyzer a(o);
    for (int trial = 0; trial < 1000; ++trial) {
      std::string text;
      for (int k = len(rng); k > 0; --k) text += pieces[pick(rng)];
      ASSERT_EQ(a.analyze(text), reference_bigram(text, o))
          << "variant " << variant << ": " << text;
    }
  }
}

}  // namespace
}  // namespace ksparse
