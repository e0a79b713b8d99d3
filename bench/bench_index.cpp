// End-to-end retrieval benchmark: a synthetic collection with Zipf-distributed terms, BM25 scores,
// and the same queries run with exhaustive term-at-a-time search and with block-max MaxScore, side
// by side. Both must return identical top-k lists (checked); the report gives per-query latency
// and the speed-up. Usage: bench_index [--docs N] [--vocab V] [--zipf S] [--avg-len L]
//                                      [--queries Q] [--k K] [--seed SEED] [--threads T]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ksparse/index/index_builder.h"
#include "ksparse/index/search.h"

namespace {

using Clock = std::chrono::steady_clock;

// CPU time of the calling thread: unlike wall time it excludes preemption, which dominates
// wall-clock tails on a shared, loaded machine.
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// prefix + n. (Avoids `"literal" + std::to_string(n)`, which trips GCC 12's -Wrestrict.)
std::string numbered(const char* prefix, std::size_t n) {
  std::string s = prefix;
  s += std::to_string(n);
  return s;
}

// Walker's alias method (Walker 1977; Vose 1991): O(1) samples from a discrete distribution, so
// generating tens of millions of tokens takes seconds.
class AliasSampler {
 public:
  explicit AliasSampler(const std::vector<double>& weights) {
    const std::size_t n = weights.size();
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    prob_.resize(n);
    alias_.resize(n);
    std::vector<double> scaled(n);
    std::vector<std::uint32_t> small, large;
    for (std::size_t i = 0; i < n; ++i) {
      scaled[i] = weights[i] * n / total;
      (scaled[i] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      const auto s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (auto i : large) prob_[i] = 1.0;
    for (auto i : small) prob_[i] = 1.0;
  }
  std::uint32_t operator()(std::mt19937_64& rng) const {
    const std::uint64_t r = rng();
    const auto i = static_cast<std::uint32_t>((r >> 32) % prob_.size());
    const double u = static_cast<double>(r & 0xffffffffu) * 0x1p-32;
    return u < prob_[i] ? i : alias_[i];
  }

 private:
  std::vector<double> prob_;
  std::vector<std::uint32_t> alias_;
};

struct Args {
  std::size_t docs = 1'000'000;
  std::size_t vocab = 500'000;
  double zipf = 1.0;
  std::size_t avg_len = 50;  // tokens per document, uniform in [avg/2, 3*avg/2]
  std::size_t queries = 1000;
  std::size_t k = 10;
  std::uint64_t seed = 42;
  unsigned threads = 1;
  bool verbose = false;  // print the slowest MaxScore queries
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    auto need = [&](const char* flag) -> const char* {
      if (std::strcmp(argv[i], flag) != 0) return nullptr;
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_index: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (std::strcmp(argv[i], "--verbose") == 0) {
      a.verbose = true;
    } else if (auto v = need("--docs")) {
      a.docs = std::stoull(v);
    } else if (auto v = need("--vocab")) {
      a.vocab = std::stoull(v);
    } else if (auto v = need("--zipf")) {
      a.zipf = std::stod(v);
    } else if (auto v = need("--avg-len")) {
      a.avg_len = std::stoull(v);
    } else if (auto v = need("--queries")) {
      a.queries = std::stoull(v);
    } else if (auto v = need("--k")) {
      a.k = std::stoull(v);
    } else if (auto v = need("--seed")) {
      a.seed = std::stoull(v);
    } else if (auto v = need("--threads")) {
      a.threads = static_cast<unsigned>(std::stoul(v));
    } else {
      std::fprintf(stderr, "bench_index: unknown argument %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (a.docs == 0 || a.vocab == 0 || a.avg_len < 2 || a.queries == 0 || a.k == 0) {
    std::fprintf(stderr,
                 "bench_index: --docs, --vocab, --queries, --k must be > 0, --avg-len >= 2\n");
    std::exit(2);
  }
  return a;
}

struct Latency {
  double mean_ms = 0, p50_ms = 0, p99_ms = 0, total_s = 0;
};

Latency summarize(std::vector<double> ms) {
  Latency l;
  std::sort(ms.begin(), ms.end());
  l.total_s = std::accumulate(ms.begin(), ms.end(), 0.0) / 1000.0;
  l.mean_ms = l.total_s * 1000.0 / ms.size();
  l.p50_ms = ms[ms.size() / 2];
  l.p99_ms = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ksparse;
  const Args args = parse_args(argc, argv);
  std::printf("bench_index: docs=%zu vocab=%zu zipf=%.2f avg_len=%zu queries=%zu k=%zu seed=%llu\n",
              args.docs, args.vocab, args.zipf, args.avg_len, args.queries, args.k,
              static_cast<unsigned long long>(args.seed));

  // 1. Generate and index the collection (term frequencies -> BM25 with default k1, b).
  auto t0 = Clock::now();
  std::vector<double> weights(args.vocab);
  for (std::size_t r = 0; r < args.vocab; ++r) weights[r] = std::pow(double(r + 1), -args.zipf);
  const AliasSampler sampler(weights);
  std::mt19937_64 rng(args.seed);
  std::uniform_int_distribution<std::size_t> len_dist(args.avg_len / 2, args.avg_len * 3 / 2);
  IndexBuilder builder(IndexType::kBm25);
  for (std::size_t t = 0; t < args.vocab; ++t) builder.dictionary().add(numbered("t", t));
  std::vector<std::pair<TermId, float>> pairs;
  std::uint64_t tokens = 0;
  for (std::size_t d = 0; d < args.docs; ++d) {
    const std::size_t len = len_dist(rng);
    pairs.clear();
    for (std::size_t i = 0; i < len; ++i) pairs.emplace_back(sampler(rng), 1.0f);
    tokens += len;
    builder.add(numbered("d", d), SparseVector::from_pairs(pairs), static_cast<std::uint32_t>(len));
  }
  const double gen_s = seconds_since(t0);
  t0 = Clock::now();
  const InvertedIndex index = builder.build("synthetic");
  const double build_s = seconds_since(t0);
  std::printf(
      "collection: %llu tokens, %llu terms, %llu postings; generate %.1f s, finish %.1f s\n",
      static_cast<unsigned long long>(tokens), static_cast<unsigned long long>(index.num_terms()),
      static_cast<unsigned long long>(index.stats().num_postings), gen_s, build_s);

  // 2. Queries: 2-6 distinct terms drawn from the same Zipf distribution as the documents (so
  // frequent, low-IDF terms appear in queries as they do in real ones), bag-of-words weights.
  std::vector<SparseVector> queries;
  std::uniform_int_distribution<int> qlen_dist(2, 6);
  std::uint64_t query_postings = 0;
  while (queries.size() < args.queries) {
    std::vector<std::pair<TermId, float>> q;
    const int qlen = qlen_dist(rng);
    while (static_cast<int>(q.size()) < qlen) {
      auto id = index.find_term(numbered("t", sampler(rng)));
      if (!id) continue;  // a term no document received
      if (std::none_of(q.begin(), q.end(), [&](const auto& p) { return p.first == *id; })) {
        q.emplace_back(*id, 1.0f);
      }
    }
    for (const auto& [t, w] : q) query_postings += index.postings(t).size();
    queries.push_back(SparseVector::from_pairs(std::move(q)));
  }
  std::printf("queries: %zu, mean %.0f postings per query\n", queries.size(),
              double(query_postings) / queries.size());

  // 3. Single-threaded latency, both algorithms on the same queries, interleaved per query so
  // that both see the same cache and machine-load conditions.
  Searcher exhaustive(index), pruned(index);
  std::vector<double> ms_ex, ms_pr, cpu_ex, cpu_pr;
  ms_ex.reserve(queries.size());
  ms_pr.reserve(queries.size());
  std::size_t mismatches = 0;
  for (const auto& q : queries) {
    auto t = Clock::now();
    double c = thread_cpu_ms();
    const auto ref = exhaustive.search(q, {args.k, SearchAlgorithm::kExhaustive});
    cpu_ex.push_back(thread_cpu_ms() - c);
    ms_ex.push_back(seconds_since(t) * 1000.0);
    t = Clock::now();
    c = thread_cpu_ms();
    const auto got = pruned.search(q, {args.k, SearchAlgorithm::kMaxScore});
    cpu_pr.push_back(thread_cpu_ms() - c);
    ms_pr.push_back(seconds_since(t) * 1000.0);
    if (got != ref) ++mismatches;
  }
  if (args.verbose) {
    std::vector<std::size_t> order(queries.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return cpu_pr[a] > cpu_pr[b]; });
    for (std::size_t r = 0; r < std::min<std::size_t>(5, order.size()); ++r) {
      const std::size_t qi = order[r];
      std::printf("slow query %zu: maxscore %.3f ms, exhaustive %.3f ms (CPU), df/max_score:", qi,
                  cpu_pr[qi], cpu_ex[qi]);
      for (const auto& e : queries[qi].entries()) {
        const PostingList l = index.postings(e.term);
        std::printf(" %zu/%.2f", l.size(), l.max_score);
      }
      Searcher probe(index);
      probe.search(queries[qi], {args.k, SearchAlgorithm::kMaxScore});
      std::printf(" candidates %llu postings %llu\n",
                  static_cast<unsigned long long>(probe.counters().candidates),
                  static_cast<unsigned long long>(probe.counters().postings_scored));
    }
  }
  const Latency ex = summarize(ms_ex), pr = summarize(ms_pr);
  const Latency cex = summarize(cpu_ex), cpr = summarize(cpu_pr);
  std::printf("\n%-12s %6s %10s %10s %10s %10s %16s\n", "algorithm", "clock", "mean_ms", "p50_ms",
              "p99_ms", "QPS", "postings/query");
  auto row = [&](const char* name, const char* clock, const Latency& l, const SearchCounters& c) {
    std::printf("%-12s %6s %10.3f %10.3f %10.3f %10.1f %16.0f\n", name, clock, l.mean_ms, l.p50_ms,
                l.p99_ms, queries.size() / l.total_s, double(c.postings_scored) / c.queries);
  };
  row("exhaustive", "wall", ex, exhaustive.counters());
  row("maxscore", "wall", pr, pruned.counters());
  row("exhaustive", "cpu", cex, exhaustive.counters());
  row("maxscore", "cpu", cpr, pruned.counters());
  std::printf("speed-up at k=%zu (exhaustive mean / maxscore mean): %.1fx wall, %.1fx CPU\n",
              args.k, ex.mean_ms / pr.mean_ms, cex.mean_ms / cpr.mean_ms);
  std::printf("identical top-%zu lists: %s (%zu mismatches)\n", args.k,
              mismatches == 0 ? "yes" : "NO", mismatches);

  // 4. Batch throughput with the thread pool.
  if (args.threads != 1) {
    for (auto algo : {SearchAlgorithm::kExhaustive, SearchAlgorithm::kMaxScore}) {
      auto t = Clock::now();
      batch_search(index, queries, {args.k, algo}, args.threads);
      std::printf("batch %-10s threads=%u: %.1f QPS\n",
                  std::string(search_algorithm_name(algo)).c_str(),
                  args.threads == 0 ? std::thread::hardware_concurrency() : args.threads,
                  queries.size() / seconds_since(t));
    }
  }
  return mismatches == 0 ? 0 : 1;
}
