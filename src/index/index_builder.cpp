#include "ksparse/index/index_builder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "index_format_internal.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace fmt_ = index_format;

IndexBuilder::IndexBuilder(IndexType type, Bm25Params bm25) : type_(type), bm25_(bm25) {
  if (type_ == IndexType::kBm25) bm25_.validate();
}

DocId IndexBuilder::add(std::string_view doc_id, const SparseVector& weights,
                        std::uint32_t length) {
  if (doc_id.empty()) throw DataError("index builder: empty document id");
  if (doc_lengths_.size() >= UINT32_MAX) {
    throw DataError("index builder: more than 2^32-1 documents");
  }
  auto [it, inserted] = seen_doc_ids_.emplace(doc_id);
  if (!inserted) {
    throw DataError("index builder: duplicate document id '" + std::string(doc_id) +
                    "'; document ids must be unique");
  }
  const auto doc = static_cast<DocId>(doc_lengths_.size());
  double tf_sum = 0.0;
  for (const auto& e : weights.entries()) {
    if (e.term >= dictionary_.size()) {
      throw DataError("index builder: document '" + std::string(doc_id) + "' uses term id " +
                      std::to_string(e.term) + " not in the dictionary");
    }
    if (!(e.weight > 0.0f) || !std::isfinite(e.weight)) {
      throw DataError("index builder: document '" + std::string(doc_id) + "' has weight " +
                      std::to_string(e.weight) + " for term '" + dictionary_.term(e.term) +
                      "'; weights must be positive and finite");
    }
    tf_sum += e.weight;
  }
  if (type_ == IndexType::kBm25 && tf_sum > length) {
    throw DataError("index builder: document '" + std::string(doc_id) + "' has length " +
                    std::to_string(length) + " smaller than its term frequencies sum to");
  }
  if (postings_.size() < dictionary_.size()) postings_.resize(dictionary_.size());
  for (const auto& e : weights.entries()) postings_[e.term].push_back({doc, e.weight});
  doc_lengths_.push_back(length);
  doc_ids_.emplace_back(doc_id);
  return doc;
}

DocId IndexBuilder::add_tokens(std::string_view doc_id, const std::vector<std::string>& tokens) {
  std::vector<TermId> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) ids.push_back(dictionary_.add(t));
  return add(doc_id, SparseVector::from_counts(ids), static_cast<std::uint32_t>(tokens.size()));
}

namespace {

// Appends sections to a byte image, each aligned to kAlignment.
class ImageWriter {
 public:
  explicit ImageWriter(std::size_t reserve) { image_.reserve(reserve); }
  fmt_::SectionEntry add(const void* data, std::size_t size) {
    image_.resize((image_.size() + fmt_::kAlignment - 1) / fmt_::kAlignment * fmt_::kAlignment);
    fmt_::SectionEntry e{image_.size(), size};
    image_.resize(image_.size() + size);
    if (size > 0) std::memcpy(image_.data() + e.offset, data, size);
    return e;
  }
  template <typename T>
  fmt_::SectionEntry add(const std::vector<T>& v) {
    return add(v.data(), v.size() * sizeof(T));
  }
  std::vector<std::byte>& image() { return image_; }

 private:
  std::vector<std::byte> image_;
};

}  // namespace

std::vector<std::byte> IndexBuilder::finish() {
  postings_.resize(dictionary_.size());
  const std::uint64_t num_docs = doc_lengths_.size();
  const std::uint64_t total_len =
      std::accumulate(doc_lengths_.begin(), doc_lengths_.end(), std::uint64_t{0});
  const double avg_len = num_docs == 0 ? 0.0 : static_cast<double>(total_len) / num_docs;

  // Final term ids are ranks in byte-wise sorted order, so lookups can binary-search the mmapped
  // term strings without building a hash table on load.
  std::vector<TermId> order(dictionary_.size());
  std::iota(order.begin(), order.end(), TermId{0});
  const auto& terms = dictionary_.terms();
  std::sort(order.begin(), order.end(), [&](TermId a, TermId b) { return terms[a] < terms[b]; });

  std::vector<std::uint64_t> term_offsets{0}, posting_offsets{0}, block_offsets{0};
  std::string term_blob;
  std::vector<float> term_max;
  std::uint64_t num_postings = 0;
  for (const auto& p : postings_) num_postings += p.size();
  std::vector<DocId> docs;
  std::vector<float> scores;
  std::vector<DocId> block_last;
  std::vector<float> block_max;
  docs.reserve(num_postings);
  scores.reserve(num_postings);
  term_offsets.reserve(order.size() + 1);
  posting_offsets.reserve(order.size() + 1);
  block_offsets.reserve(order.size() + 1);
  term_max.reserve(order.size());
  for (TermId old_id : order) {
    term_blob += terms[old_id];
    term_offsets.push_back(term_blob.size());
    auto& list = postings_[old_id];
    const float idf = type_ == IndexType::kBm25 ? bm25_idf(num_docs, list.size()) : 0.0f;
    float max_score = 0.0f;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& p = list[i];
      float s = p.value;
      if (type_ == IndexType::kBm25) {
        s = bm25_term_score(idf, p.value, static_cast<float>(doc_lengths_[p.doc]),
                            static_cast<float>(avg_len), bm25_);
      }
      docs.push_back(p.doc);
      scores.push_back(s);
      max_score = std::max(max_score, s);
      if (i % kPostingBlockSize == 0) block_max.push_back(s);
      block_max.back() = std::max(block_max.back(), s);
      if ((i + 1) % kPostingBlockSize == 0 || i + 1 == list.size()) block_last.push_back(p.doc);
    }
    term_max.push_back(max_score);
    posting_offsets.push_back(docs.size());
    block_offsets.push_back(block_last.size());
    std::vector<Posting>().swap(list);  // release memory as we go
  }
  std::vector<std::uint64_t> doc_offsets{0};
  std::string doc_blob;
  doc_offsets.reserve(doc_ids_.size() + 1);
  for (const auto& id : doc_ids_) {
    doc_blob += id;
    doc_offsets.push_back(doc_blob.size());
  }
  const std::string meta = metadata_.dump();

  fmt_::Header h{};
  std::memcpy(h.magic, fmt_::kMagic, sizeof(h.magic));
  h.format_version = InvertedIndex::kFormatVersion;
  h.byte_order_mark = fmt_::kByteOrderMark;
  h.type_code = static_cast<std::uint32_t>(type_);
  h.num_sections = fmt_::kNumSections;
  h.num_docs = num_docs;
  h.num_terms = order.size();
  h.num_postings = num_postings;
  h.num_blocks = block_last.size();
  h.total_doc_length = total_len;
  h.k1 = type_ == IndexType::kBm25 ? bm25_.k1 : 0.0f;
  h.b = type_ == IndexType::kBm25 ? bm25_.b : 0.0f;
  h.block_size = kPostingBlockSize;

  ImageWriter w(sizeof(h) + num_postings * 8 + block_last.size() * 8 + term_blob.size() +
                doc_blob.size() + order.size() * 28 + num_docs * 12 + meta.size() + 1024);
  w.add(&h, sizeof(h));
  h.sections[fmt_::kMetadata] = w.add(meta.data(), meta.size());
  h.sections[fmt_::kDocLengths] = w.add(doc_lengths_);
  h.sections[fmt_::kDocIdOffsets] = w.add(doc_offsets);
  h.sections[fmt_::kDocIdBlob] = w.add(doc_blob.data(), doc_blob.size());
  h.sections[fmt_::kTermOffsets] = w.add(term_offsets);
  h.sections[fmt_::kTermBlob] = w.add(term_blob.data(), term_blob.size());
  h.sections[fmt_::kPostingOffsets] = w.add(posting_offsets);
  h.sections[fmt_::kTermMaxScores] = w.add(term_max);
  h.sections[fmt_::kPostingDocs] = w.add(docs);
  h.sections[fmt_::kPostingScores] = w.add(scores);
  h.sections[fmt_::kBlockOffsets] = w.add(block_offsets);
  h.sections[fmt_::kBlockLastDocs] = w.add(block_last);
  h.sections[fmt_::kBlockMaxScores] = w.add(block_max);
  auto& image = w.image();
  h.file_size = image.size();
  h.checksum = fmt_::checksum64(std::span<const std::byte>(image).subspan(sizeof(h)));
  std::memcpy(image.data(), &h, sizeof(h));

  // Leave the builder empty and reusable.
  std::vector<std::byte> out = std::move(image);
  *this = IndexBuilder(type_, bm25_);
  return out;
}

InvertedIndex IndexBuilder::build(std::string name) {
  return InvertedIndex::from_image(finish(), std::move(name));
}

}  // namespace ksparse
