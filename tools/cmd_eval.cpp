#include "commands.h"

namespace ksparse::cli {

void add_eval_commands(CLI::App&) {}

}  // namespace ksparse::cli
