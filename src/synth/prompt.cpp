#include "ksparse/synth/prompt.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <unordered_set>
#include <utility>

#include "ksparse/core/config.h"
#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "ksparse/core/hash.h"
#include "ksparse/core/utf8.h"
#include "ksparse/synth/similarity.h"

namespace ksparse::synth {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxExamples = 8;  // Promptagator uses up to 8

bool contains(const std::string& s, const char* needle) { return s.find(needle) != s.npos; }

// `s` escaped for use between JSON quotes (the examples show the model well-formed JSON).
std::string json_string_body(const std::string& s) {
  const std::string quoted = nlohmann::json(s).dump();
  return quoted.substr(1, quoted.size() - 2);
}

// The first min(want, size) entries of `candidates` after a partial Fisher-Yates shuffle driven by
// std::mt19937_64(seed). Its output sequence is fixed by the standard (unlike the distributions),
// so the draw is the same on every platform; the reduction is our own for the same reason.
std::vector<std::size_t> draw_without_repeats(std::vector<std::size_t> candidates,
                                              std::size_t want, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  want = std::min(want, candidates.size());
  for (std::size_t k = 0; k < want; ++k) {
    const std::size_t j = k + static_cast<std::size_t>(rng() % (candidates.size() - k));
    std::swap(candidates[k], candidates[j]);
  }
  candidates.resize(want);
  return candidates;
}

// Whether a GBNF text has a line that starts with `root ::=` (blanks allowed around `root`).
bool defines_root_rule(const std::string& gbnf) {
  std::istringstream lines(gbnf);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string_view l = trim_ascii(line);
    if (l.rfind("root", 0) == 0 && trim_ascii(l.substr(4)).rfind("::=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

void PromptTemplate::validate() const {
  const std::string at = "prompt template '" + name + "'" +
                         (path.empty() ? std::string() : " (" + path.string() + ")");
  if (!contains(prompt, "{document}")) throw ConfigError(at + ": `prompt` needs {document}");
  if (num_examples > 0 && !contains(prompt, "{examples}")) {
    throw ConfigError(at + ": `prompt` needs {examples} when num_examples > 0");
  }
  if (num_examples > 0 && (!contains(example, "{passage}") || !contains(example, "{query}"))) {
    throw ConfigError(at + ": `example` needs {passage} and {query}");
  }
  if (num_examples > kMaxExamples) {
    throw ConfigError(at + ": num_examples must be at most 8, got " + std::to_string(num_examples));
  }
  if (num_examples > examples.size()) {
    throw ConfigError(at + ": num_examples is " + std::to_string(num_examples) + " but only " +
                      std::to_string(examples.size()) +
                      " [[examples]] are given; add default examples or lower num_examples");
  }
  if (queries_per_prompt == 0) throw ConfigError(at + ": queries_per_prompt must be >= 1");
  if (max_tokens < 1) throw ConfigError(at + ": max_tokens must be >= 1");
  for (const std::string& s : stop) {
    if (s.empty()) throw ConfigError(at + ": `stop` strings must not be empty");
  }
  if (!grammar.empty() && !defines_root_rule(grammar)) {
    throw ConfigError(at + ": `grammar` needs a rule `root ::= ...`");
  }
}

PromptTemplate parse_prompt_template(const std::string& text, const std::string& name) {
  const ConfigTable t = parse_config(text, name);
  t.expect_keys({"name", "style", "language", "output", "queries_per_prompt", "num_examples",
                 "max_tokens", "stop", "response_prefix", "grammar", "example", "example_separator",
                 "prompt", "examples"});
  PromptTemplate p;
  p.name = t.get<std::string>("name", fs::path(name).stem().string());
  p.style = t.get<std::string>("style", "");
  const std::string language = t.get<std::string>("language", "ko");
  try {
    p.language = parse_query_language(language);
  } catch (const ConfigError& e) {
    throw ConfigError(t.where("language") + ": " + e.what());
  }
  const std::string output = t.get<std::string>("output", "json");
  if (output == "json") {
    p.output = OutputFormat::kJson;
  } else if (output == "line") {
    p.output = OutputFormat::kLine;
  } else {
    throw ConfigError(t.where("output") + ": `output` must be \"json\" or \"line\"");
  }
  p.queries_per_prompt = t.get<std::uint64_t>("queries_per_prompt", 1);
  p.num_examples = t.get<std::uint64_t>("num_examples", 4);
  p.max_tokens = t.get<int>("max_tokens", 48);
  p.stop = t.get<std::vector<std::string>>("stop", {});
  p.response_prefix = t.get<std::string>("response_prefix", "");
  p.grammar = t.get<std::string>("grammar", "");
  p.example = t.get<std::string>("example", "");
  p.example_separator = t.get<std::string>("example_separator", "\n\n");
  p.prompt = t.require<std::string>("prompt");
  const nlohmann::json all = t.to_json();
  if (auto it = all.find("examples"); it != all.end()) {
    if (!it->is_array())
      throw ConfigError(t.where("examples") + ": `examples` must be [[examples]]");
    for (const auto& e : *it) {
      if (!e.is_object() || !e.contains("passage") || !e.contains("query") ||
          !e["passage"].is_string() || !e["query"].is_string()) {
        throw ConfigError(t.where("examples") +
                          ": each [[examples]] entry needs string `passage` and `query`");
      }
      p.examples.push_back({e["passage"].get<std::string>(), e["query"].get<std::string>(), ""});
    }
  }
  p.hash = sha256_hex(text);
  p.validate();
  return p;
}

PromptTemplate load_prompt_template(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError("cannot read prompt template " + path.string() +
                  " (the defaults are in configs/prompts/)");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  PromptTemplate p = parse_prompt_template(buf.str(), path.string());
  p.path = path;
  return p;
}

std::string fill_placeholders(const std::string& text,
                              const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      bool replaced = false;
      for (const auto& [key, value] : values) {
        if (text.compare(i + 1, key.size(), key) == 0 && i + 1 + key.size() < text.size() &&
            text[i + 1 + key.size()] == '}') {
          out += value;
          i += key.size() + 2;
          replaced = true;
          break;
        }
      }
      if (replaced) continue;
    }
    out += text[i++];
  }
  return out;
}

std::string truncate_chars(const std::string& text, std::size_t max_chars) {
  if (max_chars == 0) return text;
  std::size_t pos = 0, chars = 0;
  while (pos < text.size() && chars < max_chars) {
    utf8_next(text, pos);
    ++chars;
  }
  if (pos >= text.size()) return text;
  std::string cut = text.substr(0, pos);
  const std::size_t space = cut.find_last_of(" \n");
  if (space != cut.npos && space >= cut.size() * 4 / 5) cut.resize(space);
  return cut;
}

std::string document_prompt_text(const Document& doc) {
  if (doc.title.empty()) return doc.text;
  return doc.title + "\n" + doc.text;
}

PromptBuilder::PromptBuilder(PromptTemplate tmpl, std::vector<FewShotExample> pool,
                             PromptBuilderOptions options)
    : template_(std::move(tmpl)), pool_(std::move(pool)), options_(options) {
  template_.validate();
  options_.validate();
  Sha256 h;
  auto field = [&h](std::string_view s) {
    h.update(std::to_string(s.size()));
    h.update(":");
    h.update(s);
  };
  for (const FewShotExample& e : pool_) {
    field(e.doc_id);
    field(e.passage);
    field(e.query);
  }
  field(std::to_string(options_.max_doc_chars));
  field(std::to_string(options_.max_example_chars));
  field(std::to_string(options_.seed));
  if (options_.example_sets > 0) field("sets:" + std::to_string(options_.example_sets));
  fingerprint_ = h.hex_digest();
  // Fixed example sets, each drawn from the whole pool by its own seeded stream.
  std::vector<std::size_t> all(pool_.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  for (std::size_t set = 0; set < options_.example_sets && !pool_.empty(); ++set) {
    sets_.push_back(draw_without_repeats(all, template_.num_examples,
                                         mix64(options_.seed) ^ mix64(0x5e75e7ULL + set)));
  }
}

void PromptBuilderOptions::validate() const {
  if (example_sets > 1024) {
    throw ConfigError("example_sets must be at most 1024 (0 = a fresh draw per prompt), got " +
                      std::to_string(example_sets));
  }
}

std::vector<FewShotExample> PromptBuilder::draw_examples(const std::string& doc_id,
                                                         std::size_t item) const {
  const std::size_t want = template_.num_examples;
  if (pool_.empty()) {
    return {template_.examples.begin(), template_.examples.begin() + want};
  }
  // The chosen real examples, filled up with the template's own when there are too few.
  auto examples = [&](const std::vector<std::size_t>& chosen) {
    std::vector<FewShotExample> out;
    for (std::size_t i : chosen) out.push_back(pool_[i]);
    for (std::size_t i = 0; out.size() < want && i < template_.examples.size(); ++i) {
      out.push_back(template_.examples[i]);
    }
    return out;
  };
  const auto from_doc = [&](std::size_t i) {
    return !pool_[i].doc_id.empty() && pool_[i].doc_id == doc_id;
  };
  const std::uint64_t pick = stable_hash(doc_id, mix64(options_.seed) ^ mix64(item + 1));
  for (std::size_t k = 0; k < sets_.size(); ++k) {
    const auto& set = sets_[(pick % sets_.size() + k) % sets_.size()];
    if (std::none_of(set.begin(), set.end(), from_doc)) return examples(set);
  }
  std::vector<std::size_t> eligible;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    if (!from_doc(i)) eligible.push_back(i);
  }
  return examples(draw_without_repeats(std::move(eligible), want, pick));
}

std::string PromptBuilder::build(const Document& doc, std::size_t item) const {
  std::string examples;
  for (const FewShotExample& e : draw_examples(doc.id, item)) {
    if (!examples.empty()) examples += template_.example_separator;
    examples += fill_placeholders(
        template_.example,
        {{"passage", truncate_chars(e.passage, options_.max_example_chars)},
         {"query", template_.output == OutputFormat::kJson ? json_string_body(e.query) : e.query}});
  }
  std::vector<std::pair<std::string, std::string>> values = {
      {"examples", examples},
      {"document", truncate_chars(document_prompt_text(doc), options_.max_doc_chars)},
      {"n", std::to_string(template_.queries_per_prompt)}};
  // Rewrite templates (rewrite.h) also show the query the document belongs to.
  if (doc.metadata.is_object()) {
    if (auto it = doc.metadata.find("query"); it != doc.metadata.end() && it->is_string()) {
      values.emplace_back("query", it->get<std::string>());
    }
  }
  return fill_placeholders(template_.prompt, values) + template_.response_prefix;
}

std::vector<FewShotExample> few_shot_pool(
    const std::vector<Triple>& real,
    const std::function<const Document*(const std::string& id)>& corpus) {
  std::vector<FewShotExample> out;
  std::unordered_set<std::string> seen;
  for (const Triple& t : real) {
    const Document* doc = corpus(t.positive_id);
    if (doc == nullptr || !seen.insert(t.query).second) continue;
    out.push_back({document_prompt_text(*doc), t.query, t.positive_id});
  }
  return out;
}

namespace {

// [begin, end) of the first balanced {...} in `s` (strings and escapes respected); npos if none.
std::pair<std::size_t, std::size_t> first_object(const std::string& s) {
  const std::size_t begin = s.find('{');
  if (begin == s.npos) return {s.npos, s.npos};
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = begin; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}' && --depth == 0) {
      return {begin, i + 1};
    }
  }
  return {begin, s.npos};
}

}  // namespace

ParsedOutput parse_generation(const PromptTemplate& tmpl, const std::string& completion,
                              std::size_t n) {
  ParsedOutput out;
  if (tmpl.output == OutputFormat::kLine) {
    std::istringstream lines(completion);
    std::string line;
    while (std::getline(lines, line)) {
      std::string q(trim_ascii(line));
      if (q.empty()) continue;
      out.queries.push_back(std::move(q));
      break;
    }
    out.ok = !out.queries.empty();
    if (!out.ok) out.error = "empty output";
    return out;
  }
  const std::string text = tmpl.response_prefix + completion;
  const auto [begin, end] = first_object(text);
  if (begin == text.npos) {
    out.error = "no JSON object in the output";
    return out;
  }
  if (end == text.npos) {
    out.error = "unterminated JSON object in the output";
    return out;
  }
  const nlohmann::json j =
      nlohmann::json::parse(text.substr(begin, end - begin), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    out.error = "the JSON object in the output does not parse";
    return out;
  }
  std::vector<std::string> raw;
  if (auto it = j.find("queries"); it != j.end() && it->is_array()) {
    for (const auto& q : *it) {
      if (!q.is_string()) {
        out.error = "\"queries\" holds a non-string";
        return out;
      }
      raw.push_back(q.get<std::string>());
    }
  } else if (auto it2 = j.find("query"); it2 != j.end() && it2->is_string()) {
    raw.push_back(it2->get<std::string>());
  } else {
    out.error = "the JSON object has no string \"query\" or array \"queries\"";
    return out;
  }
  for (const std::string& q : raw) {
    std::string t(trim_ascii(q));
    if (!t.empty() && out.queries.size() < n) out.queries.push_back(std::move(t));
  }
  out.ok = !out.queries.empty();
  if (!out.ok) out.error = "the JSON object holds only empty queries";
  return out;
}

}  // namespace ksparse::synth
