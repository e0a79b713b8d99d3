// `ksparse fuse`: score fusion of TREC runs (RRF or min-max normalised linear combination).
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/eval/fusion.h"

namespace ksparse::cli {
namespace {

struct FuseCommandOptions {
  std::vector<std::filesystem::path> runs;
  std::filesystem::path out;
  std::string method = "rrf";
  std::vector<double> weights;  // one per run; a single value w with two runs means (w, 1 - w)
  FusionOptions fusion;
  std::string tag = "fused";
};

void run_fuse(FuseCommandOptions opt) {
  opt.fusion.method = parse_fusion_method(opt.method);
  if (opt.weights.size() == 1 && opt.runs.size() == 2) {
    const double w = opt.weights[0];
    if (!(w >= 0.0 && w <= 1.0)) throw ConfigError("fuse: --weight with two runs must be in [0, 1]");
    opt.fusion.weights = {w, 1.0 - w};
  } else {
    opt.fusion.weights = opt.weights;
  }
  opt.fusion.validate(opt.runs.size());
  std::vector<Run> runs;
  for (const auto& p : opt.runs) runs.push_back(read_trec_run(p));
  const Run fused = fuse_runs(runs, opt.fusion);
  write_trec_run(opt.out, fused, opt.tag);
  spdlog::info("fused {} runs ({}) over {} queries into {}", runs.size(),
               fusion_method_name(opt.fusion.method), fused.size(), opt.out.string());
}

}  // namespace

void add_fuse_commands(CLI::App& app) {
  auto opt = std::make_shared<FuseCommandOptions>();
  auto* cmd = app.add_subcommand("fuse", "Fuse TREC runs (hybrid BM25 + sparse): RRF or linear");
  cmd->add_option("--run", opt->runs, "TREC run (repeat: --run A --run B)")->required();
  cmd->add_option("--out", opt->out, "fused TREC run to write")->required();
  cmd->add_option("--method", opt->method,
                  "rrf: sum w/(rrf-k + rank); linear: sum w * min-max normalised score")
      ->capture_default_str()
      ->check(CLI::IsMember({"rrf", "linear"}));
  cmd->add_option("--weight", opt->weights,
                  "one weight per run; with two runs a single w means w for A and 1-w for B "
                  "(default: equal)");
  cmd->add_option("--rrf-k", opt->fusion.rrf_k, "RRF rank offset")->capture_default_str();
  cmd->add_option("--depth", opt->fusion.depth, "documents taken from each run; 0 = all")
      ->capture_default_str();
  cmd->add_option("--k", opt->fusion.k, "documents kept per query")->capture_default_str();
  cmd->add_option("--tag", opt->tag, "run tag")->capture_default_str();
  cmd->callback([opt] { run_fuse(*opt); });
}

}  // namespace ksparse::cli
