#include "ksparse/synth/similarity.h"

#include <algorithm>
#include <limits>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "ksparse/core/utf8.h"

namespace ksparse::synth {

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t stable_hash(std::string_view bytes, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ mix64(seed);
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  // FNV-1a alone mixes the last bytes poorly into the high bits; the finaliser fixes that.
  return mix64(h);
}

std::string normalize_for_dedup(std::string_view text) {
  const std::string lowered = to_lower(nfkc(text));
  std::string out;
  out.reserve(lowered.size());
  bool pending_space = false;
  std::size_t pos = 0;
  while (pos < lowered.size()) {
    const std::size_t start = pos;
    const char32_t c = utf8_next(lowered, pos);
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out.append(lowered, start, pos - start);
  }
  return out;
}

std::vector<std::uint64_t> char_shingles(std::string_view text, std::size_t n) {
  if (n == 0) throw ConfigError("char_shingles: n-gram size must be >= 1");
  std::vector<std::size_t> starts;  // byte offset of each code point, plus the end
  std::size_t pos = 0;
  while (pos < text.size()) {
    starts.push_back(pos);
    utf8_next(text, pos);
  }
  starts.push_back(text.size());
  const std::size_t chars = starts.size() - 1;
  std::vector<std::uint64_t> out;
  if (chars == 0) return out;
  if (chars < n) {
    out.push_back(stable_hash(text));
    return out;
  }
  out.reserve(chars - n + 1);
  for (std::size_t i = 0; i + n <= chars; ++i) {
    out.push_back(stable_hash(text.substr(starts[i], starts[i + n] - starts[i])));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

std::size_t intersection_size(const std::vector<std::uint64_t>& a,
                              const std::vector<std::uint64_t>& b) {
  std::size_t i = 0, j = 0, n = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      ++n;
      ++i;
      ++j;
    }
  }
  return n;
}

}  // namespace

double jaccard(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  if (a.empty() && b.empty()) return 1.0;
  const std::size_t inter = intersection_size(a, b);
  return static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
}

double containment(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b) {
  if (a.empty()) return 0.0;
  return static_cast<double>(intersection_size(a, b)) / static_cast<double>(a.size());
}

MinHasher::MinHasher(std::size_t num_hashes, std::uint64_t seed) {
  if (num_hashes == 0) throw ConfigError("MinHasher: num_hashes must be >= 1");
  seeds_.reserve(num_hashes);
  std::uint64_t s = seed;
  for (std::size_t i = 0; i < num_hashes; ++i) {
    s = mix64(s);
    seeds_.push_back(s);
  }
}

std::vector<std::uint64_t> MinHasher::signature(const std::vector<std::uint64_t>& shingles) const {
  std::vector<std::uint64_t> sig(seeds_.size(), std::numeric_limits<std::uint64_t>::max());
  // h_i(x) = mix64(x ^ seed_i): a family of independent-looking permutations of 64-bit values.
  for (std::uint64_t x : shingles) {
    for (std::size_t i = 0; i < seeds_.size(); ++i) {
      sig[i] = std::min(sig[i], mix64(x ^ seeds_[i]));
    }
  }
  return sig;
}

double minhash_similarity(const std::vector<std::uint64_t>& a,
                          const std::vector<std::uint64_t>& b) {
  if (a.size() != b.size() || a.empty()) {
    throw ConfigError("minhash_similarity: signatures must be non-empty and of equal length");
  }
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return static_cast<double>(same) / static_cast<double>(a.size());
}

std::vector<std::uint64_t> MinHashIndex::band_keys(
    const std::vector<std::uint64_t>& signature) const {
  if (bands_ == 0 || signature.empty() || signature.size() % bands_ != 0) {
    throw ConfigError("MinHashIndex: signature length " + std::to_string(signature.size()) +
                      " is not a positive multiple of the band count " + std::to_string(bands_));
  }
  const std::size_t rows = signature.size() / bands_;
  std::vector<std::uint64_t> keys(bands_);
  for (std::size_t b = 0; b < bands_; ++b) {
    std::uint64_t h = mix64(b + 1);
    for (std::size_t r = 0; r < rows; ++r) h = mix64(h ^ signature[b * rows + r]);
    keys[b] = h;
  }
  return keys;
}

void MinHashIndex::add(std::size_t id, const std::vector<std::uint64_t>& signature) {
  for (std::uint64_t key : band_keys(signature)) buckets_.emplace(key, id);
  ++count_;
}

std::vector<std::size_t> MinHashIndex::candidates(
    const std::vector<std::uint64_t>& signature) const {
  std::vector<std::size_t> out;
  for (std::uint64_t key : band_keys(signature)) {
    auto [lo, hi] = buckets_.equal_range(key);
    for (auto it = lo; it != hi; ++it) out.push_back(it->second);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ksparse::synth
