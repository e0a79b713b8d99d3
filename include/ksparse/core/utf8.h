// UTF-8 validation, decoding and encoding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ksparse {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, max U+10FFFF). On failure and
// when `first_bad` is non-null, stores the byte offset of the first invalid sequence.
bool utf8_valid(std::string_view s, std::size_t* first_bad = nullptr);

}  // namespace ksparse
