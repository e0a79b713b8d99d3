#include "ksparse/eval/fusion.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "ksparse/core/error.h"
#include "ksparse/eval/metrics.h"

namespace ksparse {

std::string_view fusion_method_name(FusionMethod method) {
  return method == FusionMethod::kRrf ? "rrf" : "linear";
}

FusionMethod parse_fusion_method(std::string_view name) {
  if (name == "rrf") return FusionMethod::kRrf;
  if (name == "linear") return FusionMethod::kLinear;
  throw ConfigError("fusion method must be rrf or linear, got '" + std::string(name) + "'");
}

void FusionOptions::validate(std::size_t num_runs) const {
  if (num_runs < 1) throw ConfigError("fuse: at least one run is needed");
  if (!weights.empty()) {
    if (weights.size() != num_runs) {
      throw ConfigError("fuse: " + std::to_string(weights.size()) + " weights for " +
                        std::to_string(num_runs) + " runs; give one weight per run");
    }
    double sum = 0.0;
    for (double w : weights) {
      if (!(w >= 0.0) || !std::isfinite(w)) throw ConfigError("fuse: weights must be finite and >= 0");
      sum += w;
    }
    if (!(sum > 0.0)) throw ConfigError("fuse: at least one weight must be > 0");
  }
  if (!(rrf_k > 0.0)) throw ConfigError("fuse: rrf_k must be > 0");
  if (k < 1) throw ConfigError("fuse: k must be >= 1");
}

Run fuse_runs(const std::vector<Run>& runs, const FusionOptions& options) {
  options.validate(runs.size());
  std::map<std::string, std::unordered_map<std::string, double>> fused;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const double w = options.weights.empty() ? 1.0 : options.weights[r];
    for (const auto& [qid, docs_in] : runs[r]) {
      auto& acc = fused[qid];
      std::vector<ScoredDoc> docs = docs_in;
      sort_trec_order(docs);
      if (options.depth > 0 && docs.size() > options.depth) docs.resize(options.depth);
      if (docs.empty()) continue;
      double lo = docs.front().score, hi = docs.front().score;
      for (const ScoredDoc& d : docs) {
        lo = std::min(lo, d.score);
        hi = std::max(hi, d.score);
      }
      for (std::size_t i = 0; i < docs.size(); ++i) {
        double contribution;
        if (options.method == FusionMethod::kRrf) {
          contribution = w / (options.rrf_k + static_cast<double>(i + 1));
        } else {
          contribution = w * (hi > lo ? (docs[i].score - lo) / (hi - lo) : 1.0);
        }
        acc[docs[i].doc_id] += contribution;
      }
    }
  }
  Run out;
  for (auto& [qid, acc] : fused) {
    std::vector<ScoredDoc> docs;
    docs.reserve(acc.size());
    for (const auto& [doc, score] : acc) docs.push_back({doc, score});
    sort_trec_order(docs);
    if (docs.size() > options.k) docs.resize(options.k);
    out.emplace(qid, std::move(docs));
  }
  return out;
}

}  // namespace ksparse
