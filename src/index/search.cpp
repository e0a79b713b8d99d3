#include "ksparse/index/search.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <mutex>
#include <string>
#include <thread>

#include "ksparse/core/error.h"

namespace ksparse {
namespace {

constexpr DocId kEnd = std::numeric_limits<DocId>::max();

// Result order: score descending, ties by doc id ascending.
bool better(const Hit& a, const Hit& b) {
  return a.score > b.score || (a.score == b.score && a.doc < b.doc);
}

// Bounded top-k heap; front() is the worst kept hit.
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k + 1); }
  bool full() const { return heap_.size() == k_; }
  // Score a new hit must exceed to enter (only meaningful when full()).
  float threshold() const { return heap_.front().score; }
  // True when `h` entered the heap.
  bool push(const Hit& h) {
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), better);
      return true;
    }
    if (!better(h, heap_.front())) return false;
    std::pop_heap(heap_.begin(), heap_.end(), better);
    heap_.back() = h;
    std::push_heap(heap_.begin(), heap_.end(), better);
    return true;
  }
  std::vector<Hit> take() {
    std::sort_heap(heap_.begin(), heap_.end(), better);
    return std::move(heap_);
  }

 private:
  std::size_t k_;
  std::vector<Hit> heap_;
};

void check_query(const InvertedIndex& index, const SparseVector& query) {
  for (const auto& e : query.entries()) {
    if (e.term >= index.num_terms()) {
      throw DataError("query term id " + std::to_string(e.term) + " is not in index " +
                      index.name() + " (" + std::to_string(index.num_terms()) + " terms)");
    }
    if (!(e.weight > 0.0f) || !std::isfinite(e.weight)) {
      throw DataError("query weight " + std::to_string(e.weight) + " for term '" +
                      std::string(index.term(e.term)) + "' is invalid; weights must be positive");
    }
  }
}

// A document-at-a-time cursor over one query term's postings.
struct Cursor {
  PostingList list;
  float weight = 0.0f;
  float upper_bound = 0.0f;   // weight x list.max_score
  std::size_t canonical = 0;  // position of the term in the query (ascending term id)
  std::size_t pos = 0;
  std::size_t block = 0;  // first block whose last doc may be >= the last target

  DocId doc() const { return pos < list.docs.size() ? list.docs[pos] : kEnd; }
  float contribution() const { return weight * list.scores[pos]; }
  // Moves `block` to the block that would contain `target`; returns that block's bound on this
  // term's contribution (0 when the list has no doc >= target).
  float block_bound(DocId target) {
    const auto& last = list.block_last_docs;
    while (block < last.size() && last[block] < target) ++block;
    return block < last.size() ? weight * list.block_max_scores[block] : 0.0f;
  }
  // Advances to the first posting with doc >= target, skipping whole blocks.
  void next_geq(DocId target) {
    if (doc() >= target) return;
    block_bound(target);
    pos = std::max(pos, block * kPostingBlockSize);
    const auto& docs = list.docs;
    while (pos < docs.size() && docs[pos] < target) ++pos;
  }
};

}  // namespace

std::string_view search_algorithm_name(SearchAlgorithm algorithm) {
  return algorithm == SearchAlgorithm::kMaxScore ? "maxscore" : "exhaustive";
}

void SearchOptions::validate() const {
  if (k == 0) throw ConfigError("search k = 0 is invalid; ask for at least 1 result");
}

Searcher::Searcher(const InvertedIndex& index) : index_(&index) {}

std::vector<Hit> Searcher::search(const SparseVector& query, const SearchOptions& options) {
  options.validate();
  check_query(*index_, query);
  ++counters_.queries;
  if (query.empty()) return {};
  if (options.algorithm == SearchAlgorithm::kMaxScore && options.taat_below_postings > 0) {
    std::size_t total = 0;
    for (const auto& e : query.entries()) total += index_->postings(e.term).size();
    // Few postings in total: term-at-a-time over them is cheaper than MaxScore's per-candidate
    // bookkeeping (which grows with the number of query terms), and returns the same top k.
    if (total < options.taat_below_postings) return exhaustive(query, options.k);
  }
  return options.algorithm == SearchAlgorithm::kExhaustive ? exhaustive(query, options.k)
                                                           : maxscore(query, options.k);
}

std::vector<Hit> Searcher::exhaustive(const SparseVector& query, std::size_t k) {
  const std::size_t n = index_->num_docs();
  if (accumulators_.size() != n) accumulators_.assign(n, 0.0f);
  std::size_t total = 0;
  for (const auto& e : query.entries()) total += index_->postings(e.term).size();
  counters_.postings_scored += total;
  // Few postings: remember touched documents instead of scanning every accumulator.
  const bool sparse = total < n / 8;
  touched_.clear();
  // Terms in ascending id order, so each document's score is summed in the canonical order.
  for (const auto& e : query.entries()) {
    const PostingList list = index_->postings(e.term);
    const float w = e.weight;
    if (sparse) {
      for (std::size_t i = 0; i < list.size(); ++i) {
        float& acc = accumulators_[list.docs[i]];
        if (acc == 0.0f) touched_.push_back(list.docs[i]);
        const float c = w * list.scores[i];
        acc += c;
      }
    } else {
      for (std::size_t i = 0; i < list.size(); ++i) {
        const float c = w * list.scores[i];
        accumulators_[list.docs[i]] += c;
      }
    }
  }
  TopK top(k);
  auto collect = [&](DocId d) {
    const float s = accumulators_[d];
    accumulators_[d] = 0.0f;
    if (s > 0.0f) {
      ++counters_.candidates;
      top.push({d, s});
    }
  };
  if (sparse) {
    // A document whose first contribution underflowed to 0 may appear twice; the second visit
    // finds its accumulator already reset and skips it.
    for (DocId d : touched_) collect(d);
  } else {
    for (DocId d = 0; d < n; ++d) collect(d);
  }
  return top.take();
}

std::vector<Hit> Searcher::maxscore(const SparseVector& query, std::size_t k) {
  const std::size_t n = query.size();
  std::vector<Cursor> cursors;
  cursors.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& e = query.entries()[i];
    Cursor c;
    c.list = index_->postings(e.term);
    c.weight = e.weight;
    c.upper_bound = e.weight * c.list.max_score;
    c.canonical = i;
    if (c.list.size() > 0) cursors.push_back(c);
  }
  const std::size_t m = cursors.size();
  // MaxScore (Turtle & Flood 1995): sort by upper bound; the shortest prefix of terms whose
  // bounds sum to at most the current threshold is "non-essential": a document matching only
  // those cannot enter the top k, so candidates come from the essential lists alone and the
  // non-essential lists are only probed (skipping) for those candidates.
  std::sort(cursors.begin(), cursors.end(), [](const Cursor& a, const Cursor& b) {
    return a.upper_bound < b.upper_bound ||
           (a.upper_bound == b.upper_bound && a.canonical < b.canonical);
  });
  std::vector<float> prefix_ub(m + 1, 0.0f);  // prefix_ub[i] = sum of bounds of cursors [0, i)
  for (std::size_t i = 0; i < m; ++i) prefix_ub[i + 1] = prefix_ub[i] + cursors[i].upper_bound;

  // Pruning compares float sums taken in a different order than the exact score; shrink the
  // threshold by a bound on that rounding error so pruning never drops a true top-k document.
  const float rel_margin = static_cast<float>(std::max<std::size_t>(m, 4)) * 0x1p-20f;
  TopK top(k);
  float safe_threshold = -1.0f;  // prune a doc when its score bound is <= this
  std::size_t first_essential = 0;
  std::vector<float> contrib(n, 0.0f);
  std::vector<std::size_t> matched;
  matched.reserve(m);

  // Documents <= checked_until lie in a block window already found not skippable.
  std::int64_t checked_until = -1;
  auto min_essential_doc = [&] {
    DocId d = kEnd;
    for (std::size_t i = first_essential; i < m; ++i) d = std::min(d, cursors[i].doc());
    return d;
  };
  DocId cur = min_essential_doc();
  while (first_essential < m && cur != kEnd) {
    if (top.full() && cur > checked_until) {
      // Block-max window skip (the idea of BMW, Ding & Suel 2011, applied to the essential lists):
      // within a window of documents starting at `cur` and ending before any essential list's
      // current block ends, an essential list contributes at most its block maximum, or nothing
      // when its next document lies beyond the window. If the window's bound plus the
      // non-essential bounds cannot beat the threshold, jump every essential list past it.
      DocId window_end = kEnd;
      float bound = prefix_ub[first_essential];
      for (std::size_t i = first_essential; i < m; ++i) {
        Cursor& c = cursors[i];
        if (c.doc() != cur) continue;
        bound += c.block_bound(cur);
        window_end = std::min(window_end, c.list.block_last_docs[c.block]);
      }
      for (std::size_t i = first_essential; i < m; ++i) {
        Cursor& c = cursors[i];
        if (c.doc() == cur || c.doc() > window_end) continue;
        bound += c.block_bound(cur);
        window_end = std::min(window_end, c.list.block_last_docs[c.block]);
      }
      if (bound <= safe_threshold) {
        if (window_end == kEnd) break;
        for (std::size_t i = first_essential; i < m; ++i) cursors[i].next_geq(window_end + 1);
        cur = min_essential_doc();
        continue;
      }
      checked_until = window_end;
    }
    ++counters_.candidates;
    float partial = 0.0f;
    matched.clear();
    DocId next = kEnd;  // next candidate, computed in the same pass
    for (std::size_t i = first_essential; i < m; ++i) {
      Cursor& c = cursors[i];
      if (c.doc() == cur) {
        const float x = c.contribution();
        partial += x;
        contrib[c.canonical] = x;
        matched.push_back(c.canonical);
        ++c.pos;
        ++counters_.postings_scored;
      }
      next = std::min(next, c.doc());
    }
    bool pruned = false;
    if (first_essential > 0 && top.full()) {
      // Block-max refinement: the block maxima bound the non-essential contributions at `cur`
      // more tightly than the list maxima.
      float bound = partial;
      for (std::size_t i = 0; i < first_essential; ++i) bound += cursors[i].block_bound(cur);
      pruned = bound <= safe_threshold;
    }
    for (std::size_t i = first_essential; !pruned && i-- > 0;) {
      if (top.full() && partial + prefix_ub[i + 1] <= safe_threshold) {
        pruned = true;
        break;
      }
      Cursor& c = cursors[i];
      c.next_geq(cur);
      if (c.doc() == cur) {
        const float x = c.contribution();
        partial += x;
        contrib[c.canonical] = x;
        matched.push_back(c.canonical);
        ++counters_.postings_scored;
      }
    }
    if (!pruned) {
      // Exact score in canonical (ascending term id) order, as the exhaustive reference sums.
      if (matched.size() > 1) std::sort(matched.begin(), matched.end());
      float score = 0.0f;
      for (std::size_t q : matched) score += contrib[q];
      if (score > 0.0f && top.push({cur, score}) && top.full()) {
        const float theta = top.threshold();
        safe_threshold = theta - theta * rel_margin;
        checked_until = -1;  // a higher threshold may make the current window skippable
        const std::size_t old_first = first_essential;
        while (first_essential < m && prefix_ub[first_essential + 1] <= safe_threshold) {
          ++first_essential;
        }
        if (first_essential != old_first) next = min_essential_doc();
      }
    }
    cur = next;
  }
  return top.take();
}

std::vector<std::vector<Hit>> batch_search(const InvertedIndex& index,
                                           const std::vector<SparseVector>& queries,
                                           const SearchOptions& options, unsigned threads,
                                           const std::function<void(std::size_t)>& progress) {
  options.validate();
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(
      std::min<std::size_t>(threads, std::max<std::size_t>(1, queries.size())));
  std::vector<std::vector<Hit>> results(queries.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::exception_ptr error;
  std::size_t done = 0;
  auto worker = [&] {
    try {
      Searcher searcher(index);
      while (!failed.load(std::memory_order_relaxed)) {
        const std::size_t i = next.fetch_add(1);
        if (i >= queries.size()) break;
        results[i] = searcher.search(queries[i], options);
        if (progress) {
          std::lock_guard lock(mu);
          progress(++done);
        }
      }
    } catch (...) {
      // Keep the first error; the others stop at their next query.
      std::lock_guard lock(mu);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
  return results;
}

}  // namespace ksparse
