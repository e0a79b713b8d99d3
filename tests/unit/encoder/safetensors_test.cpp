// safetensors reader/writer (src/encoder/safetensors.h): round trip, the exact byte layout, F16/BF16
// reading, and rejection of malformed files.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "safetensors.h"

namespace ksparse::encoder::detail {
namespace {

using test::TempDir;

// Builds a safetensors file by hand: header JSON and raw data bytes.
void write_raw(const std::filesystem::path& path, const std::string& header, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header << data;
}

TEST(Safetensors, RoundTripKeepsNamesShapesAndValues) {
  TempDir dir;
  torch::manual_seed(3);
  std::map<std::string, torch::Tensor> in = {{"a.weight", torch::randn({3, 4})},
                                             {"b", torch::randn({5})},
                                             {"c.scalar", torch::tensor(2.5f).reshape({})},
                                             {"empty", torch::zeros({0, 3})}};
  write_safetensors(dir / "m.safetensors", in, {{"note", "x"}});
  std::map<std::string, std::string> meta;
  auto out = read_safetensors(dir / "m.safetensors", &meta);
  ASSERT_EQ(out.size(), in.size());
  for (const auto& [k, v] : in) {
    ASSERT_TRUE(out.contains(k)) << k;
    EXPECT_EQ(out[k].sizes(), v.sizes()) << k;
    EXPECT_TRUE(torch::equal(out[k], v)) << k;
  }
  EXPECT_EQ(meta["format"], "pt");
  EXPECT_EQ(meta["note"], "x");
}

TEST(Safetensors, WritesTheDocumentedLayout) {
  TempDir dir;
  write_safetensors(dir / "m.safetensors", {{"x", torch::tensor({1.0f, -2.0f})}});
  std::string bytes = test::read_file(dir / "m.safetensors");
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  EXPECT_EQ(n % 8, 0u);
  auto header = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(header["x"]["dtype"], "F32");
  EXPECT_EQ(header["x"]["shape"], nlohmann::json({2}));
  EXPECT_EQ(header["x"]["data_offsets"], nlohmann::json({0, 8}));
  ASSERT_EQ(bytes.size(), 8 + n + 8);
  float v[2];
  std::memcpy(v, bytes.data() + 8 + n, 8);
  EXPECT_EQ(v[0], 1.0f);
  EXPECT_EQ(v[1], -2.0f);
}

TEST(Safetensors, ReadsHalfAndBfloat16AsFloat) {
  TempDir dir;
  // 1.5 in F16 = 0x3E00; -2.0 in BF16 = 0xC000 (little-endian bytes).
  std::string data = std::string("\x00\x3E", 2) + std::string("\x00\xC0", 2);
  write_raw(dir / "h.safetensors",
            R"({"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},)"
            R"("b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]}})",
            data);
  auto t = read_safetensors(dir / "h.safetensors");
  EXPECT_EQ(t["h"].scalar_type(), torch::kFloat);
  EXPECT_EQ(t["h"][0].item<float>(), 1.5f);
  EXPECT_EQ(t["b"][0].item<float>(), -2.0f);
}

TEST(Safetensors, RejectsMalformedFiles) {
  TempDir dir;
  auto expect_io = [&](const std::string& name, const std::string& header, const std::string& data) {
    write_raw(dir / name, header, data);
    EXPECT_THROW(read_safetensors(dir / name), IoError) << name;
  };
  expect_io("json", "{not json", "");
  expect_io("size", R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0'));
  expect_io("beyond", R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(4, '\0'));
  expect_io("gap", R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, '\0'));
  expect_io("dtype", R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", std::string(1, '\0'));
  std::ofstream(dir / "short") << "abc";
  EXPECT_THROW(read_safetensors(dir / "short"), IoError);
  EXPECT_THROW(read_safetensors(dir / "missing"), IoError);
}

}  // namespace
}  // namespace ksparse::encoder::detail
