// Prompt templates for document -> query generation, few-shot prompt building, and parsing of the
// model's output.
//
// A template is a TOML file (configs/prompts/*.toml):
//
//   name = "ko_keyword"           # defaults to the file stem
//   style = "keyword"             # free-form label carried into provenance and reports
//   language = "ko"               # "ko" | "en" | "mixed": what the script filter expects
//   output = "json"               # "json" | "line" (see parse_generation)
//   queries_per_prompt = 1        # {n}: queries one generation is asked for (>= 1)
//   num_examples = 4              # few-shot examples per prompt (0..8)
//   max_tokens = 48               # generation budget per request
//   stop = ["\n"]
//   response_prefix = '{"query": "'   # appended to the prompt; the output parsed is
//                                     # response_prefix + completion
//   grammar = '''root ::= ...'''  # optional GBNF (rule "root") the completion must follow, e.g.
//                                 # the rest of the JSON object after response_prefix
//   example = '문서: {passage}\n{"query": "{query}"}'   # one rendered few-shot example
//   example_separator = "\n\n"
//   prompt = '''...{examples}...{document}...'''         # placeholders {examples} {document} {n}
//   [[examples]]                  # default few-shot examples (used when no real ones are given)
//   passage = "..."
//   query = "..."
//
// {query} in `prompt` is filled from the document's metadata["query"] when that is a string (the
// rewrite templates of rewrite.h: pseudo-documents, near-miss negatives).
// Placeholders are replaced in one pass, so a document that contains "{n}" is left alone. The
// template hash is the SHA-256 of the file's bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ksparse/core/io.h"
#include "ksparse/synth/filters.h"
#include "ksparse/synth/triples.h"

namespace ksparse::synth {

struct FewShotExample {
  std::string passage;
  std::string query;
  std::string doc_id;  // source document ("" for the template's own examples)
};

enum class OutputFormat { kJson, kLine };

struct PromptTemplate {
  std::string name;
  std::string style;
  QueryLanguage language = QueryLanguage::kKorean;
  OutputFormat output = OutputFormat::kJson;
  std::size_t queries_per_prompt = 1;
  std::size_t num_examples = 4;
  int max_tokens = 48;
  std::vector<std::string> stop;
  std::string response_prefix;
  // GBNF with a "root" rule that constrains the completion ("" = unconstrained). It decides
  // nothing by itself: a completion that runs out of max_tokens still fails the structure filter.
  std::string grammar;
  std::string example;
  std::string example_separator = "\n\n";
  std::string prompt;
  std::vector<FewShotExample> examples;
  std::string hash;            // sha256 hex of the source text
  std::filesystem::path path;  // the file ("" when parsed from text)

  // ConfigError naming the template when a placeholder is missing ({document} in prompt,
  // {examples} when num_examples > 0, {passage} and {query} in example), num_examples > 8 or
  // larger than the default examples available, queries_per_prompt == 0, max_tokens < 1, or a
  // grammar without a "root ::=" rule (llama.cpp parses the rest when generation starts).
  void validate() const;
};

// Loads and validates a template file. IoError when unreadable; ConfigError "file:line:col" for
// bad or unknown keys.
PromptTemplate load_prompt_template(const std::filesystem::path& path);
// The same from text (tests); `name` is the default name and the source used in messages.
PromptTemplate parse_prompt_template(const std::string& text, const std::string& name);

// Replaces {key} for each (key, value) in one left-to-right pass; other braces are kept.
std::string fill_placeholders(const std::string& text,
                              const std::vector<std::pair<std::string, std::string>>& values);

// At most `max_chars` code points of `text` (0 = no limit); cut at the last space in the final
// fifth when there is one, so words stay whole.
std::string truncate_chars(const std::string& text, std::size_t max_chars);

// The text a model sees for a document: "title\ntext", or the text alone when there is no title.
std::string document_prompt_text(const Document& doc);

struct PromptBuilderOptions {
  std::size_t max_doc_chars = 1200;     // document truncated to this many code points (0 = all)
  std::size_t max_example_chars = 400;  // each example passage likewise
  std::uint64_t seed = 0;               // which examples are drawn for which (doc, item)
  // With real examples: 0 draws a fresh set of examples for every prompt; N > 0 draws N fixed
  // sets once (InPars and Promptagator also use fixed few-shot examples) and gives each prompt
  // one of them. Prompts with the same set share their whole few-shot prefix, which the llama
  // backend decodes once (prefix reuse) instead of once per prompt: about 60% of the prompt.
  std::size_t example_sets = 4;
  void validate() const;
};

// Builds prompts from a template and a pool of few-shot examples. With real examples, each prompt
// gets num_examples of them, without repeats, never from the document being prompted: one of
// `example_sets` fixed sets (the next set when the chosen one holds the document), or a fresh draw
// when example_sets is 0 (or every set holds the document). Choices depend only on (seed, doc id,
// item): the same prompt every run, however the work is batched. Without real examples the
// template's own examples are used, in order. Immutable after construction; thread-safe.
class PromptBuilder {
 public:
  PromptBuilder(PromptTemplate tmpl, std::vector<FewShotExample> pool,
                PromptBuilderOptions options = {});
  // The full prompt (response_prefix included) for generation `item` of `doc`.
  std::string build(const Document& doc, std::size_t item) const;
  // The examples build() uses for (doc, item).
  std::vector<FewShotExample> draw_examples(const std::string& doc_id, std::size_t item) const;
  // SHA-256 over the pool and the options: part of the generation cache key, so changing the
  // examples never reuses stale generations.
  const std::string& fingerprint() const { return fingerprint_; }
  const PromptTemplate& prompt_template() const { return template_; }

 private:
  PromptTemplate template_;
  std::vector<FewShotExample> pool_;
  PromptBuilderOptions options_;
  std::vector<std::vector<std::size_t>> sets_;  // indices into pool_, see example_sets
  std::string fingerprint_;
};

// Few-shot pool from real triples: (positive passage, query) for each triple whose positive is in
// `corpus`, in file order, one example per distinct query text.
std::vector<FewShotExample> few_shot_pool(
    const std::vector<Triple>& real,
    const std::function<const Document*(const std::string& id)>& corpus);

// The queries found in one model output.
struct ParsedOutput {
  bool ok = false;
  std::string error;                 // why not (when !ok)
  std::vector<std::string> queries;  // trimmed, non-empty; at most `n`
};

// kJson: the first balanced JSON object in response_prefix + completion must parse and hold
// "query" (a string) or "queries" (an array of strings); anything after the object is ignored.
// kLine: the first non-empty line of the completion. Never throws.
ParsedOutput parse_generation(const PromptTemplate& tmpl, const std::string& completion,
                              std::size_t n);

}  // namespace ksparse::synth
