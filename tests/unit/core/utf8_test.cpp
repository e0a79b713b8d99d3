#include "ksparse/core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace ksparse {
namespace {

std::u32string decode_all(std::string_view s) { return utf8_decode(s); }

TEST(Utf8Valid, AcceptsWellFormedAndRejectsIllFormed) {
  EXPECT_TRUE(utf8_valid(""));
  EXPECT_TRUE(utf8_valid("abc 한국어 𝄞"));
  std::size_t bad = 99;
  EXPECT_FALSE(utf8_valid("ab\xC0\xAF", &bad));  // overlong '/'
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(utf8_valid("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(utf8_valid("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(utf8_valid("\xE2\x82"));          // truncated
}

TEST(Utf8Next, DecodesAllLengths) {
  EXPECT_EQ(decode_all("a\xC3\xA9\xED\x95\x9C\xF0\x9D\x84\x9E"),
            (std::u32string{U'a', U'\u00E9', U'\uD55C', U'\U0001D11E'}));
}

TEST(Utf8Next, IllFormedBecomesOneReplacementPerMaximalSubpart) {
  // Truncated 3-byte sequence: one U+FFFD, then the next character decodes normally.
  EXPECT_EQ(decode_all("\xE2\x82"
                       "a"),
            (std::u32string{kReplacementChar, U'a'}));
  // Two invalid lead bytes: two U+FFFD.
  EXPECT_EQ(decode_all("\xFF\xFE"), (std::u32string{kReplacementChar, kReplacementChar}));
  // Stray continuation byte between letters.
  EXPECT_EQ(decode_all("a\x80"
                       "b"),
            (std::u32string{U'a', kReplacementChar, U'b'}));
  // Overlong and surrogate leads fail at the second byte, which is then its own subpart.
  EXPECT_EQ(decode_all("\xC0\xAF"), (std::u32string{kReplacementChar, kReplacementChar}));
  EXPECT_EQ(decode_all("\xED\xA0\x80"),
            (std::u32string{kReplacementChar, kReplacementChar, kReplacementChar}));
  // Truncated at the end of input.
  EXPECT_EQ(decode_all("\xF0\x9F\x98"), (std::u32string{kReplacementChar}));
}

TEST(Utf8Next, AlwaysAdvances) {
  const std::string junk = "\x80\xBF\xC2\xE0\xA0\xF0\x90\x80\xF8\xFF";
  std::size_t pos = 0;
  std::size_t steps = 0;
  while (pos < junk.size()) {
    const std::size_t before = pos;
    utf8_next(junk, pos);
    ASSERT_GT(pos, before);
    ++steps;
  }
  EXPECT_EQ(steps, utf8_length(junk));
}

TEST(Utf8Append, EncodesAndReplacesInvalidCodePoints) {
  std::string out;
  utf8_append(out, U'A');
  utf8_append(out, U'\u00E9');
  utf8_append(out, U'\uD55C');
  utf8_append(out, U'\U0001F600');
  EXPECT_EQ(out, "A\xC3\xA9\xED\x95\x9C\xF0\x9F\x98\x80");
  std::string bad;
  utf8_append(bad, static_cast<char32_t>(0xD800));
  utf8_append(bad, static_cast<char32_t>(0x110000));
  EXPECT_EQ(bad, "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_encoded_size(U'A'), 1u);
  EXPECT_EQ(utf8_encoded_size(U'\uD55C'), 3u);
  EXPECT_EQ(utf8_encoded_size(U'\U0001F600'), 4u);
}

TEST(Utf8, RoundTripsEveryScalarValueSample) {
  for (char32_t c = 1; c <= 0x10FFFF; c += (c < 0x3000 ? 1 : 97)) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    std::string s;
    utf8_append(s, c);
    ASSERT_TRUE(utf8_valid(s)) << std::hex << static_cast<unsigned>(c);
    std::size_t pos = 0;
    ASSERT_EQ(utf8_next(s, pos), c);
    ASSERT_EQ(pos, s.size());
    ASSERT_EQ(pos, utf8_encoded_size(c));
  }
}

TEST(Utf8Sanitize, ReplacesOnlyIllFormedParts) {
  EXPECT_EQ(utf8_sanitize(""), "");
  EXPECT_EQ(utf8_sanitize("한국 ok"), "한국 ok");
  EXPECT_EQ(utf8_sanitize("한\xFF국"), "한\xEF\xBF\xBD국");
  EXPECT_TRUE(utf8_valid(utf8_sanitize("\xC3\x28\xA0\xA1\xE2\x28\xA1")));
  EXPECT_EQ(utf8_length("한국어"), 3u);
  EXPECT_EQ(utf8_encode(utf8_decode("BERT모델")), "BERT모델");
}

}  // namespace
}  // namespace ksparse
