// A deterministic test double of the LLM seam (ksparse::llm::Backend): each completion is a
// function of the request's prompt and sampling seed only, like a real backend with a fixed seed.
// It builds a query from words of the document in the prompt, and returns unparseable garbage for
// some seeds, so filters have something to reject.
#pragma once

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ksparse/llm/backend.h"

namespace ksparse::synth::fakes {

class FakeBackend : public llm::Backend {
 public:
  // `sleep_ms` per generate() call (to widen the window for a kill in tests).
  explicit FakeBackend(int sleep_ms = 0) : sleep_ms_(sleep_ms) {}

  std::vector<llm::GenerationResult> generate(
      const std::vector<llm::GenerationRequest>& requests) override {
    ++calls;
    batch_sizes.push_back(requests.size());
    for (const auto& r : requests) grammars.push_back(r.grammar);
    if (sleep_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    std::vector<llm::GenerationResult> out;
    for (const auto& r : requests) out.push_back(complete(r));
    return out;
  }
  std::string name() const override { return "fake"; }

  static llm::GenerationResult complete(const llm::GenerationRequest& r) {
    llm::GenerationResult res;
    const std::uint32_t seed = r.sampling.seed;
    // The document is what follows the last "문서: " up to the next newline.
    const std::string marker = "문서: ";
    std::size_t at = r.prompt.rfind(marker);
    std::string doc = at == std::string::npos ? r.prompt : r.prompt.substr(at + marker.size());
    doc = doc.substr(0, doc.find('\n'));
    std::vector<std::string> words;
    std::istringstream in(doc);
    for (std::string w; in >> w;) words.push_back(w);
    if (seed % 7 == 0 || words.empty()) {
      res.text = "@@ {{ 쓰레기 출력";  // no closing JSON: the structure filter rejects it
    } else {
      std::string q;
      for (int i = 0; i < 2; ++i) {
        if (!q.empty()) q += ' ';
        q += words[(seed / (i + 1) + static_cast<std::uint32_t>(i)) % words.size()];
      }
      q += (seed % 3 == 0) ? " 관련 정보" : " 알려줘";
      res.text = q + "\"}";
    }
    res.prompt_tokens = static_cast<int>(r.prompt.size() / 3);
    res.generated_tokens = static_cast<int>(res.text.size() / 3) + 1;
    res.mean_logprob = -static_cast<double>(seed % 1000) / 250.0;  // in (-4, 0]
    res.finish = llm::FinishReason::kStop;
    return res;
  }

  int calls = 0;
  std::vector<std::size_t> batch_sizes;
  std::vector<std::string> grammars;  // each request's grammar, in order

 private:
  int sleep_ms_;
};

}  // namespace ksparse::synth::fakes
