// Score fusion of TREC runs (hybrid lexical + learned sparse retrieval).
//
//   kRrf     reciprocal rank fusion (Cormack, Clarke & Buettcher, SIGIR 2009):
//            score(d) = sum_r w_r / (rrf_k + rank_r(d)), rank 1-based in trec_eval order; a
//            document absent from run r contributes 0.
//   kLinear  min-max normalised linear combination: per query and run,
//            norm_r(d) = (s - min) / (max - min) over that run's top `depth` documents (1 when all
//            scores are equal); score(d) = sum_r w_r * norm_r(d), absent documents contribute 0.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "ksparse/core/io.h"

namespace ksparse {

enum class FusionMethod { kRrf, kLinear };
// "rrf" | "linear"; parse throws ConfigError naming the value.
std::string_view fusion_method_name(FusionMethod method);
FusionMethod parse_fusion_method(std::string_view name);

struct FusionOptions {
  FusionMethod method = FusionMethod::kRrf;
  // One weight per run (>= 0, not all 0); empty = 1 for every run.
  std::vector<double> weights;
  double rrf_k = 60.0;     // RRF rank offset (> 0)
  std::size_t depth = 0;   // documents per query taken from each run (trec order); 0 = all
  std::size_t k = 1000;    // documents kept per fused query (>= 1)
  void validate(std::size_t num_runs) const;  // throws ConfigError
};

// Fuses `runs` (>= 1); the result holds every query of any run, documents by fused score
// descending (ties: doc id descending, as trec_eval orders them), at most options.k per query.
Run fuse_runs(const std::vector<Run>& runs, const FusionOptions& options);

}  // namespace ksparse
