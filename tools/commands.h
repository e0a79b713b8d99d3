// Subcommand registration for the single `ksparse` CLI. Each tools/cmd_<name>.cpp parses its flags
// into an options struct and calls the library; it never catches ksparse::Error (main does).
#pragma once

#include <CLI/CLI.hpp>

namespace ksparse::cli {

void add_data_commands(CLI::App& app);    // ksparse data korquad|csv
void add_index_commands(CLI::App& app);   // ksparse index build
void add_search_commands(CLI::App& app);  // ksparse search
void add_eval_commands(CLI::App& app);    // ksparse eval
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
#endif

}  // namespace ksparse::cli
