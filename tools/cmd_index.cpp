// `ksparse index build` (BEIR corpus -> BM25 index directory) and `ksparse search` (index +
// queries -> TREC run, pruned or exhaustive top-k, multithreaded).
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.h"
#include "ksparse/core/analyzer.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/core/progress.h"
#include "ksparse/index/search.h"
#include "ksparse/index/text_index.h"

namespace ksparse::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct IndexBuildCommandOptions {
  std::filesystem::path corpus;  // BEIR corpus.jsonl
  std::filesystem::path out;     // index directory to write
  Bm25IndexOptions index;
};

void run_index_build(const IndexBuildCommandOptions& opt) {
  opt.index.validate();
  const auto t0 = Clock::now();
  const InvertedIndex index = build_bm25_index(opt.corpus, opt.index);
  write_index_dir(opt.out, index, opt.index, opt.corpus);
  const IndexStats& s = index.stats();
  spdlog::info(
      "indexed {} documents ({} terms, {} postings, avg length {:.1f}) into {} in {:.1f} s",
      s.num_docs, s.num_terms, s.num_postings, s.avg_doc_length, opt.out.string(),
      seconds_since(t0));
}

struct SearchCommandOptions {
  std::filesystem::path index;    // index directory from `ksparse index build`
  std::filesystem::path queries;  // BEIR queries.jsonl
  std::filesystem::path out;      // TREC run to write
  SearchOptions search{100, SearchAlgorithm::kMaxScore};
  unsigned threads = 0;         // 0 = all hardware threads
  bool exhaustive = false;      // exhaustive reference instead of MaxScore
  std::string tag = "ksparse";  // run tag (last TREC column)
  std::filesystem::path model;  // sparse encoder model dir (index from `ksparse encode`); empty = BM25
};

void run_search(SearchCommandOptions opt) {
  opt.search.algorithm = opt.exhaustive ? SearchAlgorithm::kExhaustive : SearchAlgorithm::kMaxScore;
  opt.search.validate();
  const InvertedIndex index = open_index_dir(opt.index);
  std::vector<std::string> ids;
  std::vector<std::string> texts;
  QueryReader reader(opt.queries);
  Query q;
  while (reader.next(q)) {
    ids.push_back(q.id);
    texts.push_back(std::move(q.text));
  }
  if (ids.empty()) throw DataError("queries file " + opt.queries.string() + " has no queries");
  std::vector<SparseVector> vectors;
  if (!opt.model.empty()) {
#ifdef KSPARSE_HAVE_TORCH
    vectors = model_query_vectors(index, opt.model, texts);
#else
    throw ConfigError("search --model needs a build with libtorch (KSPARSE_WITH_TORCH=ON)");
#endif
  } else {
    const Analyzer analyzer(index_analyzer_options(index));
    for (const std::string& t : texts) vectors.push_back(encode_query(index, analyzer, t));
  }
  const auto t0 = Clock::now();
  Progress progress("searching", ids.size());
  std::size_t reported = 0;
  const auto hits = batch_search(index, vectors, opt.search, opt.threads, [&](std::size_t done) {
    progress.advance(done - reported);
    reported = done;
  });
  progress.finish();
  const double secs = seconds_since(t0);
  write_trec_run(opt.out, hits_to_run(index, ids, hits), opt.tag);
  spdlog::info("searched {} queries ({}, k={}) in {:.2f} s ({:.0f} queries/s); run written to {}",
               ids.size(), search_algorithm_name(opt.search.algorithm), opt.search.k, secs,
               ids.size() / std::max(secs, 1e-9), opt.out.string());
}

}  // namespace

void add_index_commands(CLI::App& app) {
  auto* index = app.add_subcommand("index", "Build inverted indexes")->require_subcommand(1);
  auto opt = std::make_shared<IndexBuildCommandOptions>();
  auto* build = index->add_subcommand("build", "Build a BM25 index from a BEIR corpus.jsonl");
  build->add_option("--corpus", opt->corpus, "BEIR corpus.jsonl")->required();
  build->add_option("--out", opt->out, "Index directory to write (index.ksidx + manifest.json)")
      ->required();
  build->add_option("--analyzer", opt->index.analyzer.kind, "Analyzer: bigram | word")
      ->capture_default_str()
      ->check(CLI::IsMember({"bigram", "word"}));
  build->add_option("--k1", opt->index.bm25.k1, "BM25 k1 (term-frequency saturation, >= 0)")
      ->capture_default_str();
  build->add_option("--b", opt->index.bm25.b, "BM25 b (length normalisation, 0..1)")
      ->capture_default_str();
  build->add_flag("!--no-title", opt->index.index_title,
                  "Index the text field only (default: title + text)");
  build->callback([opt] { run_index_build(*opt); });
}

void add_search_commands(CLI::App& app) {
  auto opt = std::make_shared<SearchCommandOptions>();
  auto* search =
      app.add_subcommand("search", "Search an index with BEIR queries; write a TREC run");
  search->add_option("--index", opt->index, "Index directory from `ksparse index build`")
      ->required();
  search->add_option("--queries", opt->queries, "BEIR queries.jsonl")->required();
  search->add_option("--out", opt->out, "TREC run file to write")->required();
  search->add_option("--k", opt->search.k, "Results per query (>= 1)")->capture_default_str();
  search->add_option("--threads", opt->threads, "Search threads (0 = all hardware threads)")
      ->capture_default_str();
  search->add_flag("--exhaustive", opt->exhaustive,
                   "Score every posting (reference) instead of MaxScore pruning; same results");
  search->add_option("--tag", opt->tag, "Run tag written in the last TREC column")
      ->capture_default_str();
  search->add_option("--model", opt->model,
                     "Sparse encoder model directory: queries get its weights (IDF in doc-only "
                     "mode); the index must come from `ksparse encode` with this model");
  search->callback([opt] { run_search(*opt); });
}

}  // namespace ksparse::cli
