#include "ksparse/encoder/sparse_index.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/progress.h"
#include "ksparse/index/index_builder.h"
#include "ksparse/index/text_index.h"

namespace ksparse {
namespace fs = std::filesystem;
using nlohmann::json;

void SparseIndexOptions::validate() const {
  encode.validate();
  if (chunk < 1) throw ConfigError("encode: chunk must be >= 1");
}

json SparseIndexOptions::to_json() const {
  return {{"batch_size", encode.batch_size},
          {"max_length", encode.max_length},
          {"top_k", encode.top_k},
          {"threshold", encode.threshold},
          {"index_title", index_title},
          {"chunk", chunk}};
}

std::string sparse_index_text(const Document& doc, bool index_title) {
  if (!index_title || doc.title.empty()) return doc.text;
  return doc.title + " " + doc.text;
}

namespace {

// Adds a chunk of documents: encoded vectors keyed by vocabulary id -> token-string terms.
void add_chunk(IndexBuilder& builder, const SparseEncoder& encoder,
               const std::vector<Document>& docs, const SparseIndexOptions& options,
               std::vector<TermId>& term_of_vocab) {
  std::vector<std::string> texts;
  texts.reserve(docs.size());
  for (const Document& d : docs) texts.push_back(sparse_index_text(d, options.index_title));
  DocumentEncodeOptions eo = options.encode;
  eo.show_progress = false;
  const std::vector<SparseVector> vectors = encoder.encode_documents(texts, eo);
  const WordPieceTokenizer& tok = encoder.tokenizer();
  constexpr TermId kUnset = ~TermId{0};
  if (term_of_vocab.empty()) term_of_vocab.assign(tok.vocab_size(), kUnset);
  for (std::size_t i = 0; i < docs.size(); ++i) {
    std::vector<std::pair<TermId, float>> pairs;
    pairs.reserve(vectors[i].size());
    for (const auto& e : vectors[i].entries()) {
      if (!(e.weight > 0.0f)) continue;
      TermId& t = term_of_vocab.at(e.term);
      if (t == kUnset) t = builder.dictionary().add(tok.id_to_token(static_cast<std::int32_t>(e.term)));
      pairs.emplace_back(t, e.weight);
    }
    const auto length = static_cast<std::uint32_t>(pairs.size());
    builder.add(docs[i].id, SparseVector::from_pairs(std::move(pairs)), length);
  }
}

json index_metadata(const SparseEncoder& encoder, const SparseIndexOptions& options) {
  return {{"kind", "sparse_encoder"},
          {"encoder", {{"settings", encoder.settings().to_json()},
                       {"config", encoder.config().to_json()}}},
          {"index_title", options.index_title},
          {"encode", options.to_json()}};
}

}  // namespace

InvertedIndex build_impact_index(const SparseEncoder& encoder, const std::vector<Document>& docs,
                                 const SparseIndexOptions& options) {
  options.validate();
  IndexBuilder builder(IndexType::kImpact);
  builder.set_metadata(index_metadata(encoder, options));
  std::vector<TermId> term_of_vocab;
  for (std::size_t start = 0; start < docs.size(); start += options.chunk) {
    const std::size_t end = std::min(docs.size(), start + options.chunk);
    std::vector<Document> chunk(docs.begin() + static_cast<std::ptrdiff_t>(start),
                                docs.begin() + static_cast<std::ptrdiff_t>(end));
    add_chunk(builder, encoder, chunk, options, term_of_vocab);
  }
  return builder.build("<sparse encoder index>");
}

InvertedIndex build_impact_index(const SparseEncoder& encoder, const fs::path& corpus,
                                 const SparseIndexOptions& options) {
  options.validate();
  IndexBuilder builder(IndexType::kImpact);
  builder.set_metadata(index_metadata(encoder, options));
  std::vector<TermId> term_of_vocab;
  CorpusReader reader(corpus);
  Progress progress("encoding", 0,
                    ProgressOptions{.mode = options.encode.show_progress
                                                ? ProgressOptions::Mode::kAuto
                                                : ProgressOptions::Mode::kOff});
  std::vector<Document> chunk;
  Document doc;
  auto flush = [&] {
    if (chunk.empty()) return;
    add_chunk(builder, encoder, chunk, options, term_of_vocab);
    progress.advance(chunk.size());
    chunk.clear();
  };
  while (reader.next(doc)) {
    chunk.push_back(std::move(doc));
    if (chunk.size() >= options.chunk) flush();
  }
  flush();
  progress.finish();
  if (builder.num_docs() == 0) throw DataError(corpus.string() + ": the corpus has no documents");
  return builder.build(corpus.string());
}

void write_sparse_index_dir(const fs::path& dir, const InvertedIndex& index,
                            const SparseIndexOptions& options, const fs::path& model_dir,
                            const fs::path& corpus) {
  fs::create_directories(dir);
  index.save(dir / kIndexFileName);
  json config = options.to_json();
  config["model"] = fs::absolute(model_dir).string();
  config["type"] = "impact";
  Manifest m = make_manifest("index", config);
  m.inputs.push_back(describe_file(corpus));
  for (const char* f : {"config.json", "model.safetensors", "idf.json"}) {
    if (fs::exists(model_dir / f)) m.inputs.push_back(describe_file(model_dir / f));
  }
  m.outputs.push_back(describe_file(dir / kIndexFileName, dir));
  const IndexStats& s = index.stats();
  m.stats = {{"num_docs", s.num_docs},
             {"num_terms", s.num_terms},
             {"num_postings", s.num_postings},
             {"avg_nonzeros", s.avg_doc_length}};
  write_manifest(dir, m);
}

SparseVector index_query(const InvertedIndex& index, const SparseEncoder& encoder,
                         std::string_view text) {
  const SparseVector q = encoder.query_weights(text);
  std::vector<std::pair<TermId, float>> pairs;
  for (const auto& e : q.entries()) {
    if (!(e.weight > 0.0f)) continue;
    const auto t = index.find_term(encoder.tokenizer().id_to_token(static_cast<std::int32_t>(e.term)));
    if (t) pairs.emplace_back(*t, e.weight);
  }
  return SparseVector::from_pairs(std::move(pairs));
}

void set_encoder_threads(int threads) {
  if (threads < 0) throw ConfigError("threads must be >= 0");
  torch::set_num_threads(threads > 0 ? threads
                                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

bool is_sparse_encoder_index(const InvertedIndex& index) {
  const json& m = index.metadata();
  return m.is_object() && m.value("kind", std::string()) == "sparse_encoder";
}

}  // namespace ksparse
