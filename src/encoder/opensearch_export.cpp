// OpenSearch export: HF model folder, bulk JSONL with rank_features, mapping, neural_sparse query.
#include "ksparse/encoder/opensearch_export.h"

#include <fstream>
#include <vector>

#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/progress.h"
#include "ksparse/encoder/sparse_encoder.h"

namespace ksparse {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// OpenSearch rank_features cannot take feature names with '.', which it reads as object paths.
bool feature_name_ok(const std::string& token) {
  return !token.empty() && token.find('.') == std::string::npos;
}

json weights_object(const SparseEncoder& enc, const SparseVector& v, std::size_t& dropped) {
  json obj = json::object();
  for (const auto& [token, w] : enc.term_weights(v)) {
    if (!(w > 0.0f)) continue;
    if (!feature_name_ok(token)) {
      ++dropped;
      continue;
    }
    obj[token] = w;
  }
  return obj;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw IoError(path.string() + ": write failed");
}

}  // namespace

void OpenSearchExportOptions::validate() const {
  if (index_name.empty()) throw ConfigError("export: the OpenSearch index name is empty");
  if (!feature_name_ok(field)) {
    throw ConfigError("export: field `" + field + "` must be non-empty and contain no '.'");
  }
  index.validate();
}

json OpenSearchExportResult::to_json() const {
  return {{"documents", documents},
          {"features", features},
          {"dropped_dot_features", dropped_dot_features},
          {"example_query", example_query}};
}

OpenSearchExportResult export_opensearch(const fs::path& model_dir, const fs::path& corpus,
                                         const fs::path& out_dir,
                                         const OpenSearchExportOptions& options) {
  options.validate();
  const SparseEncoder enc = SparseEncoder::load(model_dir);
  fs::create_directories(out_dir);
  enc.save(out_dir / "model");
  OpenSearchExportResult result;
  result.example_query = options.example_query;
  // Bulk NDJSON: an action line then the document, for POST _bulk.
  JsonlWriter writer(out_dir / "bulk.jsonl");
  CorpusReader reader(corpus);
  std::vector<Document> chunk;
  Document doc;
  DocumentEncodeOptions eo = options.index.encode;
  eo.show_progress = false;
  ProgressOptions po;
  if (!options.show_progress) po.mode = ProgressOptions::Mode::kOff;
  Progress progress("exporting", 0, po);
  auto flush = [&] {
    if (chunk.empty()) return;
    std::vector<std::string> texts;
    for (const Document& d : chunk) texts.push_back(sparse_index_text(d, options.index.index_title));
    const auto vecs = enc.encode_documents(texts, eo);
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      writer.write(json{{"index", {{"_index", options.index_name}, {"_id", chunk[i].id}}}});
      json body = {{"title", chunk[i].title}, {"text", chunk[i].text}};
      body[options.field] = weights_object(enc, vecs[i], result.dropped_dot_features);
      result.features += body[options.field].size();
      writer.write(body);
    }
    result.documents += chunk.size();
    progress.advance(chunk.size());
    chunk.clear();
  };
  while (reader.next(doc)) {
    if (result.example_query.empty())
      result.example_query = doc.title.empty() ? doc.text.substr(0, 60) : doc.title;
    chunk.push_back(std::move(doc));
    if (chunk.size() >= options.index.chunk) flush();
  }
  flush();
  progress.finish();
  writer.close();

  const json mapping = {
      {"settings", {{"index", {{"number_of_shards", 1}, {"number_of_replicas", 0}}}}},
      {"mappings",
       {{"properties",
         {{"title", {{"type", "text"}}},
          {"text", {{"type", "text"}}},
          {options.field, {{"type", "rank_features"}}}}}}}};
  write_text(out_dir / "mapping.json", mapping.dump(2) + "\n");
  std::size_t q_dropped = 0;
  const json tokens = weights_object(enc, enc.query_weights(result.example_query), q_dropped);
  const json query = {
      {"_source", {{"excludes", json::array({options.field})}}},
      {"query", {{"neural_sparse", {{options.field, {{"query_tokens", tokens}}}}}}}};
  write_text(out_dir / "query_example.json", query.dump(2) + "\n");
  const std::string& name = options.index_name;
  write_text(
      out_dir / "README.md",
      "# OpenSearch export of " + fs::absolute(model_dir).string() + "\n\n```sh\n" +
          "curl -XPUT localhost:9200/" + name +
          " -H 'Content-Type: application/json' -d @mapping.json\n" +
          "curl -XPOST localhost:9200/_bulk -H 'Content-Type: application/x-ndjson' "
          "--data-binary @bulk.jsonl\n" +
          "curl -XPOST localhost:9200/" + name +
          "/_search -H 'Content-Type: application/json' -d @query_example.json\n```\n\n" +
          "`model/` is the Hugging Face folder (config.json, model.safetensors, tokenizer files, "
          "idf.json) for OpenSearch's sparse encoding / tokenizer model registration. "
          "query_example.json holds the query `" +
          result.example_query +
          "` as `query_tokens` (IDF weights in doc-only mode).\n"
          "Tokens containing '.' are left out of rank_features (OpenSearch reads dots as object "
          "paths): " +
          std::to_string(result.dropped_dot_features) + " document features dropped.\n");
  Manifest m = make_manifest("opensearch_export", {{"index_name", options.index_name},
                                                   {"field", options.field},
                                                   {"encode", options.index.to_json()},
                                                   {"model", fs::absolute(model_dir).string()}});
  m.inputs.push_back(describe_file(corpus));
  for (const char* f : {"bulk.jsonl", "mapping.json", "query_example.json"})
    m.outputs.push_back(describe_file(out_dir / f, out_dir));
  m.stats = result.to_json();
  write_manifest(out_dir, m);
  return result;
}

}  // namespace ksparse
