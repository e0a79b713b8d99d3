#include "ksparse/core/utf8.h"

#include <cstdint>

namespace ksparse {

bool utf8_valid(std::string_view s, std::size_t* first_bad) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  auto fail = [&](std::size_t at) {
    if (first_bad) *first_bad = at;
    return false;
  };
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return fail(i);
    }
    if (i + len > n) return fail(i);
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return fail(i);
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return fail(i);
    i += len;
  }
  return true;
}

char32_t utf8_next(std::string_view s, std::size_t& pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  const unsigned char c = p[pos];
  if (c < 0x80) {
    ++pos;
    return c;
  }
  // The allowed range of the second byte depends on the lead byte (Unicode Table 3-7); checking it
  // up front rules out overlongs, surrogates and values past U+10FFFF without decoding first.
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  std::uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    ++pos;  // stray continuation byte or a lead byte that never occurs in UTF-8
    return kReplacementChar;
  }
  std::size_t i = pos + 1;
  for (std::size_t k = 1; k < len; ++k, ++i) {
    if (i >= n) {
      pos = i;
      return kReplacementChar;
    }
    const unsigned char b = p[i];
    const bool ok = k == 1 ? (b >= lo && b <= hi) : (b & 0xC0) == 0x80;
    if (!ok) {
      pos = i;  // the maximal subpart ends before the offending byte, which is decoded next
      return kReplacementChar;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  pos = i;
  return static_cast<char32_t>(cp);
}

std::size_t utf8_encoded_size(char32_t c) {
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c < 0x10000 || c > 0x10FFFF) return 3;  // invalid values are written as U+FFFD
  return 4;
}

void utf8_append(std::string& out, char32_t c) {
  if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = kReplacementChar;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    const char b[2] = {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
    out.append(b, 2);
  } else if (c < 0x10000) {
    const char b[3] = {static_cast<char>(0xE0 | (c >> 12)),
                       static_cast<char>(0x80 | ((c >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (c & 0x3F))};
    out.append(b, 3);
  } else {
    const char b[4] = {
        static_cast<char>(0xF0 | (c >> 18)), static_cast<char>(0x80 | ((c >> 12) & 0x3F)),
        static_cast<char>(0x80 | ((c >> 6) & 0x3F)), static_cast<char>(0x80 | (c & 0x3F))};
    out.append(b, 4);
  }
}

std::size_t utf8_length(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < s.size(); ++count) utf8_next(s, pos);
  return count;
}

std::string utf8_sanitize(std::string_view s) {
  std::size_t bad = 0;
  if (utf8_valid(s, &bad)) return std::string(s);
  std::string out(s.substr(0, bad));
  out.reserve(s.size() + 8);
  std::size_t pos = bad;
  while (pos < s.size()) {
    const std::size_t start = pos;
    const char32_t c = utf8_next(s, pos);
    if (c == kReplacementChar) {
      utf8_append(out, c);
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  return out;
}

std::u32string utf8_decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t pos = 0; pos < s.size();) out.push_back(utf8_next(s, pos));
  return out;
}

std::string utf8_encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char32_t c : s) utf8_append(out, c);
  return out;
}

}  // namespace ksparse
