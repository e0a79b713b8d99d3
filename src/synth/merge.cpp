#include "ksparse/synth/merge.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <unordered_set>
#include <utility>

#include "ksparse/core/analyzer.h"
#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/utf8.h"
#include "ksparse/synth/prompt.h"
#include "ksparse/synth/similarity.h"

namespace ksparse::synth {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<Triple> triples_from_beir(const std::vector<Query>& queries, const Qrels& qrels) {
  std::vector<Triple> out;
  for (const Query& q : queries) {
    auto it = qrels.find(q.id);
    if (it == qrels.end()) continue;
    for (const auto& [doc_id, grade] : it->second) {
      if (grade <= 0) continue;
      Triple t;
      t.query = q.text;
      t.query_id = q.id;
      t.positive_id = doc_id;
      t.source = TripleSource::kReal;
      out.push_back(std::move(t));
    }
  }
  return out;
}

void MergeOptions::validate() const {
  if (!(synthetic_per_real >= 0.0) || !std::isfinite(synthetic_per_real)) {
    throw ConfigError("synth merge: synthetic_per_real (--ratio) must be a finite number >= 0");
  }
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0)) {
    throw ConfigError("synth merge: validation_fraction must be in [0, 1)");
  }
}

json MergeOptions::to_json() const {
  return {{"synthetic_per_real", synthetic_per_real},
          {"validation_fraction", validation_fraction},
          {"exclude_validation_docs", exclude_validation_docs},
          {"seed", seed}};
}

namespace {

// Sorts by a seeded hash of the query id (ties: id, then input position): a shuffle that does not
// depend on the input order.
template <typename Key>
void seeded_order(std::vector<std::size_t>& idx, std::uint64_t seed, Key key) {
  std::vector<std::pair<std::uint64_t, std::size_t>> keyed;
  keyed.reserve(idx.size());
  for (std::size_t i : idx) keyed.emplace_back(stable_hash(key(i), seed), i);
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return key(a.second) < key(b.second);
  });
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = keyed[i].second;
}

}  // namespace

MergeResult merge_triples(const std::vector<Triple>& real, const std::vector<Triple>& synthetic,
                          const MergeOptions& options) {
  options.validate();
  for (const Triple& t : real) {
    if (t.source != TripleSource::kReal) {
      throw ConfigError("synth merge: the real triples hold a synthetic one (query_id " +
                        t.query_id + "); pass it with the synthetic triples");
    }
  }
  for (const Triple& t : synthetic) {
    if (t.source != TripleSource::kSynthetic) {
      throw ConfigError("synth merge: the synthetic triples hold a real one (query_id " +
                        t.query_id + "); pass it with the real triples");
    }
  }
  // Hold out whole query ids.
  std::set<std::string> ids;
  for (const Triple& t : real) ids.insert(t.query_id);
  std::vector<std::string> id_list(ids.begin(), ids.end());
  std::vector<std::size_t> id_idx(id_list.size());
  for (std::size_t i = 0; i < id_idx.size(); ++i) id_idx[i] = i;
  seeded_order(id_idx, options.seed ^ 0x76616c6964ULL,
               [&](std::size_t i) -> const std::string& { return id_list[i]; });
  const auto n_valid = static_cast<std::size_t>(
      std::llround(options.validation_fraction * static_cast<double>(id_list.size())));
  std::unordered_set<std::string> valid_ids;
  for (std::size_t i = 0; i < n_valid; ++i) valid_ids.insert(id_list[id_idx[i]]);

  MergeResult r;
  std::vector<Triple> real_train;
  std::unordered_set<std::string> valid_docs;
  for (const Triple& t : real) {
    if (valid_ids.count(t.query_id)) {
      r.validation.push_back(t);
      valid_docs.insert(t.positive_id);
    } else {
      real_train.push_back(t);
    }
  }
  std::vector<std::size_t> syn_idx;
  std::size_t leaked = 0;
  for (std::size_t i = 0; i < synthetic.size(); ++i) {
    if (options.exclude_validation_docs && valid_docs.count(synthetic[i].positive_id)) {
      ++leaked;
      continue;
    }
    syn_idx.push_back(i);
  }
  seeded_order(syn_idx, options.seed ^ 0x73796e7468ULL,
               [&](std::size_t i) -> const std::string& { return synthetic[i].query_id; });
  const auto wanted = static_cast<std::size_t>(
      std::floor(options.synthetic_per_real * static_cast<double>(real_train.size())));
  const std::size_t used = std::min(wanted, syn_idx.size());

  std::vector<Triple> all = real_train;
  for (std::size_t i = 0; i < used; ++i) all.push_back(synthetic[syn_idx[i]]);
  std::vector<std::size_t> order(all.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  seeded_order(order, options.seed ^ 0x747261696eULL,
               [&](std::size_t i) -> const std::string& { return all[i].query_id; });
  for (std::size_t i : order) r.train.push_back(all[i]);
  r.stats = {{"real_train", real_train.size()},
             {"real_validation", r.validation.size()},
             {"validation_query_ids", n_valid},
             {"synthetic_available", synthetic.size()},
             {"synthetic_excluded_leak", leaked},
             {"synthetic_wanted", wanted},
             {"synthetic_used", used}};
  return r;
}

namespace {

json histogram(const std::vector<double>& values, const std::vector<double>& edges) {
  std::vector<std::size_t> counts(edges.size(), 0);
  for (double v : values) {
    std::size_t b = 0;
    while (b + 1 < edges.size() && v >= edges[b + 1]) ++b;
    ++counts[b];
  }
  double mean = 0.0, median = 0.0;
  if (!values.empty()) {
    for (double v : values) mean += v;
    mean /= static_cast<double>(values.size());
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
  }
  return {{"edges", edges}, {"counts", counts}, {"mean", mean}, {"median", median}};
}

std::string fmt(double x, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

json dataset_report(const std::vector<Triple>& triples, const json& funnel,
                    const std::unordered_map<std::string, Document>* corpus,
                    const ReportOptions& options) {
  const Analyzer analyzer;
  std::vector<double> chars[2], tokens[2];
  std::map<std::string, std::size_t> by_style;
  std::size_t n[2] = {0, 0};
  for (const Triple& t : triples) {
    const int s = t.source == TripleSource::kSynthetic ? 1 : 0;
    ++n[s];
    chars[s].push_back(static_cast<double>(utf8_length(t.query)));
    tokens[s].push_back(static_cast<double>(analyzer.analyze(t.query).size()));
    if (s == 1) by_style[t.provenance ? t.provenance->style : ""]++;
  }
  const std::vector<double> char_edges = {0, 5, 10, 15, 20, 30, 40, 60, 80, 120};
  const std::vector<double> token_edges = {0, 3, 5, 8, 12, 16, 24, 32, 48};
  json report;
  report["counts"] = {
      {"total", triples.size()}, {"real", n[0]}, {"synthetic", n[1]}, {"by_style", by_style}};
  report["query_chars"] = {{"real", histogram(chars[0], char_edges)},
                           {"synthetic", histogram(chars[1], char_edges)}};
  report["query_tokens"] = {{"real", histogram(tokens[0], token_edges)},
                            {"synthetic", histogram(tokens[1], token_edges)}};
  report["funnel"] = funnel;

  std::vector<std::size_t> pick;
  const TripleSource want = n[1] > 0 ? TripleSource::kSynthetic : TripleSource::kReal;
  for (std::size_t i = 0; i < triples.size(); ++i) {
    if (triples[i].source == want) pick.push_back(i);
  }
  seeded_order(pick, options.seed ^ 0x6578616dULL,
               [&](std::size_t i) -> const std::string& { return triples[i].query_id; });
  if (pick.size() > options.examples) pick.resize(options.examples);
  json examples = json::array();
  for (std::size_t i : pick) {
    const Triple& t = triples[i];
    json e = {{"query", t.query},
              {"query_id", t.query_id},
              {"positive_id", t.positive_id},
              {"source", triple_source_name(t.source)}};
    if (t.provenance) {
      e["style"] = t.provenance->style;
      e["logprob"] = t.provenance->logprob ? json(*t.provenance->logprob) : json(nullptr);
    }
    if (corpus) {
      if (auto it = corpus->find(t.positive_id); it != corpus->end()) {
        e["passage"] = truncate_chars(document_prompt_text(it->second), options.passage_chars);
      }
    }
    examples.push_back(std::move(e));
  }
  report["examples"] = std::move(examples);
  return report;
}

std::string report_markdown(const json& report) {
  std::string md = "# Training data report\n\n";
  const json& c = report.at("counts");
  md += "Triples: " + std::to_string(c.at("total").get<std::size_t>()) + " (real " +
        std::to_string(c.at("real").get<std::size_t>()) + ", synthetic " +
        std::to_string(c.at("synthetic").get<std::size_t>()) + ")\n\n";
  if (!c.at("by_style").empty()) {
    md += "| style | synthetic triples |\n|---|---:|\n";
    for (const auto& [style, count] : c.at("by_style").items()) {
      md += "| " + md_escape(style.empty() ? "(none)" : style) + " | " +
            std::to_string(count.get<std::size_t>()) + " |\n";
    }
    md += "\n";
  }
  const json& funnel = report.at("funnel");
  if (funnel.is_object() && funnel.contains("by_filter")) {
    md += "## Filter funnel\n\nInput: " + std::to_string(funnel.at("input").get<std::size_t>()) +
          ", passed: " + std::to_string(funnel.at("passed").get<std::size_t>()) +
          "\n\n| filter | rejected |\n|---|---:|\n";
    std::vector<std::string> order;
    if (funnel.contains("order")) {
      order = funnel.at("order").get<std::vector<std::string>>();
    } else {
      for (const auto& [name, v] : funnel.at("by_filter").items()) order.push_back(name);
    }
    for (const std::string& name : order) {
      md += "| " + name + " | " +
            std::to_string(funnel.at("by_filter").value(name, std::size_t{0})) + " |\n";
    }
    md += "\n";
  }
  for (const char* key : {"query_chars", "query_tokens"}) {
    md += std::string("## Query length: ") +
          (std::string(key) == "query_chars" ? "characters" : "analyzer tokens") +
          "\n\n| bin | real | synthetic |\n|---|---:|---:|\n";
    const json& real = report.at(key).at("real");
    const json& syn = report.at(key).at("synthetic");
    const auto edges = real.at("edges").get<std::vector<double>>();
    for (std::size_t b = 0; b < edges.size(); ++b) {
      const std::string bin = b + 1 < edges.size()
                                  ? fmt(edges[b], 0) + "–" + fmt(edges[b + 1] - 1, 0)
                                  : fmt(edges[b], 0) + "+";
      md += "| " + bin + " | " + std::to_string(real.at("counts")[b].get<std::size_t>()) + " | " +
            std::to_string(syn.at("counts")[b].get<std::size_t>()) + " |\n";
    }
    md += "| mean | " + fmt(real.at("mean").get<double>(), 1) + " | " +
          fmt(syn.at("mean").get<double>(), 1) + " |\n| median | " +
          fmt(real.at("median").get<double>(), 1) + " | " + fmt(syn.at("median").get<double>(), 1) +
          " |\n\n";
  }
  md += "## Random examples\n\n";
  std::size_t i = 0;
  for (const json& e : report.at("examples")) {
    md += std::to_string(++i) + ". **" + md_escape(e.at("query").get<std::string>()) + "** → `" +
          e.at("positive_id").get<std::string>() + "`";
    if (e.contains("style")) md += " (" + e.at("style").get<std::string>();
    if (e.contains("logprob") && e.at("logprob").is_number()) {
      md += ", logprob " + fmt(e.at("logprob").get<double>());
    }
    if (e.contains("style")) md += ")";
    if (e.contains("passage")) md += "\n   > " + md_escape(e.at("passage").get<std::string>());
    md += "\n";
  }
  return md;
}

void write_merge(const fs::path& dir, const MergeResult& result, const json& report,
                 const json& config, const std::vector<fs::path>& inputs) {
  fs::create_directories(dir);
  write_triples(dir / "train.jsonl", result.train);
  write_triples(dir / "valid.jsonl", result.validation);
  {
    std::ofstream out(dir / "stats.json");
    out << report.dump(2) << "\n";
    std::ofstream md(dir / "stats.md");
    md << report_markdown(report);
    if (!out || !md) throw IoError("cannot write the report into " + dir.string());
  }
  Manifest m = make_manifest("synth-merge", config);
  for (const fs::path& p : inputs) m.inputs.push_back(describe_file(p));
  for (const char* f : {"train.jsonl", "valid.jsonl", "stats.json", "stats.md"}) {
    m.outputs.push_back(describe_file(dir / f, dir));
  }
  m.stats = result.stats;
  write_manifest(dir, m);
}

}  // namespace ksparse::synth
