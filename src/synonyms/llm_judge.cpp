#include "ksparse/synonyms/llm_judge.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "ksparse/synonyms/terms.h"

namespace ksparse::synonyms {

namespace {

using Clock = std::chrono::steady_clock;

// Short on purpose: every pair pays for the whole prompt (~55 tokens with Gemma's tokenizer).
// Alternating no/yes examples (ending on yes: with a "no" last, Gemma 3 270M answered "no" to
// nearly everything), loanword and native translations, and the typical wrong proposals (a
// sound-alike, an unrelated neighbour).
constexpr const char* kVerifyHeader =
    "Korean word, English word: same meaning?\n"
    "사과, river: no\n"
    "컴퓨터, computer: yes\n"
    "데이터, date: no\n"
    "학교, school: yes\n"
    "고양이, dog: no\n"
    "물, water: yes\n";

constexpr const char* kDiscoverHeader =
    "Korean words with their English translations as JSON.\n"
    "학교: {\"en\": [\"school\"]}\n"
    "컴퓨터: {\"en\": [\"computer\"]}\n"
    "대통령: {\"en\": [\"president\"]}\n";

std::string lower_ascii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

void LlmVerifierOptions::validate() const {
  if (reason_tokens < 0) throw ConfigError("reason_tokens must be >= 0 (0 = no reason generation)");
  if (!(reason_min_confidence >= 0.0 && reason_min_confidence <= 1.0))
    throw ConfigError("reason_min_confidence must be in [0, 1]");
}

LlmVerifier::LlmVerifier(llm::Backend& backend, std::string model_name,
                         LlmVerifierOptions options)
    : backend_(backend), model_name_(std::move(model_name)), options_(options) {
  options_.validate();
}

std::string LlmVerifier::name() const { return "llm:" + model_name_; }

std::string LlmVerifier::prompt(const std::string& ko, const std::string& en) {
  return std::string(kVerifyHeader) + ko + ", " + en + ":";
}

const std::string& LlmVerifier::answer_grammar() {
  static const std::string g = "root ::= \" yes\" | \" no\"\n";
  return g;
}

std::vector<Verdict> LlmVerifier::verify(const std::vector<CandidatePair>& pairs) {
  std::vector<Verdict> verdicts(pairs.size());
  if (pairs.empty()) return verdicts;
  std::vector<llm::GenerationRequest> requests;
  requests.reserve(pairs.size());
  for (const CandidatePair& p : pairs) {
    llm::GenerationRequest r;
    r.prompt = prompt(p.ko, p.en);
    r.grammar = answer_grammar();
    r.max_tokens = 1;
    r.sampling.temperature = 0.0f;
    requests.push_back(std::move(r));
  }
  auto t0 = Clock::now();
  const std::vector<llm::GenerationResult> results = backend_.generate(requests);
  seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
  ++generate_calls_;
  pairs_judged_ += pairs.size();
  if (results.size() != pairs.size()) {
    throw ModelError(fmt::format("{}: {} results for {} prompts", name(), results.size(),
                                 pairs.size()));
  }
  std::vector<std::size_t> want_reason;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    const llm::GenerationResult& r = results[i];
    const std::string answer = lower_ascii(std::string(trim_ascii(r.text)));
    Verdict& v = verdicts[i];
    v.accepted = answer == "yes";
    const double p = r.generated_tokens > 0 ? std::exp(r.mean_logprob) : 0.0;
    v.confidence = std::clamp(p, 0.0, 1.0);
    const bool known = answer == "yes" || answer == "no";
    v.reason = known ? fmt::format("P({})={:.3f}", answer, v.confidence)
                     : fmt::format("P(other '{}')={:.3f}", r.text, v.confidence);
    if (v.accepted && options_.reason_tokens > 0 &&
        v.confidence >= options_.reason_min_confidence) {
      want_reason.push_back(i);
    }
  }
  if (!want_reason.empty()) {
    std::vector<llm::GenerationRequest> reasons;
    reasons.reserve(want_reason.size());
    for (std::size_t i : want_reason) {
      llm::GenerationRequest r;
      r.prompt = requests[i].prompt + " yes, because";
      r.max_tokens = options_.reason_tokens;
      r.stop = {"\n"};
      r.sampling.temperature = 0.0f;
      reasons.push_back(std::move(r));
    }
    t0 = Clock::now();
    const std::vector<llm::GenerationResult> texts = backend_.generate(reasons);
    seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
    ++generate_calls_;
    for (std::size_t k = 0; k < want_reason.size() && k < texts.size(); ++k) {
      const std::string why(trim_ascii(texts[k].text));
      if (!why.empty()) verdicts[want_reason[k]].reason += "; " + why;
    }
  }
  return verdicts;
}

void LlmDiscoveryOptions::validate() const {
  if (max_per_term == 0) throw ConfigError("discovery max_per_term must be >= 1");
  if (max_tokens < 4) throw ConfigError("discovery max_tokens must be >= 4");
}

LlmDiscoverer::LlmDiscoverer(llm::Backend& backend, LlmDiscoveryOptions options)
    : backend_(backend), options_(options) {
  options_.validate();
}

std::string LlmDiscoverer::prompt(const std::string& ko) {
  // Ends with ": " so that the constrained answer starts with '{', as in the examples.
  return std::string(kDiscoverHeader) + ko + ": ";
}

const std::string& LlmDiscoverer::json_schema() {
  static const std::string s = R"({"type": "object",
 "properties": {"en": {"type": "array", "items": {"type": "string", "maxLength": 40},
                       "minItems": 1, "maxItems": 3}},
 "required": ["en"], "additionalProperties": false})";
  return s;
}

std::vector<std::string> LlmDiscoverer::parse_answer(const std::string& completion,
                                                     std::size_t max) {
  std::vector<std::string> raw;
  const auto open = completion.find('{');
  const auto close = completion.find('}', open == std::string::npos ? 0 : open);
  bool parsed = false;
  if (open != std::string::npos && close != std::string::npos) {
    const auto j =
        nlohmann::json::parse(completion.substr(open, close - open + 1), nullptr, false);
    if (j.is_object() && j.contains("en") && j["en"].is_array()) {
      parsed = true;
      for (const auto& x : j["en"]) {
        if (x.is_string()) raw.push_back(x.get<std::string>());
      }
    }
  }
  if (!parsed) {
    // Lenient: quoted strings after the "en" key (a completion cut by max_tokens, no closing '}').
    const auto key = completion.find("\"en\"");
    if (key != std::string::npos) {
      static const std::regex quoted("\"([^\"]*)\"");
      const std::string rest = completion.substr(key + 4);
      for (auto it = std::sregex_iterator(rest.begin(), rest.end(), quoted);
           it != std::sregex_iterator(); ++it) {
        raw.push_back((*it)[1].str());
      }
    }
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& s : raw) {
    if (out.size() >= max) break;
    if (!has_latin(s) || has_hangul(s)) continue;
    std::string en;
    try {
      en = normalize_en(s);
    } catch (const Error&) {
      continue;  // invalid UTF-8 from a cut multi-byte sequence
    }
    if (en.empty() || !seen.insert(en).second) continue;
    out.push_back(std::move(en));
  }
  return out;
}

std::vector<CandidatePair> LlmDiscoverer::discover(const std::vector<std::string>& ko_terms) {
  std::vector<CandidatePair> out;
  if (ko_terms.empty()) return out;
  std::vector<llm::GenerationRequest> requests;
  requests.reserve(ko_terms.size());
  for (const std::string& ko : ko_terms) {
    llm::GenerationRequest r;
    r.prompt = prompt(ko);
    r.json_schema = json_schema();
    r.max_tokens = options_.max_tokens;
    r.stop = {"\n"};
    r.sampling.temperature = 0.0f;
    requests.push_back(std::move(r));
  }
  const auto t0 = Clock::now();
  const std::vector<llm::GenerationResult> results = backend_.generate(requests);
  seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
  for (std::size_t i = 0; i < ko_terms.size() && i < results.size(); ++i) {
    for (std::string& en : parse_answer(results[i].text, options_.max_per_term)) {
      CandidatePair c;
      c.ko = ko_terms[i];
      c.en = std::move(en);
      c.source = Source::kDiscovery;
      c.score = 0.0;
      c.context = results[i].text;
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace ksparse::synonyms
