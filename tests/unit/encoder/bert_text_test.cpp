#include "ksparse/encoder/bert_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ksparse {
namespace {

BertNormalizerOptions only(bool clean, bool chinese, bool strip, bool lower) {
  BertNormalizerOptions o;
  o.clean_text = clean;
  o.handle_chinese_chars = chinese;
  o.strip_accents = strip;
  o.lowercase = lower;
  return o;
}

TEST(BertNormalize, CleanTextDropsControlAndFormatAndMapsWhitespace) {
  auto o = only(true, false, false, false);
  // \x0b (vertical tab) and U+0085 are controls first: deleted, not turned into spaces.
  EXPECT_EQ(bert_normalize("a\tb\nc\rd\x0b"
                           "e\u00a0f\u3000g",
                           o),
            "a b c de f g");
  EXPECT_EQ(bert_normalize("zero\u200bwidth\ufeffbom soft\u00adhyphen", o),
            "zerowidthbom softhyphen");
  EXPECT_EQ(bert_normalize(std::string("nul\0x\x01\x7f", 7) + "\ufffd\ue000end", o), "nulxend");
  // Unassigned code points are kept (U+0378 is unassigned in every Unicode version).
  EXPECT_EQ(bert_normalize("a\u0378b", o), "a\u0378b");
  // Ill-formed UTF-8 decodes to U+FFFD, which clean_text deletes.
  EXPECT_EQ(bert_normalize("a\xff"
                           "b",
                           o),
            "ab");
  EXPECT_EQ(bert_normalize("a\tb\x0b", only(false, false, false, false)), "a\tb\x0b");
}

TEST(BertNormalize, SpacesAroundCjkIdeographsButNotHangulOrKana) {
  auto o = only(false, true, false, false);
  EXPECT_EQ(bert_normalize("서울特別市", o), "서울 特  別  市 ");
  EXPECT_EQ(bert_normalize("ひらがなカタカナ한글", o), "ひらがなカタカナ한글");
  EXPECT_TRUE(bert_is_chinese_char(U'\u4E00'));
  EXPECT_TRUE(bert_is_chinese_char(U'\U0002B920'));
  // HF's ranges leave a gap at U+2B820..U+2B91F; we follow HF, not the original BERT script.
  EXPECT_FALSE(bert_is_chinese_char(U'\U0002B820'));
  EXPECT_FALSE(bert_is_chinese_char(U'\uAC00'));
}

TEST(BertNormalize, StripAccentsAndLowercase) {
  EXPECT_EQ(bert_normalize("Héllo ÀÉÎÕÜ Ångström", only(true, true, true, true)),
            "hello aeiou angstrom");
  EXPECT_EQ(bert_normalize("Héllo", only(true, true, false, true)), "héllo");
  // strip_accents unset follows lowercase, as in HF.
  BertNormalizerOptions follow;
  EXPECT_EQ(bert_normalize("Café", follow), "cafe");
  follow.lowercase = false;
  EXPECT_EQ(bert_normalize("Café", follow), "Café");
  // NFD splits Hangul syllables into conjoining jamo, which are letters and survive.
  EXPECT_EQ(bert_normalize("한", only(false, false, true, false)), "\u1112\u1161\u11ab");
  // Per-code-point lowercase: no final-sigma context, and İ maps to i + combining dot.
  EXPECT_EQ(bert_normalize("ΣΑΣ İ", only(false, false, false, true)), "σασ i\u0307");
  EXPECT_EQ(bert_normalize("ＡＢＣ", only(false, false, false, true)), "ａｂｃ");
}

TEST(BertPreTokenize, SplitsWhitespaceAndIsolatesPunctuation) {
  std::vector<std::string> want = {"Hello", ",", "world", "!", "'", "q", "'", "$", "5",
                                   "€5",    "a", "-",     "b", "«", "x", "»", "①"};
  EXPECT_EQ(bert_pre_tokenize("  Hello,world! 'q' $5 €5\ta-b «x» ①  "), want);
  EXPECT_TRUE(bert_pre_tokenize(" \t ").empty());
  EXPECT_EQ(bert_pre_tokenize("한국어(Korean)"),
            (std::vector<std::string>{"한국어", "(", "Korean", ")"}));
  EXPECT_TRUE(bert_is_punctuation(U'^'));   // ASCII symbol counts as punctuation
  EXPECT_FALSE(bert_is_punctuation(U'€'));  // non-ASCII symbol does not
  EXPECT_TRUE(bert_is_punctuation(U'。'));
  EXPECT_TRUE(bert_is_whitespace(U'\u3000'));
  EXPECT_FALSE(bert_is_whitespace(U'\u200b'));
  EXPECT_TRUE(bert_is_control(U'\u200b'));
  EXPECT_FALSE(bert_is_control(U'\t'));
}

}  // namespace
}  // namespace ksparse
