#include "ksparse/synth/triples.h"

#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/io.h"

namespace ksparse::synth {
namespace fs = std::filesystem;
using nlohmann::json;

const char* triple_source_name(TripleSource source) {
  return source == TripleSource::kReal ? "real" : "synthetic";
}

json Provenance::to_json() const {
  json j = extra.is_object() ? extra : json::object();
  j["model"] = model;
  j["template"] = template_name;
  j["template_hash"] = template_hash;
  j["logprob"] = logprob ? json(*logprob) : json(nullptr);
  j["style"] = style;
  j["filters"] = filters;
  return j;
}

json Triple::to_json() const {
  json j = {{"query", query},
            {"query_id", query_id},
            {"positive_id", positive_id},
            {"negative_ids", negative_ids},
            {"source", triple_source_name(source)}};
  if (provenance) j["provenance"] = provenance->to_json();
  return j;
}

namespace {

std::string required_string(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw DataError(where + ": missing field \"" + key + "\"");
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw DataError(where + ": field \"" + key + "\" must be a non-empty string");
  }
  return it->get<std::string>();
}

std::string optional_string(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string()) throw DataError(where + ": field \"" + key + "\" must be a string");
  return it->get<std::string>();
}

Provenance provenance_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw DataError(where + ": \"provenance\" must be an object");
  Provenance p;
  p.model = optional_string(j, "model", where);
  p.template_name = optional_string(j, "template", where);
  p.template_hash = optional_string(j, "template_hash", where);
  p.style = optional_string(j, "style", where);
  if (auto it = j.find("logprob"); it != j.end() && !it->is_null()) {
    if (!it->is_number()) throw DataError(where + ": provenance \"logprob\" must be a number");
    p.logprob = it->get<double>();
  }
  if (auto it = j.find("filters"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) throw DataError(where + ": provenance \"filters\" must be an object");
    for (const auto& [name, verdict] : it->items()) {
      if (!verdict.is_string()) {
        throw DataError(where + ": provenance filter verdict \"" + name + "\" must be a string");
      }
      p.filters[name] = verdict.get<std::string>();
    }
  }
  json extra = json::object();
  for (const auto& [key, value] : j.items()) {
    if (key != "model" && key != "template" && key != "template_hash" && key != "style" &&
        key != "logprob" && key != "filters") {
      extra[key] = value;
    }
  }
  if (!extra.empty()) p.extra = std::move(extra);
  return p;
}

}  // namespace

Triple triple_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw DataError(where + ": expected a JSON object");
  Triple t;
  t.query = required_string(j, "query", where);
  t.query_id = required_string(j, "query_id", where);
  t.positive_id = required_string(j, "positive_id", where);
  if (auto it = j.find("negative_ids"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw DataError(where + ": \"negative_ids\" must be an array of ids");
    for (const auto& id : *it) {
      if (!id.is_string() || id.get_ref<const std::string&>().empty()) {
        throw DataError(where + ": \"negative_ids\" must hold non-empty strings");
      }
      t.negative_ids.push_back(id.get<std::string>());
    }
  }
  const std::string source = required_string(j, "source", where);
  if (source == "real") {
    t.source = TripleSource::kReal;
  } else if (source == "synthetic") {
    t.source = TripleSource::kSynthetic;
  } else {
    throw DataError(where + ": \"source\" must be \"real\" or \"synthetic\", got \"" + source +
                    "\"");
  }
  if (auto it = j.find("provenance"); it != j.end() && !it->is_null()) {
    t.provenance = provenance_from_json(*it, where);
  }
  return t;
}

struct TriplesReader::Impl {
  explicit Impl(fs::path path) : lines(std::move(path)) {}
  LineReader lines;
  std::string line;
};

TriplesReader::TriplesReader(fs::path path) : impl_(std::make_unique<Impl>(std::move(path))) {}
TriplesReader::~TriplesReader() = default;

std::size_t TriplesReader::line_no() const { return impl_->lines.line_no(); }

bool TriplesReader::next(Triple& triple) {
  while (impl_->lines.next(impl_->line)) {
    if (impl_->line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string at = ksparse::where(impl_->lines.path(), impl_->lines.line_no());
    json j = json::parse(impl_->line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw DataError(at + ": not valid JSON (one triple object per line)");
    triple = triple_from_json(j, at);
    return true;
  }
  return false;
}

std::vector<Triple> read_triples(const fs::path& path) {
  TriplesReader reader(path);
  std::vector<Triple> out;
  Triple t;
  while (reader.next(t)) out.push_back(std::move(t));
  return out;
}

void write_triples(const fs::path& path, const std::vector<Triple>& triples) {
  JsonlWriter writer(path);
  for (const Triple& t : triples) writer.write(t.to_json());
  writer.close();
}

}  // namespace ksparse::synth
