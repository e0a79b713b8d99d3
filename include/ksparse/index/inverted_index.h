// InvertedIndex: term -> postings (doc ids ascending, one precomputed score per posting), doc
// lengths, doc/term strings and collection statistics, stored as one binary file that is
// memory-mapped read-only on open (postings are never copied).
//
// Both index types store per-posting *scores*, so one query engine serves both:
//   kBm25    score(t, d) = BM25 contribution of t to d, computed at build time (k1, b in the
//   header) kImpact  score(t, d) = precomputed impact (e.g. a learned sparse model's document
//   weight)
// and a query scores a document as sum over query terms of query weight x score(t, d).
// Each posting list also carries its maximum score and per-block maxima (blocks of
// kPostingBlockSize postings) for dynamic pruning.
//
// File layout (format version 1, host little-endian; see src/index/index_format_internal.h):
//   fixed header (magic "KSPIDX", format version, type code, file size, FNV-1a checksum of the
//   body, counts, BM25 params, section table of {offset, size}) followed by 64-byte-aligned
//   sections. Old format versions are rejected with a message naming both versions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ksparse/index/bm25.h"
#include "ksparse/index/sparse_vector.h"

namespace ksparse {

enum class IndexType : std::uint32_t {
  kBm25 = 1,    // scores are BM25 contributions from term frequencies
  kImpact = 2,  // scores are precomputed impacts
};
// "bm25" | "impact"
std::string_view index_type_name(IndexType type);

inline constexpr std::size_t kPostingBlockSize = 64;

// A read-only view of one term's postings; valid while the InvertedIndex lives.
struct PostingList {
  std::span<const DocId> docs;              // ascending, unique
  std::span<const float> scores;            // scores[i] belongs to docs[i]; all > 0
  std::span<const DocId> block_last_docs;   // last doc of each block of kPostingBlockSize
  std::span<const float> block_max_scores;  // max score within each block
  float max_score = 0.0f;                   // max over all scores (0 for an empty list)
  std::size_t size() const { return docs.size(); }
};

struct IndexStats {
  std::uint64_t num_docs = 0;
  std::uint64_t num_terms = 0;
  std::uint64_t num_postings = 0;
  std::uint64_t total_doc_length = 0;  // sum of doc lengths in tokens
  double avg_doc_length = 0.0;         // total_doc_length / num_docs (0 when empty)
};

// Immutable after construction; all const methods are thread-safe. Movable, not copyable.
class InvertedIndex {
 public:
  static constexpr std::uint32_t kFormatVersion = 1;

  // Maps `path` read-only and validates the header and section table (not the checksum; see
  // verify()). Throws IoError naming the file for: unreadable or missing file, truncated file,
  // bad magic, wrong format version (both versions named), inconsistent sections.
  static InvertedIndex open(const std::filesystem::path& path);
  // Adopts a serialised image (IndexBuilder::finish()); same validation as open().
  static InvertedIndex from_image(std::vector<std::byte> image, std::string name = "<memory>");

  InvertedIndex(InvertedIndex&&) noexcept;
  InvertedIndex& operator=(InvertedIndex&&) noexcept;
  ~InvertedIndex();

  // Writes the image to `path` (creating parent directories); throws IoError when unwritable.
  void save(const std::filesystem::path& path) const;
  // Recomputes the body checksum; throws IoError naming the file on mismatch. Touches every page.
  void verify() const;

  IndexType type() const { return type_; }
  const IndexStats& stats() const { return stats_; }
  std::size_t num_docs() const { return stats_.num_docs; }
  std::size_t num_terms() const { return stats_.num_terms; }
  // BM25 parameters the scores were computed with (kBm25 only; defaults otherwise).
  const Bm25Params& bm25_params() const { return bm25_; }
  // Free-form build metadata stored in the file (analyzer options, source corpus, ...).
  const nlohmann::json& metadata() const { return metadata_; }
  // Where the index came from: its path, or the name given to from_image().
  const std::string& name() const { return name_; }

  // Term ids are the ranks of the terms in byte-wise sorted order. O(log num_terms).
  std::optional<TermId> find_term(std::string_view term) const;
  std::string_view term(TermId id) const;     // id < num_terms()
  std::string_view doc_id(DocId doc) const;   // doc < num_docs()
  std::uint32_t doc_length(DocId doc) const;  // doc < num_docs()
  PostingList postings(TermId id) const;      // id < num_terms()

 private:
  struct Storage;
  InvertedIndex() = default;
  void parse();

  std::unique_ptr<Storage> storage_;
  std::string name_;
  IndexType type_ = IndexType::kBm25;
  IndexStats stats_;
  Bm25Params bm25_;
  nlohmann::json metadata_;
  std::span<const std::uint32_t> doc_lengths_;
  std::span<const std::uint64_t> doc_id_offsets_;
  std::string_view doc_id_blob_;
  std::span<const std::uint64_t> term_offsets_;
  std::string_view term_blob_;
  std::span<const std::uint64_t> posting_offsets_;
  std::span<const float> term_max_scores_;
  std::span<const DocId> posting_docs_;
  std::span<const float> posting_scores_;
  std::span<const std::uint64_t> block_offsets_;
  std::span<const DocId> block_last_docs_;
  std::span<const float> block_max_scores_;
};

}  // namespace ksparse
