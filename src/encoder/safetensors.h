// Private to src/encoder: the safetensors file format (Hugging Face), our own reader and writer.
//
// Layout: 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {"format": "pt", ...}, "<name>": {"dtype": "F32", "shape": [..],
//    "data_offsets": [begin, end]}, ...}
// (padded with spaces to a multiple of 8), then the raw little-endian tensor data; offsets are
// relative to the end of the header and the tensors tile the data without gaps.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>

namespace ksparse::encoder::detail {

// Writes every tensor as contiguous F32 (other float dtypes are converted), names in sorted order.
// `metadata` goes into "__metadata__" next to "format": "pt" (which `transformers` requires).
// Writes to a temporary file and renames it into place. Throws IoError.
void write_safetensors(const std::filesystem::path& path,
                       const std::map<std::string, torch::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Reads F32, F16, BF16 (returned as float32), F64 (as float32) and I64/I32 (as int64) tensors.
// `metadata` (optional) receives "__metadata__". Throws IoError naming the file for a truncated
// file, a malformed header, offsets outside the data or overlapping/gapped, a dtype we do not
// read, or a shape that does not match the byte count.
std::map<std::string, torch::Tensor> read_safetensors(
    const std::filesystem::path& path, std::map<std::string, std::string>* metadata = nullptr);

}  // namespace ksparse::encoder::detail
