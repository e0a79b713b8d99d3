// SHA-256 (FIPS 180-4), streaming. Used for artifact manifests (input/output checksums) and for
// content-derived ids.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ksparse {

// Incremental SHA-256. Feed bytes with update() any number of times, then call digest() once;
// after digest() the object must be reset() before reuse. Not thread-safe (one per thread).
class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256() { reset(); }
  void reset();
  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  Digest digest();
  // digest() as 64 lowercase hex characters.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;       // bytes in buffer_
  std::uint64_t total_bytes_ = 0;  // message length so far
};

// Lowercase hex of bytes.
std::string to_hex(const std::uint8_t* data, std::size_t size);

// SHA-256 of `data` as lowercase hex.
std::string sha256_hex(std::string_view data);

// SHA-256 of a file's contents as lowercase hex, read in 1 MiB chunks (constant memory). Stores the
// file size in `bytes` when non-null. Throws IoError when the file cannot be read.
std::string sha256_file(const std::filesystem::path& path, std::uint64_t* bytes = nullptr);

}  // namespace ksparse
