#include "ksparse/core/hash.h"

#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace {

// Test vectors from the NIST examples for FIPS 180-4 (SHA256.pdf) and the long-message vector of
// FIPS 180-2 appendix B.3.
TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
                 "nopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, MillionAs) {
  Sha256 h;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk);
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths around the padding boundaries (55/56 bytes: length fits / spills into a second block).
// Expected values from Python's hashlib.
TEST(Sha256, PaddingBoundaries) {
  const std::pair<std::size_t, const char*> cases[] = {
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
      {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
  };
  for (const auto& [n, hex] : cases) EXPECT_EQ(sha256_hex(std::string(n, 'a')), hex) << n;
}

TEST(Sha256, StreamingEqualsOneShotAtEverySplit) {
  std::string msg;
  for (int i = 0; i < 300; ++i) msg.push_back(static_cast<char>((i * 37) & 0xff));
  const std::string expected = sha256_hex(msg);
  for (std::size_t cut = 0; cut <= msg.size(); cut += 7) {
    Sha256 h;
    h.update(std::string_view(msg).substr(0, cut));
    h.update(std::string_view(msg).substr(cut));
    EXPECT_EQ(h.hex_digest(), expected) << cut;
  }
}

TEST(Sha256, ResetAllowsReuse) {
  Sha256 h;
  h.update("garbage");
  h.digest();
  h.reset();
  h.update("abc");
  EXPECT_EQ(h.hex_digest(), sha256_hex("abc"));
}

TEST(Sha256, FileHashMatchesStringHashAndReportsSize) {
  test::TempDir tmp;
  std::string content(3 * 1024 * 1024 + 17, 'x');  // several 1 MiB read chunks
  content[12345] = '\n';
  auto p = test::write_file(tmp / "f.bin", content);
  std::uint64_t bytes = 0;
  EXPECT_EQ(sha256_file(p, &bytes), sha256_hex(content));
  EXPECT_EQ(bytes, content.size());
}

TEST(Sha256, MissingFileIsIoError) {
  test::TempDir tmp;
  EXPECT_THROW(sha256_file(tmp / "missing"), IoError);
}

TEST(ToHex, Lowercase) {
  const std::uint8_t bytes[] = {0x00, 0xab, 0x0f, 0xf0};
  EXPECT_EQ(to_hex(bytes, 4), "00ab0ff0");
}

}  // namespace
}  // namespace ksparse
