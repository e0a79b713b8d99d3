// safetensors reader/writer (format: https://github.com/huggingface/safetensors, "Format"). Our own
// implementation: the format is a JSON header plus raw little-endian bytes, so a byte copy into a
// tensor is all that reading takes on a little-endian host.
#include "safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "ksparse/core/error.h"

namespace ksparse::encoder::detail {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; this reader copies bytes as they are");

// The header is read into memory whole; refuse absurd sizes before allocating.
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

struct DtypeInfo {
  torch::ScalarType stored;
  torch::ScalarType returned;
  std::size_t bytes;
};

bool dtype_info(const std::string& name, DtypeInfo& out) {
  if (name == "F32") out = {torch::kFloat, torch::kFloat, 4};
  else if (name == "F16") out = {torch::kHalf, torch::kFloat, 2};
  else if (name == "BF16") out = {torch::kBFloat16, torch::kFloat, 2};
  else if (name == "F64") out = {torch::kDouble, torch::kFloat, 8};
  else if (name == "I64") out = {torch::kLong, torch::kLong, 8};
  else if (name == "I32") out = {torch::kInt, torch::kLong, 4};
  else return false;
  return true;
}

}  // namespace

void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [k, v] : metadata) meta[k] = v;
  meta["format"] = "pt";
  header["__metadata__"] = meta;
  std::vector<torch::Tensor> data;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name == "__metadata__") throw IoError("safetensors: invalid tensor name '" + name + "'");
    auto t = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * 4;
    header[name] = {{"dtype", "F32"}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(std::move(t));
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t n = text.size();

  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write " + tmp.string());
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : data) {
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * 4));
    }
    out.flush();
    if (!out) throw IoError("error writing " + tmp.string() + " (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw IoError("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
}

std::map<std::string, torch::Tensor> read_safetensors(const std::filesystem::path& path,
                                                      std::map<std::string, std::string>* metadata) {
  const std::string where = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + where);
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char len[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(len), 8)) {
    throw IoError(where + ": not a safetensors file (shorter than 8 bytes)");
  }
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  if (n > kMaxHeaderBytes || n > file_size - 8) {
    throw IoError(where + ": not a safetensors file (header length " + std::to_string(n) +
                  " exceeds the file)");
  }
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(where + ": malformed safetensors header: " + e.what());
  }
  if (!header.is_object()) throw IoError(where + ": safetensors header is not a JSON object");
  const std::uint64_t data_begin = 8 + n, data_size = file_size - data_begin;

  struct Entry {
    std::string name;
    DtypeInfo dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (const auto& [name, spec] : header.items()) {
    if (name == "__metadata__") {
      if (metadata != nullptr && spec.is_object()) {
        for (const auto& [k, v] : spec.items()) {
          if (v.is_string()) (*metadata)[k] = v.get<std::string>();
        }
      }
      continue;
    }
    Entry e;
    e.name = name;
    try {
      const std::string dtype = spec.at("dtype").get<std::string>();
      if (!dtype_info(dtype, e.dtype)) {
        throw IoError(where + ": tensor '" + name + "' has dtype " + dtype +
                      ", which is not read (F32, F16, BF16, F64, I64, I32)");
      }
      e.shape = spec.at("shape").get<std::vector<std::int64_t>>();
      auto offs = spec.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offs.size() != 2) throw IoError(where + ": tensor '" + name + "': data_offsets needs 2 values");
      e.begin = offs[0];
      e.end = offs[1];
    } catch (const nlohmann::json::exception& ex) {
      throw IoError(where + ": tensor '" + name + "': malformed entry: " + ex.what());
    }
    std::uint64_t count = 1;
    for (auto d : e.shape) {
      if (d < 0) throw IoError(where + ": tensor '" + name + "' has a negative dimension");
      count *= static_cast<std::uint64_t>(d);
    }
    if (e.begin > e.end || e.end > data_size || e.end - e.begin != count * e.dtype.bytes) {
      throw IoError(where + ": tensor '" + name + "': data_offsets [" + std::to_string(e.begin) +
                    ", " + std::to_string(e.end) + ") do not fit its shape or the file");
    }
    entries.push_back(std::move(e));
  }
  // The format requires the tensors to tile the data exactly (no overlap, no holes).
  std::vector<const Entry*> order;
  for (const auto& e : entries) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  std::uint64_t expect = 0;
  for (const Entry* e : order) {
    if (e->begin != expect) {
      throw IoError(where + ": tensor '" + e->name + "' overlaps another or leaves a gap in the data");
    }
    expect = e->end;
  }
  if (expect != data_size) throw IoError(where + ": data section has trailing bytes not owned by any tensor");

  std::map<std::string, torch::Tensor> out;
  for (const auto& e : entries) {
    auto t = torch::empty(e.shape, torch::dtype(e.dtype.stored));
    in.seekg(static_cast<std::streamoff>(data_begin + e.begin));
    if (!in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin))) {
      throw IoError(where + ": truncated while reading tensor '" + e.name + "'");
    }
    out.emplace(e.name, e.dtype.stored == e.dtype.returned ? t : t.to(e.dtype.returned));
  }
  return out;
}

}  // namespace ksparse::encoder::detail
