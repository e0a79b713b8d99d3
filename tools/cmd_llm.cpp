#include "commands.h"

namespace ksparse::cli {

void add_llm_commands(CLI::App& app) {
  app.add_subcommand("llm", "Local LLM runtime (llama.cpp)")->require_subcommand(1);
}

}  // namespace ksparse::cli
