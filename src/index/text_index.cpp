#include "ksparse/index/text_index.h"

#include <string>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/progress.h"
#include "ksparse/index/index_builder.h"

namespace ksparse {
namespace fs = std::filesystem;

namespace {

nlohmann::json analyzer_to_json(const AnalyzerOptions& a) {
  return {{"kind", a.kind},
          {"lowercase", a.lowercase},
          {"emit_head_unigrams", a.emit_head_unigrams},
          {"emit_words", a.emit_words}};
}

}  // namespace

void Bm25IndexOptions::validate() const {
  analyzer.validate();
  bm25.validate();
}

nlohmann::json Bm25IndexOptions::to_json() const {
  return {{"analyzer", analyzer_to_json(analyzer)},
          {"bm25", {{"k1", bm25.k1}, {"b", bm25.b}}},
          {"index_title", index_title}};
}

InvertedIndex build_bm25_index(const fs::path& corpus, const Bm25IndexOptions& options) {
  options.validate();
  const Analyzer analyzer(options.analyzer);
  IndexBuilder builder(IndexType::kBm25, options.bm25);
  CorpusReader reader(corpus);
  ProgressOptions popts;
  if (!options.show_progress) popts.mode = ProgressOptions::Mode::kOff;
  Progress progress("indexing " + corpus.filename().string(), 0, popts);
  Document doc;
  std::vector<std::string> tokens;
  std::string text;
  while (reader.next(doc)) {
    tokens.clear();
    text.clear();
    // BEIR convention (as in Pyserini's BEIR indexes): title and body form one field.
    if (options.index_title && !doc.title.empty()) {
      text = doc.title;
      text += ' ';
    }
    text += doc.text;
    analyzer.analyze(text, tokens);
    try {
      builder.add_tokens(doc.id, tokens);
    } catch (const DataError& e) {
      throw DataError(where(corpus, reader.line_no()) + ": " + e.what());
    }
    progress.advance();
  }
  progress.finish();
  if (builder.num_docs() == 0) {
    throw DataError("corpus " + corpus.string() + " has no documents; nothing to index");
  }
  nlohmann::json meta = options.to_json();
  meta["corpus"] = fs::absolute(corpus).string();
  builder.set_metadata(std::move(meta));
  return builder.build(corpus.string());
}

void write_index_dir(const fs::path& dir, const InvertedIndex& index,
                     const Bm25IndexOptions& options, const fs::path& corpus) {
  const fs::path file = dir / kIndexFileName;
  index.save(file);
  Manifest m = make_manifest("index", options.to_json());
  m.inputs.push_back(describe_file(corpus));
  m.outputs.push_back(describe_file(file, dir));
  const IndexStats& s = index.stats();
  m.stats = {{"type", index_type_name(index.type())},
             {"format_version", InvertedIndex::kFormatVersion},
             {"num_docs", s.num_docs},
             {"num_terms", s.num_terms},
             {"num_postings", s.num_postings},
             {"avg_doc_length", s.avg_doc_length}};
  write_manifest(dir, m);
}

InvertedIndex open_index_dir(const fs::path& dir) {
  const std::string how =
      " (build one with `ksparse index build --corpus C --out " + dir.string() + "`)";
  if (!fs::exists(dir)) throw IoError("index directory " + dir.string() + " does not exist" + how);
  if (!fs::is_directory(dir)) {
    throw IoError("index path " + dir.string() + " is not a directory; pass the directory that " +
                  "`ksparse index build --out` wrote");
  }
  const fs::path file = dir / kIndexFileName;
  if (!fs::exists(file)) throw IoError("index file " + file.string() + " is missing" + how);
  InvertedIndex index = InvertedIndex::open(file);
  index.verify();
  return index;
}

AnalyzerOptions index_analyzer_options(const InvertedIndex& index) {
  const nlohmann::json& meta = index.metadata();
  if (!meta.contains("analyzer") || !meta["analyzer"].is_object()) {
    throw IoError("index " + index.name() +
                  " records no analyzer; it was not built from text (ksparse index build)");
  }
  const nlohmann::json& a = meta["analyzer"];
  AnalyzerOptions opts;
  try {
    opts.kind = a.value("kind", opts.kind);
    opts.lowercase = a.value("lowercase", opts.lowercase);
    opts.emit_head_unigrams = a.value("emit_head_unigrams", opts.emit_head_unigrams);
    opts.emit_words = a.value("emit_words", opts.emit_words);
  } catch (const nlohmann::json::exception& e) {
    throw IoError("index " + index.name() + " has malformed analyzer metadata: " + e.what());
  }
  return opts;
}

SparseVector encode_query(const InvertedIndex& index, const Analyzer& analyzer,
                          std::string_view text) {
  std::vector<TermId> ids;
  analyzer.for_each_term(text, [&](std::string_view term) {
    if (auto id = index.find_term(term)) ids.push_back(*id);
  });
  return SparseVector::from_counts(ids);
}

Run hits_to_run(const InvertedIndex& index, const std::vector<std::string>& query_ids,
                const std::vector<std::vector<Hit>>& hits) {
  Run run;
  for (std::size_t q = 0; q < query_ids.size() && q < hits.size(); ++q) {
    if (hits[q].empty()) continue;
    auto& docs = run[query_ids[q]];
    docs.reserve(hits[q].size());
    for (const Hit& h : hits[q]) docs.push_back({std::string(index.doc_id(h.doc)), h.score});
  }
  return run;
}

}  // namespace ksparse
