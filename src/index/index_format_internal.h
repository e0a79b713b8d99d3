// On-disk layout of an InvertedIndex file (format version 1). Private to src/index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ksparse::index_format {

inline constexpr char kMagic[8] = {'K', 'S', 'P', 'I', 'D', 'X', '\0', '\0'};
inline constexpr std::uint32_t kByteOrderMark = 0x01020304u;  // reads differently on big-endian
inline constexpr std::size_t kAlignment = 64;

enum Section : std::uint32_t {
  kMetadata = 0,    // UTF-8 JSON text
  kDocLengths,      // u32[num_docs]
  kDocIdOffsets,    // u64[num_docs + 1] into kDocIdBlob
  kDocIdBlob,       // concatenated doc id strings
  kTermOffsets,     // u64[num_terms + 1] into kTermBlob (terms sorted byte-wise)
  kTermBlob,        // concatenated term strings
  kPostingOffsets,  // u64[num_terms + 1] into kPostingDocs/kPostingScores
  kTermMaxScores,   // f32[num_terms]
  kPostingDocs,     // u32[num_postings]
  kPostingScores,   // f32[num_postings]
  kBlockOffsets,    // u64[num_terms + 1] into the block arrays
  kBlockLastDocs,   // u32[num_blocks]
  kBlockMaxScores,  // f32[num_blocks]
  kNumSections
};

struct SectionEntry {
  std::uint64_t offset;  // from the start of the file, a multiple of kAlignment
  std::uint64_t size;    // bytes
};

struct Header {
  char magic[8];
  std::uint32_t format_version;
  std::uint32_t byte_order_mark;
  std::uint32_t type_code;  // IndexType
  std::uint32_t num_sections;
  std::uint64_t file_size;
  std::uint64_t checksum;  // checksum64 of bytes [sizeof(Header), file_size)
  std::uint64_t num_docs;
  std::uint64_t num_terms;
  std::uint64_t num_postings;
  std::uint64_t num_blocks;
  std::uint64_t total_doc_length;
  float k1;
  float b;
  std::uint32_t block_size;
  std::uint32_t reserved;
  SectionEntry sections[kNumSections];
};

// FNV-1a 64-bit (Fowler, Noll, Vo) applied to 64-bit words instead of bytes (8x fewer serial
// multiplies), then to the trailing bytes: simple, portable, good enough to detect corruption.
inline std::uint64_t checksum64(std::span<const std::byte> bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  constexpr std::uint64_t kPrime = 0x100000001b3ull;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * kPrime;
  }
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<std::uint8_t>(bytes[i])) * kPrime;
  return h;
}

}  // namespace ksparse::index_format
