#include "ksparse/synth/generate.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <unordered_map>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/progress.h"
#include "ksparse/core/utf8.h"
#include "ksparse/synth/caching_backend.h"
#include "ksparse/synth/similarity.h"

namespace ksparse::synth {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::size_t doc_count(const std::vector<Document>& docs, const QueryGenerationOptions& options) {
  return options.limit == 0 ? docs.size() : std::min(options.limit, docs.size());
}

}  // namespace

void QueryGenerationOptions::validate() const {
  if (model.empty()) throw ConfigError("synth: the model identity (model) must not be empty");
  if (per_doc == 0) throw ConfigError("synth: per_doc must be >= 1");
  if (batch_size == 0) throw ConfigError("synth: batch_size must be >= 1");
}

std::uint32_t request_seed(std::uint64_t seed, const std::string& doc_id, std::size_t item) {
  const std::uint64_t h = stable_hash(doc_id, mix64(seed) ^ mix64(0x5eedULL + item));
  auto s = static_cast<std::uint32_t>(h >> 32);
  return s == llm::kSeedFromIndex ? 0u : s;
}

std::size_t template_for(const std::string& doc_id, std::size_t item, std::size_t templates) {
  return static_cast<std::size_t>((stable_hash(doc_id, 0x74656d706cULL) + item) % templates);
}

std::string generation_params(const QueryGenerationOptions& options, const PromptBuilder& builder) {
  const llm::SamplingOptions& s = options.sampling;
  const PromptTemplate& t = builder.prompt_template();
  json j = {{"sampling",
             {{"temperature", s.temperature},
              {"top_k", s.top_k},
              {"top_p", s.top_p},
              {"min_p", s.min_p},
              {"repeat_penalty", s.repeat_penalty},
              {"presence_penalty", s.presence_penalty},
              {"penalty_last_n", s.penalty_last_n}}},
            {"max_tokens", t.max_tokens},
            {"stop", t.stop},
            {"seed", options.seed},
            {"few_shot", builder.fingerprint()}};
  return j.dump();  // nlohmann::json objects keep keys sorted: a canonical form
}

json GenerationStats::to_json() const {
  return {{"requests", requests},
          {"cached", cached},
          {"generated", generated},
          {"batches", batches},
          {"prompt_tokens", prompt_tokens},
          {"generated_tokens", generated_tokens},
          {"generate_seconds", generate_seconds},
          {"generated_tokens_per_s",
           generate_seconds > 0 ? static_cast<double>(generated_tokens) / generate_seconds : 0.0}};
}

std::vector<GenerationRecord> run_generation(const std::vector<Document>& docs,
                                             const std::vector<PromptBuilder>& builders,
                                             llm::Backend& backend, GenerationCache& cache,
                                             const QueryGenerationOptions& options,
                                             GenerationStats* stats) {
  options.validate();
  if (builders.empty()) throw ConfigError("synth: at least one prompt template is needed");
  std::vector<std::string> params;
  for (const PromptBuilder& b : builders) params.push_back(generation_params(options, b));

  const std::size_t n_docs = doc_count(docs, options);
  std::vector<GenerationRecord> records;
  records.reserve(n_docs * options.per_doc);
  std::vector<CacheKey> keys;
  std::vector<std::size_t> missing;  // indices into records
  for (std::size_t d = 0; d < n_docs; ++d) {
    for (std::size_t item = 0; item < options.per_doc; ++item) {
      GenerationRecord r;
      r.doc_id = docs[d].id;
      r.item = item;
      r.template_index = template_for(r.doc_id, item, builders.size());
      const PromptBuilder& b = builders[r.template_index];
      CacheKey key{options.model, b.prompt_template().hash, params[r.template_index], r.doc_id,
                   item};
      if (auto hit = cache.get(key)) {
        r.generation = std::move(*hit);
        r.from_cache = true;
      } else {
        missing.push_back(records.size());
      }
      keys.push_back(std::move(key));
      records.push_back(std::move(r));
    }
  }
  GenerationStats st;
  st.requests = records.size();
  st.cached = records.size() - missing.size();

  std::unordered_map<std::string, const Document*> by_id;
  for (std::size_t d = 0; d < n_docs; ++d) by_id.emplace(docs[d].id, &docs[d]);

  ProgressOptions popts;
  if (!options.show_progress) popts.mode = ProgressOptions::Mode::kOff;
  Progress progress("generating", missing.size(), popts);
  for (std::size_t start = 0; start < missing.size(); start += options.batch_size) {
    const std::size_t end = std::min(missing.size(), start + options.batch_size);
    std::vector<llm::GenerationRequest> requests;
    for (std::size_t m = start; m < end; ++m) {
      const GenerationRecord& r = records[missing[m]];
      const PromptBuilder& b = builders[r.template_index];
      llm::GenerationRequest req;
      req.prompt = b.build(*by_id.at(r.doc_id), r.item);
      req.max_tokens = b.prompt_template().max_tokens;
      req.stop = b.prompt_template().stop;
      req.grammar = b.prompt_template().grammar;
      req.sampling = options.sampling;
      req.sampling.seed = request_seed(options.seed, r.doc_id, r.item);
      requests.push_back(std::move(req));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<llm::GenerationResult> results = backend.generate(requests);
    st.generate_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (results.size() != requests.size()) {
      throw ModelError("backend " + backend.name() + " returned " + std::to_string(results.size()) +
                       " results for " + std::to_string(requests.size()) + " requests");
    }
    std::vector<std::pair<CacheKey, CachedGeneration>> batch;
    for (std::size_t m = start; m < end; ++m) {
      const llm::GenerationResult& res = results[m - start];
      CachedGeneration g;
      g.text = res.text;
      g.prompt_tokens = res.prompt_tokens;
      g.generated_tokens = res.generated_tokens;
      g.mean_logprob = res.mean_logprob;
      g.finish = finish_name(res.finish);
      st.prompt_tokens += static_cast<std::uint64_t>(res.prompt_tokens);
      st.generated_tokens += static_cast<std::uint64_t>(res.generated_tokens);
      records[missing[m]].generation = g;
      batch.emplace_back(keys[missing[m]], std::move(g));
    }
    cache.put(batch);  // one transaction: the batch is either all there after a crash or absent
    st.generated += end - start;
    ++st.batches;
    progress.advance(end - start);
  }
  progress.finish();
  if (stats) *stats = st;
  return records;
}

std::vector<SynthCandidate> candidates_from_generations(
    const std::vector<GenerationRecord>& records, const std::vector<Document>& docs,
    const std::vector<PromptBuilder>& builders) {
  std::unordered_map<std::string, const Document*> by_id;
  for (const Document& d : docs) by_id.emplace(d.id, &d);
  std::vector<SynthCandidate> out;
  for (const GenerationRecord& r : records) {
    const PromptTemplate& t = builders.at(r.template_index).prompt_template();
    const Document* doc = by_id.at(r.doc_id);
    // A completion cut at max_tokens can end inside a UTF-8 sequence; everything downstream
    // (JSON, the analyzer) wants valid UTF-8.
    const std::string text = utf8_sanitize(r.generation.text);
    const ParsedOutput parsed = parse_generation(t, text, t.queries_per_prompt);
    Candidate base;
    base.doc_id = r.doc_id;
    base.doc_text = document_prompt_text(*doc);
    base.style = t.style;
    base.language = t.language;
    base.mean_logprob = r.generation.mean_logprob;
    const std::string id_prefix = "syn-" + r.doc_id + "-" + std::to_string(r.item) + "-";
    if (!parsed.ok) {
      SynthCandidate sc{base, id_prefix + "0", r.template_index};
      sc.candidate.parsed = false;
      sc.candidate.parse_error = parsed.error;
      sc.candidate.query = text;
      out.push_back(std::move(sc));
      continue;
    }
    for (std::size_t j = 0; j < parsed.queries.size(); ++j) {
      SynthCandidate sc{base, id_prefix + std::to_string(j), r.template_index};
      sc.candidate.query = parsed.queries[j];
      out.push_back(std::move(sc));
    }
  }
  return out;
}

Provenance make_provenance(const SynthCandidate& sc, std::size_t i,
                           const std::vector<PromptBuilder>& builders, const FunnelResult& funnel,
                           const std::string& model) {
  const PromptTemplate& t = builders.at(sc.template_index).prompt_template();
  Provenance p;
  p.model = model;
  p.template_name = t.name;
  p.template_hash = t.hash;
  p.logprob = sc.candidate.mean_logprob;
  p.style = t.style;
  p.filters = funnel.verdicts(i);
  return p;
}

SynthesisResult synthesize_queries(const std::vector<Document>& docs,
                                   const std::vector<PromptBuilder>& builders,
                                   llm::Backend& backend, GenerationCache& cache, Funnel& funnel,
                                   const QueryGenerationOptions& options) {
  SynthesisResult result;
  const auto records = run_generation(docs, builders, backend, cache, options, &result.stats);
  result.candidates = candidates_from_generations(records, docs, builders);
  std::vector<Candidate> plain;
  plain.reserve(result.candidates.size());
  for (const SynthCandidate& sc : result.candidates) plain.push_back(sc.candidate);
  result.funnel = funnel.run(plain);
  for (std::size_t i : result.funnel.kept) {
    const SynthCandidate& sc = result.candidates[i];
    Triple tr;
    tr.query = sc.candidate.query;
    tr.query_id = sc.query_id;
    tr.positive_id = sc.candidate.doc_id;
    tr.source = TripleSource::kSynthetic;
    tr.provenance = make_provenance(sc, i, builders, result.funnel, options.model);
    result.triples.push_back(std::move(tr));
  }
  return result;
}

void write_synthesis(const fs::path& dir, const SynthesisResult& result, const json& config) {
  fs::create_directories(dir);
  write_triples(dir / "triples.jsonl", result.triples);
  {
    JsonlWriter rej(dir / "rejections.jsonl");
    for (const Rejection& r : result.funnel.rejections) {
      const SynthCandidate& sc = result.candidates[r.index];
      rej.write(json{{"query_id", sc.query_id},
                     {"doc_id", sc.candidate.doc_id},
                     {"query", sc.candidate.query},
                     {"filter", r.filter},
                     {"reason", r.reason}});
    }
    rej.close();
  }
  const json funnel = result.funnel.to_json();
  {
    std::ofstream out(dir / "funnel.json");
    out << funnel.dump(2) << "\n";
    if (!out) throw IoError("cannot write " + (dir / "funnel.json").string());
  }
  Manifest m = make_manifest("synth-queries", config);
  for (const char* f : {"triples.jsonl", "funnel.json", "rejections.jsonl"}) {
    m.outputs.push_back(describe_file(dir / f, dir));
  }
  m.stats = {{"funnel", funnel}, {"generation", result.stats.to_json()}};
  write_manifest(dir, m);
}

}  // namespace ksparse::synth
