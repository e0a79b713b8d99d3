// UTF-8 validation, decoding and encoding.
//
// All functions are pure and thread-safe. Decoding never throws: ill-formed input decodes to
// U+FFFD REPLACEMENT CHARACTER, one per "maximal subpart" of an ill-formed sequence (the W3C /
// WHATWG / ICU convention), so "\xE2\x82" yields one U+FFFD and "\xFF\xFE" yields two.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ksparse {

// U+FFFD, what ill-formed input decodes to.
inline constexpr char32_t kReplacementChar = 0xFFFD;

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, max U+10FFFF). On failure and
// when `first_bad` is non-null, stores the byte offset of the first invalid sequence.
bool utf8_valid(std::string_view s, std::size_t* first_bad = nullptr);

// Decodes the code point starting at byte offset `pos` (precondition: pos < s.size()) and advances
// `pos` past it. Ill-formed bytes decode to U+FFFD and `pos` advances past the maximal subpart
// (at least one byte), so a loop `while (pos < s.size()) utf8_next(s, pos);` always terminates.
char32_t utf8_next(std::string_view s, std::size_t& pos);

// Appends the UTF-8 encoding of `c` to `out`; surrogates and values past U+10FFFF append U+FFFD.
void utf8_append(std::string& out, char32_t c);

// Number of bytes utf8_append writes for `c` (1..4).
std::size_t utf8_encoded_size(char32_t c);

// Number of code points in `s` (each maximal ill-formed subpart counts as one).
std::size_t utf8_length(std::string_view s);

// `s` with every ill-formed subpart replaced by U+FFFD; well-formed input is returned unchanged.
std::string utf8_sanitize(std::string_view s);

// Decodes all of `s` (ill-formed subparts become U+FFFD).
std::u32string utf8_decode(std::string_view s);

// Encodes code points to UTF-8 (invalid code points become U+FFFD).
std::string utf8_encode(std::u32string_view s);

}  // namespace ksparse
