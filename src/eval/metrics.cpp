#include "ksparse/eval/metrics.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"

namespace ksparse {
namespace {

constexpr int kMaxCutoff = 1000000000;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const char* kKnown = "ndcg@k, mrr@k, recall@k, map@k, p@k (k a positive integer)";

}  // namespace

std::string Metric::name() const {
  const char* base = "";
  switch (kind) {
    case MetricKind::kNdcg:
      base = "ndcg";
      break;
    case MetricKind::kMrr:
      base = "mrr";
      break;
    case MetricKind::kRecall:
      base = "recall";
      break;
    case MetricKind::kMap:
      base = "map";
      break;
    case MetricKind::kPrecision:
      base = "p";
      break;
  }
  return std::string(base) + "@" + std::to_string(k);
}

Metric parse_metric(std::string_view text) {
  const std::string s = lower(trim_ascii(text));
  const auto at = s.find('@');
  if (at == std::string::npos) {
    throw ConfigError("metric '" + std::string(text) + "' has no cutoff; write it as one of " +
                      kKnown);
  }
  const std::string base = s.substr(0, at);
  Metric m;
  if (base == "ndcg") {
    m.kind = MetricKind::kNdcg;
  } else if (base == "mrr") {
    m.kind = MetricKind::kMrr;
  } else if (base == "recall") {
    m.kind = MetricKind::kRecall;
  } else if (base == "map") {
    m.kind = MetricKind::kMap;
  } else if (base == "p") {
    m.kind = MetricKind::kPrecision;
  } else {
    throw ConfigError("unknown metric '" + std::string(text) + "'; known metrics: " + kKnown);
  }
  const std::string k_text = s.substr(at + 1);
  long long k = 0;
  const char* first = k_text.data();
  const char* last = first + k_text.size();
  auto [ptr, ec] = std::from_chars(first, last, k);
  if (k_text.empty() || ec != std::errc() || ptr != last || k < 1 || k > kMaxCutoff) {
    throw ConfigError("metric '" + std::string(text) + "': cutoff '" + k_text +
                      "' must be an integer in [1, " + std::to_string(kMaxCutoff) + "]");
  }
  m.k = static_cast<int>(k);
  return m;
}

std::vector<Metric> parse_metrics(std::string_view list) {
  std::vector<Metric> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view item = trim_ascii(list.substr(start, comma - start));
    if (!item.empty()) {
      const Metric m = parse_metric(item);
      if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
    }
    start = comma + 1;
  }
  if (out.empty()) {
    throw ConfigError("no metrics given in '" + std::string(list) + "'; list one or more of " +
                      kKnown + ", comma-separated");
  }
  return out;
}

void sort_trec_order(std::vector<ScoredDoc>& docs) {
  // trec_eval (form_res_rels) sorts by score descending and breaks ties by comparing docnos with
  // strcmp in reverse, i.e. doc id descending; pytrec_eval inherits this.
  std::sort(docs.begin(), docs.end(), [](const ScoredDoc& x, const ScoredDoc& y) {
    if (x.score != y.score) return x.score > y.score;
    return x.doc_id > y.doc_id;
  });
}

std::vector<double> evaluate_query(const std::map<std::string, int>& judgements,
                                   std::vector<ScoredDoc> docs,
                                   const std::vector<Metric>& metrics) {
  sort_trec_order(docs);
  std::set<std::string_view> seen;
  for (const auto& d : docs) {
    if (!seen.insert(d.doc_id).second) {
      throw DataError("document '" + d.doc_id +
                      "' appears twice for one query of the run; remove the duplicate");
    }
  }

  // grade[i]: qrels grade of the document at rank i + 1 (0 when unjudged).
  std::vector<int> grade(docs.size(), 0);
  for (std::size_t i = 0; i < docs.size(); ++i) {
    auto it = judgements.find(docs[i].doc_id);
    if (it != judgements.end()) grade[i] = it->second;
  }
  std::vector<int> ideal;
  for (const auto& [doc, g] : judgements) {
    if (g > 0) ideal.push_back(g);
  }
  std::sort(ideal.begin(), ideal.end(), std::greater<>());
  const double num_rel = static_cast<double>(ideal.size());

  std::vector<double> values;
  values.reserve(metrics.size());
  for (const Metric& m : metrics) {
    if (ideal.empty()) {
      values.push_back(0.0);
      continue;
    }
    const std::size_t k = static_cast<std::size_t>(m.k);
    const std::size_t depth = std::min(k, docs.size());
    double v = 0.0;
    switch (m.kind) {
      case MetricKind::kNdcg: {
        // Gain = grade, discount 1 / log2(rank + 1) (Jarvelin & Kekalainen, 2002), as trec_eval's
        // ndcg_cut; the ideal DCG ranks all judged relevant grades, not only retrieved ones.
        double dcg = 0.0;
        for (std::size_t i = 0; i < depth; ++i) {
          if (grade[i] > 0) dcg += grade[i] / std::log2(static_cast<double>(i + 2));
        }
        double idcg = 0.0;
        for (std::size_t i = 0; i < std::min(k, ideal.size()); ++i) {
          idcg += ideal[i] / std::log2(static_cast<double>(i + 2));
        }
        v = dcg / idcg;
        break;
      }
      case MetricKind::kMrr:
        for (std::size_t i = 0; i < depth; ++i) {
          if (grade[i] > 0) {
            v = 1.0 / static_cast<double>(i + 1);
            break;
          }
        }
        break;
      case MetricKind::kRecall:
      case MetricKind::kPrecision: {
        std::size_t hits = 0;
        for (std::size_t i = 0; i < depth; ++i) hits += grade[i] > 0 ? 1 : 0;
        v = static_cast<double>(hits) /
            (m.kind == MetricKind::kRecall ? num_rel : static_cast<double>(k));
        break;
      }
      case MetricKind::kMap: {
        // Average precision truncated at k but normalised by all R relevant docs (map_cut).
        std::size_t hits = 0;
        double sum = 0.0;
        for (std::size_t i = 0; i < depth; ++i) {
          if (grade[i] > 0) {
            ++hits;
            sum += static_cast<double>(hits) / static_cast<double>(i + 1);
          }
        }
        v = sum / num_rel;
        break;
      }
    }
    values.push_back(v);
  }
  return values;
}

std::vector<double> EvalResult::column(std::size_t m) const {
  std::vector<double> out;
  out.reserve(per_query.size());
  for (const auto& row : per_query) out.push_back(row.at(m));
  return out;
}

EvalResult evaluate(const Qrels& qrels, const Run& run, const std::vector<Metric>& metrics) {
  if (metrics.empty()) throw ConfigError("evaluate: no metrics requested");
  EvalResult result;
  result.metrics = metrics;
  result.mean.assign(metrics.size(), 0.0);
  for (const auto& [qid, judgements] : qrels) {
    const bool any_relevant = std::any_of(judgements.begin(), judgements.end(),
                                          [](const auto& j) { return j.second > 0; });
    if (!any_relevant) {
      ++result.num_skipped_no_relevant;
      continue;
    }
    auto it = run.find(qid);
    if (it == run.end() || it->second.empty()) {
      ++result.num_missing_from_run;
      result.per_query.emplace_back(metrics.size(), 0.0);
    } else {
      try {
        result.per_query.push_back(evaluate_query(judgements, it->second, metrics));
      } catch (const DataError& e) {
        throw DataError("run query '" + qid + "': " + e.what());
      }
    }
    result.query_ids.push_back(qid);
  }
  for (const auto& [qid, docs] : run) {
    if (qrels.find(qid) == qrels.end()) ++result.num_unjudged_run_queries;
  }
  if (!result.per_query.empty()) {
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      double sum = 0.0;
      for (const auto& row : result.per_query) sum += row[m];
      result.mean[m] = sum / static_cast<double>(result.per_query.size());
    }
  }
  return result;
}

}  // namespace ksparse
