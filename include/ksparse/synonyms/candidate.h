// Candidate pairs awaiting verification, verdicts, and the verifier seam of the synonym build.
#pragma once

#include <string>
#include <vector>

#include "ksparse/synonyms/dictionary.h"

namespace ksparse::synonyms {

// A proposed pair awaiting verification.
struct CandidatePair {
  std::string ko;
  std::string en;
  Source source = Source::kPattern;  // who proposed it
  double score = 0.0;                // the proposer's score
  std::string context;               // an example sentence, when the proposer has one
};

struct Verdict {
  bool accepted = false;
  double confidence = 0.0;  // in [0, 1], e.g. P("yes") from the answer token's probability
  std::string reason;       // free text kept as provenance note
};

// Judges candidate pairs. Implementations: LlmVerifier (llm_judge.h), test fakes.
class CandidateVerifier {
 public:
  virtual ~CandidateVerifier() = default;
  // One verdict per pair, in order. Called with batches of at most BuildOptions::verify_batch
  // pairs; implementations may process a batch in parallel. Throws ksparse::Error on failure.
  virtual std::vector<Verdict> verify(const std::vector<CandidatePair>& pairs) = 0;
  // Short name for manifests and logs ("llm:gemma-3-270m").
  virtual std::string name() const = 0;
};

}  // namespace ksparse::synonyms
