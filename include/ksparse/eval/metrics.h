// IR effectiveness metrics with trec_eval semantics (verified against pytrec_eval to 1e-6).
//
// Conventions, all as trec_eval 9 / pytrec_eval unless marked (*):
//   - A run's documents for a query are ranked by score descending, ties broken by doc id
//     *descending* (byte-wise); the order of the input vector and any rank column are ignored.
//   - A document is relevant when its qrels grade is > 0 (trec_eval relevance_level 1); documents
//     not in the qrels are non-relevant.
//   - Only queries in the qrels are evaluated; run queries without judgements are ignored.
//   - (*) Queries whose judgements contain no relevant document are skipped: they get no per-query
//     value and do not enter the mean. (trec_eval/pytrec_eval would report 0 for them.)
//   - (*) Queries with a relevant document that are absent from the run (or have no documents in
//     it) score 0 on every metric and DO enter the mean (like `trec_eval -c`; plain trec_eval
//     averages only over the run's queries).
//   - The mean is the arithmetic mean over the evaluated queries, i.e. over every qrels query with
//     at least one relevant document.
//
// Metrics at cutoff k (R = number of relevant documents of the query):
//   ndcg@k    trec_eval ndcg_cut_k: DCG = sum_{i<=k} grade_i / log2(i + 1) over the top k, divided
//             by the DCG of the ideal ranking of all judged grades (Jarvelin & Kekalainen, 2002).
//   mrr@k     recip_rank on the run truncated to k: 1 / rank of the first relevant doc, else 0.
//   recall@k  recall_k: relevant docs in the top k / R.
//   map@k     map_cut_k: sum of precision@i over relevant docs at ranks i <= k, divided by R.
//   p@k       P_k: relevant docs in the top k / k (k, not the run length, even for short runs).
//
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ksparse/core/io.h"

namespace ksparse {

enum class MetricKind { kNdcg, kMrr, kRecall, kMap, kPrecision };

struct Metric {
  MetricKind kind = MetricKind::kNdcg;
  int k = 10;  // cutoff, >= 1

  // Canonical name: "ndcg@10", "mrr@10", "recall@100", "map@100", "p@10".
  std::string name() const;
  bool operator==(const Metric&) const = default;
};

// Parses one metric name, case-insensitive, e.g. "nDCG@10". Throws ConfigError for an unknown
// name, a missing "@k", or a cutoff that is not an integer in [1, 1e9].
Metric parse_metric(std::string_view text);
// Parses a comma-separated list ("ndcg@10,mrr@10,recall@100"); spaces around names are ignored and
// repeated metrics are kept once, in first-seen order. Throws ConfigError when the list is empty.
std::vector<Metric> parse_metrics(std::string_view list);

// Sorts a query's documents into trec_eval order (score descending, doc id descending).
void sort_trec_order(std::vector<ScoredDoc>& docs);

// Values of `metrics` for one query. `judgements` maps doc id -> grade; `docs` may be in any order.
// Throws DataError when a doc id appears twice in `docs`. When no judged document is relevant every
// value is 0.
std::vector<double> evaluate_query(const std::map<std::string, int>& judgements,
                                   std::vector<ScoredDoc> docs, const std::vector<Metric>& metrics);

struct EvalResult {
  std::vector<Metric> metrics;
  // Evaluated queries (qrels queries with >= 1 relevant doc), ascending.
  std::vector<std::string> query_ids;
  // per_query[q][m]: value of metrics[m] for query_ids[q].
  std::vector<std::vector<double>> per_query;
  // mean[m]: mean of metrics[m] over query_ids (0 when there are no evaluated queries).
  std::vector<double> mean;
  std::size_t num_missing_from_run = 0;      // evaluated queries absent from the run (scored 0)
  std::size_t num_skipped_no_relevant = 0;   // qrels queries without a relevant doc (skipped)
  std::size_t num_unjudged_run_queries = 0;  // run queries not in the qrels (ignored)

  // Per-query values of metric m, in query_ids order (for significance tests).
  std::vector<double> column(std::size_t m) const;
};

// Evaluates `run` against `qrels`. Throws ConfigError when `metrics` is empty and DataError for a
// duplicated doc id within one query of the run.
EvalResult evaluate(const Qrels& qrels, const Run& run, const std::vector<Metric>& metrics);

}  // namespace ksparse
