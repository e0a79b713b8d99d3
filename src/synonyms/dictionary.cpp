#include "ksparse/synonyms/dictionary.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>

#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/synonyms/terms.h"

namespace ksparse::synonyms {

namespace {

constexpr std::string_view kSourceNames[kSourceCount] = {"pattern", "transliteration", "embedding",
                                                         "seed", "llm", "discovery"};

}  // namespace

std::string_view source_name(Source s) { return kSourceNames[static_cast<std::size_t>(s)]; }

Source parse_source(std::string_view name) {
  for (std::size_t i = 0; i < kSourceCount; ++i) {
    if (kSourceNames[i] == name) return static_cast<Source>(i);
  }
  throw ConfigError("unknown synonym source '" + std::string(name) +
                    "' (expected pattern, transliteration, embedding, seed, llm or discovery)");
}

const std::vector<Source>& all_sources() {
  static const std::vector<Source> kAll = {Source::kPattern, Source::kTransliteration,
                                           Source::kEmbedding, Source::kSeed, Source::kLlm,
                                           Source::kDiscovery};
  return kAll;
}

double Entry::score() const {
  double best = 0.0;
  for (const Provenance& p : provenance) best = std::max(best, p.score);
  return best;
}

bool Entry::has_source(Source s) const { return find(s) != nullptr; }

const Provenance* Entry::find(Source s) const {
  for (const Provenance& p : provenance) {
    if (p.source == s) return &p;
  }
  return nullptr;
}

Entry& Dictionary::add(std::string_view ko, std::string_view en, Provenance p,
                       std::size_t max_evidence) {
  std::string k = normalize_ko(ko);
  std::string e = normalize_en(en);
  if (k.empty() || e.empty()) {
    throw DataError("synonym pair with an empty term: '" + std::string(ko) + "' / '" +
                    std::string(en) + "'");
  }
  auto [it, inserted] = entries_.try_emplace({k, e});
  Entry& entry = it->second;
  if (inserted) {
    entry.ko = std::move(k);
    entry.en = std::move(e);
  }
  if (p.evidence.size() > max_evidence) p.evidence.resize(max_evidence);
  for (Provenance& old : entry.provenance) {
    if (old.source != p.source) continue;
    old.count += p.count;
    old.score = std::max(old.score, p.score);
    if (!p.note.empty() && old.note.find(p.note) == std::string::npos) {
      old.note = old.note.empty() ? p.note : old.note + "; " + p.note;
    }
    for (Evidence& ev : p.evidence) {
      if (old.evidence.size() >= max_evidence) break;
      old.evidence.push_back(std::move(ev));
    }
    return entry;
  }
  entry.provenance.push_back(std::move(p));
  std::sort(entry.provenance.begin(), entry.provenance.end(),
            [](const Provenance& a, const Provenance& b) { return a.source < b.source; });
  return entry;
}

void Dictionary::merge(const Dictionary& other, std::size_t max_evidence) {
  for (const auto& [key, entry] : other.entries_) {
    for (const Provenance& p : entry.provenance) add(entry.ko, entry.en, p, max_evidence);
  }
}

bool Dictionary::remove(std::string_view ko, std::string_view en) {
  return entries_.erase({normalize_ko(ko), normalize_en(en)}) > 0;
}

const Entry* Dictionary::find(std::string_view ko, std::string_view en) const {
  auto it = entries_.find({normalize_ko(ko), normalize_en(en)});
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<const Entry*> Dictionary::by_ko(std::string_view ko) const {
  std::vector<const Entry*> out;
  const std::string k = normalize_ko(ko);
  for (auto it = entries_.lower_bound({k, std::string()});
       it != entries_.end() && it->first.first == k; ++it) {
    out.push_back(&it->second);
  }
  return out;
}

std::vector<const Entry*> Dictionary::entries() const {
  std::vector<const Entry*> out;
  out.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) out.push_back(&entry);
  return out;
}

std::size_t Dictionary::count_source(Source s) const {
  std::size_t n = 0;
  for (const auto& [key, entry] : entries_) n += entry.has_source(s) ? 1 : 0;
  return n;
}

std::size_t Dictionary::ko_terms() const {
  std::size_t n = 0;
  const std::string* prev = nullptr;
  for (const auto& [key, entry] : entries_) {
    if (prev == nullptr || *prev != key.first) ++n;
    prev = &key.first;
  }
  return n;
}

nlohmann::json Dictionary::to_json() const {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& [key, e] : entries_) {
    nlohmann::json sources = nlohmann::json::array();
    nlohmann::json prov = nlohmann::json::array();
    for (const Provenance& p : e.provenance) {
      sources.push_back(source_name(p.source));
      nlohmann::json ev = nlohmann::json::array();
      for (const Evidence& x : p.evidence) ev.push_back({{"doc_id", x.doc_id}, {"text", x.text}});
      nlohmann::json pj = {{"source", source_name(p.source)},
                           {"score", p.score},
                           {"count", p.count},
                           {"evidence", std::move(ev)}};
      if (!p.note.empty()) pj["note"] = p.note;
      prov.push_back(std::move(pj));
    }
    entries.push_back({{"ko", e.ko},
                       {"en", e.en},
                       {"score", e.score()},
                       {"sources", std::move(sources)},
                       {"provenance", std::move(prov)}});
  }
  return {{"format_version", kDictionaryFormatVersion}, {"entries", std::move(entries)}};
}

Dictionary Dictionary::from_json(const nlohmann::json& j, std::string_view origin) {
  const std::string where_s(origin);
  auto fail = [&](const std::string& what) -> DataError {
    return DataError(where_s + ": " + what + " (rewrite it with `ksparse synonyms build`)");
  };
  if (!j.is_object() || !j.contains("format_version") || !j["format_version"].is_number_integer())
    throw fail("not a synonym dictionary (no integer format_version)");
  const int version = j["format_version"].get<int>();
  if (version > kDictionaryFormatVersion || version < 1) {
    throw fail("format_version " + std::to_string(version) +
               " is not supported (this build reads " + std::to_string(kDictionaryFormatVersion) +
               ")");
  }
  if (!j.contains("entries") || !j["entries"].is_array()) throw fail("'entries' is not an array");
  Dictionary dict;
  std::size_t i = 0;
  for (const auto& e : j["entries"]) {
    const std::string at = "entries[" + std::to_string(i++) + "]";
    if (!e.is_object() || !e.contains("ko") || !e["ko"].is_string() || !e.contains("en") ||
        !e["en"].is_string() || !e.contains("provenance") || !e["provenance"].is_array()) {
      throw fail(at + " needs string 'ko', 'en' and array 'provenance'");
    }
    if (e["provenance"].empty()) throw fail(at + " has no provenance");
    for (const auto& pj : e["provenance"]) {
      if (!pj.is_object() || !pj.contains("source") || !pj["source"].is_string())
        throw fail(at + ": provenance needs a string 'source'");
      Provenance p;
      try {
        p.source = parse_source(pj["source"].get<std::string>());
      } catch (const ConfigError& err) {
        throw fail(at + ": " + err.what());
      }
      p.score = pj.value("score", 0.0);
      p.count = pj.value("count", std::uint64_t{0});
      p.note = pj.value("note", std::string());
      if (pj.contains("evidence")) {
        for (const auto& ev : pj["evidence"]) {
          p.evidence.push_back(
              {ev.value("doc_id", std::string()), ev.value("text", std::string())});
        }
      }
      dict.add(e["ko"].get<std::string>(), e["en"].get<std::string>(), std::move(p),
               std::numeric_limits<std::size_t>::max());
    }
  }
  return dict;
}

void save_dictionary(const std::filesystem::path& dir, const Dictionary& dict,
                     const nlohmann::json& config, const std::vector<std::filesystem::path>& inputs,
                     const std::vector<std::string>& other_outputs,
                     const nlohmann::json& extra_stats) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create directory " + dir.string() + ": " + ec.message());
  const auto file = dir / "synonyms.json";
  {
    std::ofstream out(file, std::ios::binary);
    if (!out) throw IoError("cannot write " + file.string());
    out << dict.to_json().dump(1) << '\n';
    out.close();
    if (!out) throw IoError("error writing " + file.string() + " (disk full?)");
  }
  Manifest m = make_manifest("synonyms", config.is_object() ? config : nlohmann::json::object());
  for (const auto& in : inputs) m.inputs.push_back(describe_file(in));
  m.outputs.push_back(describe_file(file, dir));
  for (const auto& name : other_outputs) m.outputs.push_back(describe_file(dir / name, dir));
  nlohmann::json stats = {{"entries", dict.size()}, {"ko_terms", dict.ko_terms()}};
  for (Source s : all_sources()) {
    stats["by_source"][std::string(source_name(s))] = dict.count_source(s);
  }
  if (extra_stats.is_object()) stats.update(extra_stats);
  m.stats = std::move(stats);
  write_manifest(dir, m);
}

Dictionary load_dictionary(const std::filesystem::path& dir) {
  read_manifest(dir, "synonyms");
  const auto file = dir / "synonyms.json";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError("cannot open " + file.string() + " (is --dict a synonyms directory?)");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(file.string() + ": not valid JSON: " + e.what());
  }
  return Dictionary::from_json(j, file.string());
}

std::vector<Group> group_by_english(const Dictionary& dict, double min_score) {
  std::map<std::string, std::vector<std::pair<double, std::string>>> by_en;
  for (const Entry* e : dict.entries()) {
    const double s = e->score();
    if (s < min_score) continue;
    by_en[e->en].push_back({s, e->ko});
  }
  std::vector<Group> groups;
  groups.reserve(by_en.size());
  for (auto& [en, kos] : by_en) {
    std::sort(kos.begin(), kos.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    Group g;
    g.en = en;
    g.score = kos.front().first;
    for (auto& [s, ko] : kos) g.ko.push_back(std::move(ko));
    groups.push_back(std::move(g));
  }
  return groups;
}

}  // namespace ksparse::synonyms
