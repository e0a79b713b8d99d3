// Shared pieces of the LLM-backed synth subcommands (cmd_synth_llm.cpp, built only with
// KSPARSE_WITH_LLAMA): the llama.cpp backend options and the near-miss negative step that
// `ksparse synth negatives --llm-model` runs after BM25 mining.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ksparse/synth/filters.h"
#include "ksparse/synth/generate.h"
#include "ksparse/synth/prompt.h"

namespace ksparse::cli {

struct SynthLlmOptions {
  std::filesystem::path model;  // GGUF ("" = no LLM step)
  std::filesystem::path cache;  // "" = <out>/cache.sqlite
  std::vector<std::filesystem::path> templates;
  synth::QueryGenerationOptions gen;  // gen.model is filled from the file's hash
  synth::PromptBuilderOptions prompt;
  synth::FilterOptions filters;
  int parallel = 8;  // sequences decoded together
  int ctx_per_seq = 2048;
  int threads = 0;  // 0 = all
  int gpu_layers = 0;
};

// --model (when `with_model`), --templates, --cache, --per-doc, --limit, --seed, --batch,
// --parallel, --ctx-per-seq, --threads, --gpu-layers, --temperature, --top-p, --min-logprob.
void add_synth_llm_options(CLI::App* cmd, SynthLlmOptions& opt, const std::string& prefix,
                           bool with_model);

// Near-miss negatives: for each triple of `out_dir`/triples.jsonl (the BM25-mined output), the LLM
// writes passages on the positive's topic that do not answer the query; those that pass the
// passage funnel go to `out_dir`/near_miss_corpus.jsonl (ids "nm-<query id>-<item>") and are
// appended to the triple's negative_ids. Writes funnel_near_miss.json and
// rejections_near_miss.jsonl and rewrites triples.jsonl and manifest.json (kind
// "synth-negatives"). Returns the funnel JSON.
nlohmann::json run_llm_near_misses(const std::filesystem::path& corpus,
                                   const std::filesystem::path& out_dir, SynthLlmOptions opt,
                                   const nlohmann::json& bm25_stats);

}  // namespace ksparse::cli
