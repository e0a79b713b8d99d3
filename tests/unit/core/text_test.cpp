#include "ksparse/core/text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

std::vector<std::string> run_texts(const std::vector<TextRun>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.emplace_back(r.text);
  return out;
}

TEST(Normalize, NfkcFoldsFullWidthAndCompatibilityForms) {
  EXPECT_EQ(nfkc("ＡＢＣ１２３"), "ABC123");
  EXPECT_EQ(nfkc("ﬁle"), "file");
  EXPECT_EQ(nfkc("㈜삼성"), "(주)삼성");
  EXPECT_EQ(nfkc("ｶﾀｶﾅ"), "カタカナ");
  // Compatibility jamo become conjoining jamo.
  EXPECT_EQ(nfkc("ㅋ"), "\u110F");
  EXPECT_EQ(nfkc(""), "");
  EXPECT_EQ(nfkc("plain ascii"), "plain ascii");
}

TEST(Normalize, NfcComposesHangulJamoAndAccents) {
  EXPECT_EQ(nfc("\u1112\u1161\u11AB\u1100\u116E\u11A8"), "한국");
  EXPECT_EQ(nfc("e\u0301"), "\u00E9");
  // NFC keeps compatibility characters that NFKC folds.
  EXPECT_EQ(nfc("ＡＢＣ"), "ＡＢＣ");
  EXPECT_EQ(nfc("ㅋ"), "ㅋ");
}

TEST(Normalize, IllFormedInputBecomesReplacementCharacter) {
  const std::string out = nfkc(
      "ａ\xFF"
      "b");
  EXPECT_TRUE(utf8_valid(out));
  EXPECT_EQ(out,
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_TRUE(utf8_valid(nfc("\xE2\x82")));
}

TEST(Normalize, IsNfkc) {
  EXPECT_TRUE(is_nfkc("abc"));
  EXPECT_TRUE(is_nfkc("한국어"));
  EXPECT_FALSE(is_nfkc("ＡＢＣ"));
  EXPECT_FALSE(is_nfkc("\xFF"));
}

TEST(Lowercase, UnicodeAwareAndLocaleIndependent) {
  EXPECT_EQ(to_lower("BERT Model"), "bert model");
  EXPECT_EQ(to_lower("ÀÉÎ ΣΑΣ Привет"), "àéî σας привет");
  EXPECT_EQ(to_lower("I"), "i");  // root locale: no Turkish dotless ı
  EXPECT_EQ(to_lower("한국어 BERT"), "한국어 bert");
  EXPECT_EQ(to_lower(nfkc("ＡＢＣ")), "abc");
  EXPECT_EQ(to_lower(""), "");
  EXPECT_TRUE(utf8_valid(to_lower("A\xC0")));
}

TEST(ScriptClass, ClassifiesRepresentativeCharacters) {
  EXPECT_EQ(script_class(U'한'), ScriptClass::kHangulSyllable);
  EXPECT_EQ(script_class(U'ㅋ'), ScriptClass::kHangulJamo);
  EXPECT_EQ(script_class(U'\u1100'), ScriptClass::kHangulJamo);
  EXPECT_EQ(script_class(U'\uFFA1'), ScriptClass::kHangulJamo);  // half-width ㄱ
  EXPECT_EQ(script_class(U'a'), ScriptClass::kLatin);
  EXPECT_EQ(script_class(U'\u00E9'), ScriptClass::kLatin);
  EXPECT_EQ(script_class(U'\u1E9E'), ScriptClass::kLatin);  // ẞ, outside the fast range
  EXPECT_EQ(script_class(U'韓'), ScriptClass::kHan);
  EXPECT_EQ(script_class(U'\U00020000'), ScriptClass::kHan);
  EXPECT_EQ(script_class(U'か'), ScriptClass::kKana);
  EXPECT_EQ(script_class(U'カ'), ScriptClass::kKana);
  EXPECT_EQ(script_class(U'ー'), ScriptClass::kKana);
  EXPECT_EQ(script_class(U'7'), ScriptClass::kDigit);
  EXPECT_EQ(script_class(U'\u0663'), ScriptClass::kDigit);  // Arabic-Indic three
  EXPECT_EQ(script_class(U'.'), ScriptClass::kPunctuation);
  EXPECT_EQ(script_class(U'+'), ScriptClass::kPunctuation);
  EXPECT_EQ(script_class(U'。'), ScriptClass::kPunctuation);
  EXPECT_EQ(script_class(U'「'), ScriptClass::kPunctuation);
  EXPECT_EQ(script_class(U'\U0001F600'), ScriptClass::kPunctuation);  // emoji (So)
  EXPECT_EQ(script_class(kReplacementChar), ScriptClass::kPunctuation);
  EXPECT_EQ(script_class(U' '), ScriptClass::kSpace);
  EXPECT_EQ(script_class(U'\t'), ScriptClass::kSpace);
  EXPECT_EQ(script_class(U'\u3000'), ScriptClass::kSpace);  // ideographic space
  EXPECT_EQ(script_class(U'\u00A0'), ScriptClass::kSpace);
  EXPECT_EQ(script_class(U'\u200B'), ScriptClass::kSpace);
  EXPECT_EQ(script_class(U'α'), ScriptClass::kOther);
  EXPECT_EQ(script_class(U'ж'), ScriptClass::kOther);
  EXPECT_TRUE(is_space(U'\n'));
  EXPECT_FALSE(is_space(U'a'));
  EXPECT_TRUE(is_punctuation(U'·'));
  EXPECT_FALSE(is_punctuation(U'가'));
  EXPECT_TRUE(is_run_extender(U'\u0301'));
  EXPECT_TRUE(is_run_extender(U'\u00AD'));  // soft hyphen
  EXPECT_FALSE(is_run_extender(U'a'));
  EXPECT_STREQ(script_class_name(ScriptClass::kHangulSyllable), "hangul_syllable");
  EXPECT_STREQ(script_class_name(ScriptClass::kOther), "other");
}

TEST(SplitRuns, CutsMixedHangulLatinText) {
  const auto runs = split_runs("BERT모델을 학습");
  EXPECT_EQ(run_texts(runs), (std::vector<std::string>{"BERT", "모델을", "학습"}));
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].script, ScriptClass::kLatin);
  EXPECT_EQ(runs[1].script, ScriptClass::kHangulSyllable);
  EXPECT_EQ(runs[0].offset, 0u);
  EXPECT_EQ(runs[1].offset, 4u);
  EXPECT_EQ(runs[2].offset, 4u + 9u + 1u);
}

TEST(SplitRuns, DigitsHanKanaAndPunctuation) {
  EXPECT_EQ(run_texts(split_runs("2023년 韓國語(한국어), GPT-4o!")),
            (std::vector<std::string>{"2023", "년", "韓國語", "한국어", "GPT", "4", "o"}));
  EXPECT_EQ(run_texts(split_runs("カタカナとひらがな漢字")),
            (std::vector<std::string>{"カタカナとひらがな", "漢字"}));
}

TEST(SplitRuns, JamoJoinsHangulAndMarksExtend) {
  const auto runs = split_runs("ㅋㅋ웃겨 ㅎㅎ cafe\u0301");
  EXPECT_EQ(run_texts(runs), (std::vector<std::string>{"ㅋㅋ웃겨", "ㅎㅎ", "cafe\u0301"}));
  EXPECT_EQ(runs[0].script, ScriptClass::kHangulSyllable);
  EXPECT_EQ(runs[1].script, ScriptClass::kHangulJamo);
  EXPECT_EQ(runs[2].script, ScriptClass::kLatin);
}

TEST(SplitRuns, KeepSeparatorsCoversTheWholeInput) {
  const std::string s = "a, 가나  b";
  const auto runs = split_runs(s, true);
  EXPECT_EQ(run_texts(runs), (std::vector<std::string>{"a", ",", " ", "가나", "  ", "b"}));
  std::size_t next = 0;
  for (const auto& r : runs) {
    EXPECT_EQ(r.offset, next);
    next += r.text.size();
  }
  EXPECT_EQ(next, s.size());
}

TEST(SplitRuns, EmptyAndIllFormed) {
  EXPECT_TRUE(split_runs("").empty());
  EXPECT_TRUE(split_runs("  \t\n ").empty());
  EXPECT_EQ(run_texts(split_runs("한\xFF국 ab\xC0"
                                 "cd")),
            (std::vector<std::string>{"한", "국", "ab", "cd"}));
}

}  // namespace
}  // namespace ksparse

namespace ksparse {
namespace {

TEST(TrimAscii, StripsAsciiWhitespaceOnBothEnds) {
  EXPECT_EQ(trim_ascii("  \t모델 학습\r\n"), "모델 학습");
  EXPECT_EQ(trim_ascii("a"), "a");
  EXPECT_EQ(trim_ascii(" \t\n\v\f\r"), "");
  EXPECT_EQ(trim_ascii(""), "");
  // Only ASCII whitespace: a no-break space (U+00A0) stays.
  EXPECT_EQ(trim_ascii("\xC2\xA0x "), "\xC2\xA0x");
}

}  // namespace
}  // namespace ksparse
