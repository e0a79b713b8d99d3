#include "ksparse/index/inverted_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "index_format_internal.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace fs = std::filesystem;
namespace fmt_ = index_format;

std::string_view index_type_name(IndexType type) {
  switch (type) {
    case IndexType::kBm25:
      return "bm25";
    case IndexType::kImpact:
      return "impact";
  }
  return "unknown";
}

// The bytes of an index: either a read-only private mapping of a file or an owned buffer.
struct InvertedIndex::Storage {
  void* map = nullptr;
  std::size_t map_size = 0;
  std::vector<std::byte> owned;

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (map != nullptr) ::munmap(map, map_size);
  }
  std::span<const std::byte> bytes() const {
    if (map != nullptr) return {static_cast<const std::byte*>(map), map_size};
    return {owned.data(), owned.size()};
  }
};

InvertedIndex::InvertedIndex(InvertedIndex&&) noexcept = default;
InvertedIndex& InvertedIndex::operator=(InvertedIndex&&) noexcept = default;
InvertedIndex::~InvertedIndex() = default;

InvertedIndex InvertedIndex::open(const fs::path& path) {
  InvertedIndex index;
  index.name_ = path.string();
  index.storage_ = std::make_unique<Storage>();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw IoError("cannot open index file " + path.string() + ": " + std::strerror(errno) +
                  " (build one with `ksparse index build`)");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError("cannot read index file " + path.string() + ": not a regular file");
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size < sizeof(fmt_::Header)) {
    ::close(fd);
    throw IoError("index file " + path.string() + " is truncated: " + std::to_string(size) +
                  " bytes, smaller than the " + std::to_string(sizeof(fmt_::Header)) +
                  "-byte header; rebuild it with `ksparse index build`");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) {
    throw IoError("cannot memory-map index file " + path.string() + ": " +
                  std::strerror(map_errno));
  }
  index.storage_->map = map;
  index.storage_->map_size = size;
  index.parse();
  return index;
}

InvertedIndex InvertedIndex::from_image(std::vector<std::byte> image, std::string name) {
  InvertedIndex index;
  index.name_ = std::move(name);
  index.storage_ = std::make_unique<Storage>();
  index.storage_->owned = std::move(image);
  if (index.storage_->owned.size() < sizeof(fmt_::Header)) {
    throw IoError("index " + index.name_ + " is truncated: smaller than its header");
  }
  index.parse();
  return index;
}

namespace {

template <typename T>
std::span<const T> typed(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
}

}  // namespace

void InvertedIndex::parse() {
  const auto bytes = storage_->bytes();
  fmt_::Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  const std::string rebuild = "; rebuild it with `ksparse index build`";
  if (std::memcmp(h.magic, fmt_::kMagic, sizeof(h.magic)) != 0) {
    throw IoError(name_ + " is not a ksparse index (bad magic number)");
  }
  if (h.byte_order_mark != fmt_::kByteOrderMark) {
    throw IoError(name_ + " was written on a machine with a different byte order" + rebuild);
  }
  if (h.format_version != kFormatVersion) {
    throw IoError(name_ + " has index format version " + std::to_string(h.format_version) +
                  " but this ksparse reads format version " + std::to_string(kFormatVersion) +
                  rebuild);
  }
  if (h.file_size != bytes.size()) {
    throw IoError(name_ + " is truncated or has trailing bytes: header says " +
                  std::to_string(h.file_size) + " bytes, file has " + std::to_string(bytes.size()) +
                  rebuild);
  }
  if (h.type_code != static_cast<std::uint32_t>(IndexType::kBm25) &&
      h.type_code != static_cast<std::uint32_t>(IndexType::kImpact)) {
    throw IoError(name_ + " has unknown index type code " + std::to_string(h.type_code));
  }
  if (h.num_sections != fmt_::kNumSections || h.block_size != kPostingBlockSize) {
    throw IoError(name_ + " has an unexpected section table or block size" + rebuild);
  }
  auto section = [&](fmt_::Section s, std::uint64_t expected_size, const char* what) {
    const auto& e = h.sections[s];
    if (e.offset % fmt_::kAlignment != 0 || e.offset > bytes.size() ||
        e.size > bytes.size() - e.offset) {
      throw IoError(name_ + " is corrupt: section '" + what + "' lies outside the file" + rebuild);
    }
    if (expected_size != UINT64_MAX && e.size != expected_size) {
      throw IoError(name_ + " is corrupt: section '" + what + "' has " + std::to_string(e.size) +
                    " bytes, expected " + std::to_string(expected_size) + rebuild);
    }
    return bytes.subspan(e.offset, e.size);
  };
  const std::uint64_t nd = h.num_docs, nt = h.num_terms, np = h.num_postings, nb = h.num_blocks;
  auto meta = section(fmt_::kMetadata, UINT64_MAX, "metadata");
  doc_lengths_ = typed<std::uint32_t>(section(fmt_::kDocLengths, nd * 4, "doc lengths"));
  doc_id_offsets_ = typed<std::uint64_t>(section(fmt_::kDocIdOffsets, (nd + 1) * 8, "doc ids"));
  auto doc_blob = section(fmt_::kDocIdBlob, UINT64_MAX, "doc id strings");
  term_offsets_ = typed<std::uint64_t>(section(fmt_::kTermOffsets, (nt + 1) * 8, "terms"));
  auto term_blob = section(fmt_::kTermBlob, UINT64_MAX, "term strings");
  posting_offsets_ =
      typed<std::uint64_t>(section(fmt_::kPostingOffsets, (nt + 1) * 8, "posting offsets"));
  term_max_scores_ = typed<float>(section(fmt_::kTermMaxScores, nt * 4, "term max scores"));
  posting_docs_ = typed<DocId>(section(fmt_::kPostingDocs, np * 4, "posting docs"));
  posting_scores_ = typed<float>(section(fmt_::kPostingScores, np * 4, "posting scores"));
  block_offsets_ =
      typed<std::uint64_t>(section(fmt_::kBlockOffsets, (nt + 1) * 8, "block offsets"));
  block_last_docs_ = typed<DocId>(section(fmt_::kBlockLastDocs, nb * 4, "block last docs"));
  block_max_scores_ = typed<float>(section(fmt_::kBlockMaxScores, nb * 4, "block max scores"));
  doc_id_blob_ = {reinterpret_cast<const char*>(doc_blob.data()), doc_blob.size()};
  term_blob_ = {reinterpret_cast<const char*>(term_blob.data()), term_blob.size()};

  // Offsets arrays must be monotone and end at their array's size, or accessors would read out
  // of bounds. O(num_docs + num_terms); postings themselves are not touched.
  auto check_offsets = [&](std::span<const std::uint64_t> off, std::uint64_t end,
                           const char* what) {
    bool ok = off.front() == 0 && off.back() == end;
    for (std::size_t i = 1; ok && i < off.size(); ++i) ok = off[i - 1] <= off[i];
    if (!ok) throw IoError(name_ + " is corrupt: bad " + std::string(what) + " offsets" + rebuild);
  };
  check_offsets(doc_id_offsets_, doc_id_blob_.size(), "doc id");
  check_offsets(term_offsets_, term_blob_.size(), "term");
  check_offsets(posting_offsets_, np, "posting");
  check_offsets(block_offsets_, nb, "block");

  type_ = static_cast<IndexType>(h.type_code);
  bm25_.k1 = h.k1;
  bm25_.b = h.b;
  stats_.num_docs = nd;
  stats_.num_terms = nt;
  stats_.num_postings = np;
  stats_.total_doc_length = h.total_doc_length;
  stats_.avg_doc_length = nd == 0 ? 0.0 : static_cast<double>(h.total_doc_length) / nd;
  try {
    metadata_ = nlohmann::json::parse(reinterpret_cast<const char*>(meta.data()),
                                      reinterpret_cast<const char*>(meta.data() + meta.size()));
  } catch (const nlohmann::json::exception& e) {
    throw IoError(name_ + " is corrupt: metadata is not valid JSON (" + e.what() + ")" + rebuild);
  }
}

void InvertedIndex::save(const fs::path& path) const {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const auto bytes = storage_->bytes();
  // Write to a temporary name and rename, so a crash never leaves a half-written index behind.
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write index file " + tmp.string());
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out) throw IoError("error writing index file " + tmp.string() + " (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    throw IoError("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
}

void InvertedIndex::verify() const {
  const auto bytes = storage_->bytes();
  fmt_::Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  if (fmt_::checksum64(bytes.subspan(sizeof(h))) != h.checksum) {
    throw IoError(name_ + " is corrupt: checksum mismatch; rebuild it with `ksparse index build`");
  }
}

std::optional<TermId> InvertedIndex::find_term(std::string_view t) const {
  std::size_t lo = 0, hi = stats_.num_terms;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const std::string_view m = term(static_cast<TermId>(mid));
    if (m < t) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < stats_.num_terms && term(static_cast<TermId>(lo)) == t) return static_cast<TermId>(lo);
  return std::nullopt;
}

std::string_view InvertedIndex::term(TermId id) const {
  return term_blob_.substr(term_offsets_[id], term_offsets_[id + 1] - term_offsets_[id]);
}

std::string_view InvertedIndex::doc_id(DocId doc) const {
  return doc_id_blob_.substr(doc_id_offsets_[doc], doc_id_offsets_[doc + 1] - doc_id_offsets_[doc]);
}

std::uint32_t InvertedIndex::doc_length(DocId doc) const { return doc_lengths_[doc]; }

PostingList InvertedIndex::postings(TermId id) const {
  PostingList list;
  const auto begin = posting_offsets_[id], end = posting_offsets_[id + 1];
  list.docs = posting_docs_.subspan(begin, end - begin);
  list.scores = posting_scores_.subspan(begin, end - begin);
  const auto bbegin = block_offsets_[id], bend = block_offsets_[id + 1];
  list.block_last_docs = block_last_docs_.subspan(bbegin, bend - bbegin);
  list.block_max_scores = block_max_scores_.subspan(bbegin, bend - bbegin);
  list.max_score = term_max_scores_[id];
  return list;
}

}  // namespace ksparse
