#include "ksparse/synth/rewrite.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"

namespace ksparse::synth {
namespace fs = std::filesystem;
using nlohmann::json;

RewriteResult run_rewrite(const std::vector<RewriteItem>& items,
                          const std::vector<PromptBuilder>& builders, llm::Backend& backend,
                          GenerationCache& cache, Funnel& funnel,
                          const QueryGenerationOptions& options) {
  std::vector<Document> docs;
  docs.reserve(items.size());
  std::unordered_set<std::string> ids;
  for (const RewriteItem& it : items) {
    if (it.id.empty() || !ids.insert(it.id).second) {
      throw DataError("synth: rewrite item ids must be unique and non-empty (\"" + it.id + "\")");
    }
    Document d;
    d.id = it.id;
    d.text = it.source;
    if (!it.query.empty()) d.metadata = json{{"query", it.query}};
    docs.push_back(std::move(d));
  }
  RewriteResult r;
  const auto records = run_generation(docs, builders, backend, cache, options, &r.stats);
  r.candidates = candidates_from_generations(records, docs, builders);
  // Candidates come in document order; map each back to its item for the target id.
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < items.size(); ++i) index.emplace(items[i].id, i);
  std::vector<Candidate> plain;
  plain.reserve(r.candidates.size());
  for (SynthCandidate& sc : r.candidates) {
    const std::size_t item = index.at(sc.candidate.doc_id);
    r.item_of.push_back(item);
    if (!items[item].target_id.empty()) sc.candidate.doc_id = items[item].target_id;
    plain.push_back(sc.candidate);
  }
  r.funnel = funnel.run(plain);
  return r;
}

Provenance rewrite_provenance(const RewriteResult& r, std::size_t i,
                              const std::vector<PromptBuilder>& builders,
                              const QueryGenerationOptions& options) {
  return make_provenance(r.candidates.at(i), i, builders, r.funnel, options.model);
}

// --- term overlap ---

void TermOverlapFilterOptions::validate() const {
  analyzer.validate();
  if (!(min_share >= 0.0 && min_share <= 1.0)) {
    throw ConfigError("synth.filters.term_overlap.min_share must be in [0, 1]");
  }
}

TermOverlapFilter::TermOverlapFilter(TermOverlapFilterOptions options)
    : options_((options.validate(), std::move(options))), analyzer_(options_.analyzer) {}

std::optional<std::string> TermOverlapFilter::check(const Candidate& c) {
  std::vector<std::string> query_terms = analyzer_.analyze(c.doc_text);
  std::sort(query_terms.begin(), query_terms.end());
  query_terms.erase(std::unique(query_terms.begin(), query_terms.end()), query_terms.end());
  if (query_terms.empty()) return std::nullopt;  // nothing to compare (length rejects such input)
  std::unordered_set<std::string> text_terms;
  for (std::string& t : analyzer_.analyze(c.query)) text_terms.insert(std::move(t));
  std::size_t hit = 0;
  for (const std::string& t : query_terms) hit += text_terms.count(t);
  const double share = static_cast<double>(hit) / static_cast<double>(query_terms.size());
  if (share >= options_.min_share) return std::nullopt;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.2f of the query's terms occur in the text, below %.2f", share,
                options_.min_share);
  return std::string(buf);
}

LengthFilterOptions passage_length_options() {
  LengthFilterOptions o;
  o.min_chars = 30;
  o.max_chars = 2000;
  o.min_tokens = 8;
  o.max_tokens = 1024;
  return o;
}

RepetitionFilterOptions passage_repetition_options() {
  RepetitionFilterOptions o;
  o.max_word_repeats = 0;  // particles and topic words recur in any real passage
  o.min_distinct_bigrams = 0.3;
  o.min_bigrams = 20;
  return o;
}

Funnel make_passage_funnel(const FilterOptions& options, const TermOverlapFilterOptions* overlap) {
  options.validate();
  Funnel funnel;
  add_text_filters(funnel, options);
  if (overlap != nullptr) funnel.add(std::make_unique<TermOverlapFilter>(*overlap));
  return funnel;
}

// --- dictionary variants ---

namespace {

bool is_particle(const std::string& s) {
  static const std::unordered_set<std::string> kParticles = {
      "은", "는", "이", "가",   "을",   "를",   "의",   "에", "에서", "으로", "로",   "와",
      "과", "도", "만", "에게", "까지", "부터", "이나", "나", "란",   "이란", "처럼", "보다"};
  return kParticles.count(s) > 0;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> read_synonym_pairs(const fs::path& path,
                                                                    double min_score) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read the synonym dictionary " + path.string());
  const json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("entries") || !j["entries"].is_array()) {
    throw DataError(path.string() +
                    ": not a synonyms.json document (expected an object with \"entries\")");
  }
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t n = 0;
  for (const json& e : j["entries"]) {
    ++n;
    if (!e.is_object() || !e.contains("ko") || !e.contains("en") || !e["ko"].is_string() ||
        !e["en"].is_string()) {
      throw DataError(path.string() + ": entry " + std::to_string(n) +
                      " lacks string \"ko\" and \"en\"");
    }
    const double score = e.value("score", 1.0);
    if (score < min_score) continue;
    std::string ko = e["ko"].get<std::string>(), en = e["en"].get<std::string>();
    if (ko.empty() || en.empty()) continue;
    out.emplace_back(std::move(ko), std::move(en));
  }
  return out;
}

std::vector<std::string> dictionary_variants(
    const std::string& query, const std::vector<std::pair<std::string, std::string>>& pairs,
    std::size_t max_variants) {
  std::vector<std::string> words;
  {
    std::istringstream in(query);
    for (std::string w; in >> w;) words.push_back(w);
  }
  std::vector<std::string> out;
  std::unordered_set<std::string> seen = {query};
  auto emit = [&](std::size_t at, const std::string& replacement) {
    std::string v;
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (i) v += ' ';
      v += i == at ? replacement : words[i];
    }
    if (seen.insert(v).second) out.push_back(std::move(v));
  };
  for (std::size_t i = 0; i < words.size() && out.size() < max_variants; ++i) {
    const std::string lower = to_lower(words[i]);
    for (const auto& [ko, en] : pairs) {
      if (out.size() >= max_variants) break;
      if (lower == to_lower(en)) {
        emit(i, ko);
      } else if (words[i].compare(0, ko.size(), ko) == 0) {
        // The rest of the word must be empty or a particle ("데이터를"), so "데이터베이스" is
        // not read as "데이터" + "베이스" and "차" does not match "차량".
        const std::string rest = words[i].substr(ko.size());
        if (rest.empty() || is_particle(rest)) emit(i, en + rest);
      }
    }
  }
  return out;
}

}  // namespace ksparse::synth
