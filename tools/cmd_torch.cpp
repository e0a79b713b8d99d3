#include "commands.h"

namespace ksparse::cli {

void add_torch_commands(CLI::App&) {}

}  // namespace ksparse::cli
