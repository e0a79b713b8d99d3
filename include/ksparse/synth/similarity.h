// Text similarity for filtering synthetic data: normalised text, character n-gram shingles,
// Jaccard similarity, MinHash signatures and an LSH index over them.
//
// All functions are pure and thread-safe; MinHasher and MinHashIndex are plain values (an index is
// not synchronised).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ksparse::synth {

// The form two queries are compared in: NFKC, Unicode lowercase, every run of whitespace as one
// ASCII space, no leading/trailing space. "  BERT　모델\t학습 " -> "bert 모델 학습".
std::string normalize_for_dedup(std::string_view text);

// Distinct character n-grams (n code points, over the text as given) as 64-bit hashes, sorted and
// unique. A text shorter than n yields one shingle for the whole text; an empty text none.
std::vector<std::uint64_t> char_shingles(std::string_view text, std::size_t n);

// |A ∩ B| / |A ∪ B| of two sorted unique sets; 1 when both are empty.
double jaccard(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b);
// |A ∩ B| / |A|: the share of A found in B; 0 when A is empty.
double containment(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b);

// MinHash (Broder 1997): for each of `num_hashes` seeded hash functions h_i, the minimum of
// h_i(shingle) over the set. The share of equal positions in two signatures is an unbiased
// estimate of the sets' Jaccard similarity. The same (num_hashes, seed) always gives the same
// functions, on every platform.
class MinHasher {
 public:
  explicit MinHasher(std::size_t num_hashes = 64, std::uint64_t seed = 0x6b73706172736531ULL);
  // Signature of a shingle set; all positions UINT64_MAX for an empty set.
  std::vector<std::uint64_t> signature(const std::vector<std::uint64_t>& shingles) const;
  std::size_t num_hashes() const { return seeds_.size(); }

 private:
  std::vector<std::uint64_t> seeds_;
};

// Share of equal positions (the MinHash Jaccard estimate). Signatures must have equal length.
double minhash_similarity(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b);

// Locality-sensitive hashing over MinHash signatures (banding; Leskovec, Rajaraman & Ullman,
// "Mining of Massive Datasets", ch. 3.4): a signature is cut into `bands` bands of
// num_hashes/bands rows; two items are candidates when any band is identical. With 16 bands of 4
// rows, pairs with Jaccard 0.7 collide with probability 0.99, pairs at 0.3 with 0.12.
class MinHashIndex {
 public:
  explicit MinHashIndex(std::size_t bands = 16) : bands_(bands) {}
  // Adds item `id` (any caller-chosen number). The signature length must be a multiple of bands.
  void add(std::size_t id, const std::vector<std::uint64_t>& signature);
  // Ids that share at least one band with `signature`, ascending, without repeats.
  std::vector<std::size_t> candidates(const std::vector<std::uint64_t>& signature) const;
  std::size_t size() const { return count_; }

 private:
  std::vector<std::uint64_t> band_keys(const std::vector<std::uint64_t>& signature) const;

  std::size_t bands_;
  std::size_t count_ = 0;
  std::unordered_multimap<std::uint64_t, std::size_t> buckets_;  // (band, band hash) key -> id
};

// Deterministic 64-bit hash of bytes (FNV-1a followed by a SplitMix64 finaliser); used for
// shingles and for seeding per-item random streams, so results never depend on std::hash.
std::uint64_t stable_hash(std::string_view bytes, std::uint64_t seed = 0);
// SplitMix64 finaliser (Steele, Lea & Flood 2014).
std::uint64_t mix64(std::uint64_t x);

}  // namespace ksparse::synth
