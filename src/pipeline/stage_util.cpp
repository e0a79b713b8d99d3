#include "stage_util.h"

#include <cstdlib>
#include <fstream>

#include "ksparse/core/analyzer.h"
#include "ksparse/core/error.h"
#include "ksparse/index/search.h"
#include "ksparse/index/text_index.h"
#include "ksparse/pipeline/stages.h"

namespace ksparse::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path resolve_input_file(const ConfigTable& section, const ConfigTable& root,
                            std::string_view key) {
  std::string dotted = section.name();
  if (!dotted.empty()) dotted += ".";
  dotted += key;
  const std::string raw = section.get<std::string>(key, "");
  if (raw.empty()) {
    throw ConfigError(section.where(key) + ": `" + dotted + "` is required (a file path)");
  }
  if (raw.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    const fs::path p = fs::path(home ? home : "") / raw.substr(2);
    if (fs::exists(p)) return fs::absolute(p).lexically_normal();
    throw ConfigError(section.where(key) + ": `" + dotted + "`: file not found: " + p.string());
  }
  const fs::path configured = section.get<fs::path>(key, fs::path());
  if (fs::exists(configured)) return fs::absolute(configured).lexically_normal();
  std::vector<fs::path> tried = {configured};
  if (fs::path(raw).is_relative()) {
    if (root.contains("data_dir")) {
      const fs::path p = root.get<fs::path>("data_dir", fs::path()) / raw;
      if (fs::exists(p)) return fs::absolute(p).lexically_normal();
      tried.push_back(p);
    }
    if (const char* env = std::getenv("KSPARSE_DATA_DIR"); env && *env) {
      const fs::path p = fs::path(env) / raw;
      if (fs::exists(p)) return fs::absolute(p).lexically_normal();
      tried.push_back(p);
    }
  }
  std::string where_tried;
  for (const auto& t : tried) {
    if (!where_tried.empty()) where_tried.append(", ");
    where_tried.append(t.string());
  }
  throw ConfigError(section.where(key) + ": `" + dotted + "`: file not found (tried " +
                    where_tried + "); fix the path, or set `data_dir` / KSPARSE_DATA_DIR " +
                    "(scripts/data.sh prints the data directory)");
}

namespace detail {

void write_json(const fs::path& path, const json& j) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError(path.string() + ": cannot write");
  out << j.dump(2) << "\n";
  if (!out) throw IoError(path.string() + ": write failed");
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path.string() + ": cannot open");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw IoError(path.string() + ": not valid JSON: " + e.what());
  }
}

std::vector<Metric> metrics_from(const ConfigTable& section) {
  const std::string list = section.get<std::string>("metrics", "ndcg@10,mrr@10,recall@100");
  try {
    return parse_metrics(list);
  } catch (const ConfigError& e) {
    throw ConfigError(section.where("metrics") + ": " + e.what());
  }
}

std::string metrics_string(const std::vector<Metric>& metrics) {
  std::string s;
  for (const auto& m : metrics) {
    if (!s.empty()) s.append(",");
    s.append(m.name());
  }
  return s;
}

EvalResult evaluate_and_write(const fs::path& dir, const Qrels& qrels, const Run& run,
                              const std::vector<Metric>& metrics, const std::string& tag) {
  write_trec_run(dir / "run.trec", run, tag);
  EvalResult r = evaluate(qrels, run, metrics);
  json mean = json::object();
  json per = json::object();
  for (std::size_t m = 0; m < metrics.size(); ++m) {
    mean[metrics[m].name()] = r.mean[m];
    json q = json::object();
    for (std::size_t i = 0; i < r.query_ids.size(); ++i) q[r.query_ids[i]] = r.per_query[i][m];
    per[metrics[m].name()] = std::move(q);
  }
  write_json(dir / "metrics.json", {{"mean", mean},
                                    {"queries", r.query_ids.size()},
                                    {"missing_from_run", r.num_missing_from_run},
                                    {"metrics", metrics_string(metrics)}});
  write_json(dir / "per_query.json", per);
  return r;
}

std::map<std::string, double> read_per_query(const fs::path& dir, const std::string& metric) {
  const json j = read_json(dir / "per_query.json");
  if (!j.contains(metric)) {
    throw DataError((dir / "per_query.json").string() + ": no values for metric " + metric);
  }
  return j.at(metric).get<std::map<std::string, double>>();
}

unsigned threads_from(const ConfigTable& root) {
  const int t = root.get("threads", 0);
  if (t < 0) throw ConfigError(root.where("threads") + ": `threads` must be >= 0");
  return static_cast<unsigned>(t);
}

Run search_run(const InvertedIndex& index, const std::vector<std::string>& ids,
               const std::vector<SparseVector>& vectors, std::size_t k, unsigned threads) {
  SearchOptions so;
  so.k = k;
  return hits_to_run(index, ids, batch_search(index, vectors, so, threads));
}

Run bm25_run(const InvertedIndex& index, const std::vector<Query>& queries, std::size_t k,
             unsigned threads) {
  const Analyzer analyzer(index_analyzer_options(index));
  std::vector<std::string> ids;
  std::vector<SparseVector> vectors;
  for (const Query& q : queries) {
    ids.push_back(q.id);
    vectors.push_back(encode_query(index, analyzer, q.text));
  }
  return search_run(index, ids, vectors, k, threads);
}

}  // namespace detail
}  // namespace ksparse::pipeline
