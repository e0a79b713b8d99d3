#include "commands.h"

namespace ksparse::cli {

void add_data_commands(CLI::App& app) {
  app.add_subcommand("data", "Convert datasets to BEIR layout (corpus.jsonl, queries.jsonl, qrels/)")
      ->require_subcommand(1);
}

}  // namespace ksparse::cli
