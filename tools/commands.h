// Subcommand registration for the single `ksparse` CLI. Each tools/cmd_<name>.cpp parses its flags
// into an options struct and calls the library; it never catches ksparse::Error (main does).
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "ksparse/index/inverted_index.h"
#include "ksparse/index/sparse_vector.h"

namespace ksparse::cli {

void add_data_commands(CLI::App& app);    // ksparse data korquad|csv
void add_index_commands(CLI::App& app);   // ksparse index build
void add_search_commands(CLI::App& app);  // ksparse search
void add_eval_commands(CLI::App& app);    // ksparse eval
void add_fuse_commands(CLI::App& app);    // ksparse fuse
void add_synth_commands(CLI::App& app);   // ksparse synth negatives|merge|report
void add_synonyms_commands(CLI::App& app);  // ksparse synonyms build|eval|validate|split
void add_trends_commands(CLI::App& app);    // ksparse trends
void add_run_commands(CLI::App& app);       // ksparse run (the workflow)
#ifdef KSPARSE_HAVE_LLAMA
void add_llm_commands(CLI::App& app);     // ksparse llm info|generate|bench
void add_synth_queries_command(CLI::App& app);  // ksparse synth queries (after add_synth_commands)
void add_synth_llm_commands(CLI::App& app);  // ksparse synth docs|augment (after add_synth_commands)
#endif
#ifdef KSPARSE_HAVE_TORCH
void add_torch_commands(CLI::App& app);   // ksparse encoder info|tokenize|train-vocab
void add_train_commands(CLI::App& app);   // ksparse train|encode|export
// `search --model`: query vectors of a sparse encoder model over an index from `ksparse encode`.
std::vector<SparseVector> model_query_vectors(const InvertedIndex& index,
                                              const std::filesystem::path& model_dir,
                                              const std::vector<std::string>& texts);
#endif

}  // namespace ksparse::cli
