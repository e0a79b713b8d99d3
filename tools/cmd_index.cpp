#include "commands.h"

namespace ksparse::cli {

void add_index_commands(CLI::App& app) {
  app.add_subcommand("index", "Build inverted indexes")->require_subcommand(1);
}

void add_search_commands(CLI::App&) {}

}  // namespace ksparse::cli
