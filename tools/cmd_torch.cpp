// `ksparse encoder ...`: the encoder module (libtorch runtime, tokenizer).
#include <iostream>
#include <memory>

#include "commands.h"
#include "ksparse/encoder/torch_info.h"

namespace ksparse::cli {

void add_torch_commands(CLI::App& app) {
  auto* encoder =
      app.add_subcommand("encoder", "Encoder: libtorch runtime and WordPiece tokenizer");
  encoder->require_subcommand(1);

  auto* info = encoder->add_subcommand(
      "info", "Print the libtorch version, threads, BLAS in use and CUDA availability");
  // Flags outlive this function: CLI11 writes them during parse, after registration returns.
  auto full = std::make_shared<bool>(false);
  info->add_flag("--build-config", *full, "Also print libtorch's full build configuration");
  info->callback([full] {
    TorchInfo t = torch_info();
    std::cout << format_torch_info(t);
    if (*full) std::cout << '\n' << t.build_config;
  });
}

}  // namespace ksparse::cli
