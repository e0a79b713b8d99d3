// `ksparse run CONFIG.toml`: the whole workflow (pipeline module) with cached stages.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "commands.h"
#include "ksparse/core/config.h"
#include "ksparse/core/error.h"
#include "ksparse/pipeline/runner.h"
#include "ksparse/pipeline/stages.h"

namespace ksparse::cli {
namespace {

struct RunCommandOptions {
  std::filesystem::path config;
  std::filesystem::path out;  // "" = the config's `out`
  pipeline::RunOptions run;
  bool json = false;
};

void run_pipeline(RunCommandOptions opt) {
  const ConfigTable cfg = load_config(opt.config);
  pipeline::Pipeline p;
  pipeline::register_workflow(p);
  opt.run.out_dir = opt.out;
  if (opt.run.out_dir.empty()) {
    if (!cfg.contains("out")) {
      throw ConfigError(cfg.where() +
                        ": no output directory: set `out = \"...\"` in the config "
                        "or pass --out DIR");
    }
    opt.run.out_dir = cfg.get<std::filesystem::path>("out", {});
  }
  const pipeline::RunSummary s = p.run(cfg, opt.run);
  if (opt.json) {
    std::printf("%s\n", s.to_json().dump(2).c_str());
    return;
  }
  std::printf("%-12s %-9s %9s  %s\n", "stage", "status", "seconds", "artifact");
  for (const auto& st : s.stages) {
    std::printf("%-12s %-9s %9.1f  %s\n", st.name.c_str(), st.status.c_str(), st.seconds,
                st.status == "disabled" ? "-" : st.dir.string().c_str());
  }
  std::printf("%zu stage(s) ran, %.1f s; report: %s\n", s.ran(), s.seconds,
              (opt.run.out_dir / "report" / "report.html").string().c_str());
}

}  // namespace

void add_run_commands(CLI::App& app) {
  auto opt = std::make_shared<RunCommandOptions>();
  auto* cmd = app.add_subcommand(
      "run", "Run the workflow of a config file (cached stages; reruns only what changed)");
  cmd->add_option("config", opt->config, "Pipeline config (TOML), e.g. configs/demo.toml")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", opt->out, "Output directory (default: the config's `out`)");
  cmd->add_option("--from", opt->run.from, "Rerun this stage and every later one");
  cmd->add_option("--only", opt->run.only,
                  "Run only this stage (its inputs must have finished before)");
  cmd->add_flag("--force", opt->run.force, "Rerun the selected stages even when up to date");
  cmd->add_flag("--json", opt->json, "Print the run summary as JSON");
  // The stages of this build, in run order, with what each does.
  pipeline::Pipeline p;
  pipeline::register_workflow(p);
  std::string footer = "Stages (config section = stage name; shared tables: [llm], [train], [sparse]):";
  for (const auto& s : p.stages()) {
    footer += "\n  " + s.name + std::string(s.name.size() < 12 ? 12 - s.name.size() : 1, ' ') +
              s.description;
  }
  cmd->footer(footer);
  cmd->callback([opt] { run_pipeline(*opt); });
}

}  // namespace ksparse::cli
