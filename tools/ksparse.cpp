// ksparse: one CLI, many subcommands. Errors from the library surface here as
// `ksparse <cmd>: message` with a non-zero exit status.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/core/version.h"
#ifdef KSPARSE_HAVE_TORCH
#include "ksparse/encoder/torch_info.h"
#endif

namespace {

// "data korquad" for `ksparse data korquad ...`: the chain of subcommands that were given.
std::string command_path(const CLI::App& app) {
  std::string path;
  const CLI::App* cur = &app;
  while (true) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) break;
    cur = subs.front();
    if (!path.empty()) path += ' ';
    path += cur->get_name();
  }
  return path;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef KSPARSE_HAVE_TORCH
  // OpenBLAS and OpenMP read these only when they load: set them and restart once when Debian's
  // OpenBLAS would fall back to its SSE3 kernels on this CPU, or OpenMP threads would spin
  // (training 7-10x slower, measured; see bench/RESULTS.md). KSPARSE_NO_ENV_FIX=1 turns it off.
  // `ksparse llm ...` runs llama.cpp alone: no passive OpenMP wait (see torch_info.h).
  bool llm_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--log-level") {
      ++i;  // its value
      continue;
    }
    if (!a.empty() && a[0] == '-') continue;
    llm_only = a == "llm";
    break;
  }
  ksparse::apply_cpu_runtime_env(argv, /*passive_omp=*/!llm_only);
#endif
  CLI::App app{"ksparse: build Korean-English neural sparse search models end to end"};
  app.set_version_flag("--version", std::string(ksparse::version_string()));
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.parse_complete_callback([&] { spdlog::set_level(spdlog::level::from_str(log_level)); });
  app.require_subcommand(1);

  ksparse::cli::add_data_commands(app);
  ksparse::cli::add_index_commands(app);
  ksparse::cli::add_search_commands(app);
  ksparse::cli::add_eval_commands(app);
  ksparse::cli::add_fuse_commands(app);
  ksparse::cli::add_synth_commands(app);
  ksparse::cli::add_synonyms_commands(app);
  ksparse::cli::add_trends_commands(app);
  ksparse::cli::add_run_commands(app);
#ifdef KSPARSE_HAVE_LLAMA
  ksparse::cli::add_llm_commands(app);
  ksparse::cli::add_synth_queries_command(app);
  ksparse::cli::add_synth_llm_commands(app);
#endif
#ifdef KSPARSE_HAVE_TORCH
  ksparse::cli::add_torch_commands(app);
  ksparse::cli::add_train_commands(app);
#endif

  spdlog::set_default_logger(spdlog::stderr_color_mt("ksparse"));
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ksparse %s: %s\n", command_path(app).c_str(), e.what());
    return 1;
  }
  return 0;
}
