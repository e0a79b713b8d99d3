// The runner of `ksparse run`: orders stages, decides which are up to date (stage.h), runs the
// rest with atomic artifact commits, and manages shared resources (the LLM) so they are freed
// before later stages (training) start.
//
//   Pipeline p;
//   p.add_resource("llm", make_llm);
//   p.add_stage(data_stage()); p.add_stage(bm25_stage()); ...
//   RunOptions o; o.out_dir = "out/demo";
//   RunSummary s = p.run(load_config("configs/demo.toml"), o);
//
// Not thread-safe; one run() at a time per output directory (a lock file OUT/.lock guards it:
// a second concurrent run fails with IoError; a stale lock left by a killed process is taken over).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ksparse/core/config.h"
#include "ksparse/pipeline/stage.h"

namespace ksparse::pipeline {

inline constexpr const char* kStageManifestPrefix = "stage:";

struct RunOptions {
  std::filesystem::path out_dir;  // required; created when missing
  std::string from;               // "" = none; else rerun this stage and every later one
  std::string only;               // "" = all; else run just this stage (deps must be finished)
  bool force = false;             // rerun the selected stages even when up to date
  // Stages to run, in order; empty = all registered stages except those the config disables
  // (`[<stage>] enabled = false`). Unknown names are a ConfigError.
  std::vector<std::string> stages;
  void validate() const;
};

struct StageOutcome {
  std::string name;
  std::string status;  // "ran" | "skipped" (up to date) | "disabled"
  std::string key;
  double seconds = 0.0;  // wall time of run() + commit; 0 when skipped
  std::filesystem::path dir;
};

struct RunSummary {
  std::vector<StageOutcome> stages;  // in run order
  double seconds = 0.0;
  // Resource events: {name, event: "load"|"unload", seconds, rss_before_mib, rss_after_mib, ...}
  nlohmann::json resources = nlohmann::json::array();
  std::size_t ran() const;
  nlohmann::json to_json() const;
};

class Pipeline {
 public:
  // Registers a stage; its deps must already be registered (so registration order is a valid run
  // order). ConfigError on a duplicate name or an unknown dep.
  void add_stage(StageSpec spec);
  void add_resource(std::string name, ResourceFactory factory);
  const std::vector<StageSpec>& stages() const { return stages_; }

  // Runs (see stage.h for the caching rules). Config: each stage reads `[<name>]`; the top-level
  // keys allowed besides stage sections are `out` and the names of `top_level_keys`; anything
  // else is a ConfigError naming file:line. Throws what a stage throws, after discarding its
  // staging dir; finished stages stay committed.
  RunSummary run(const ConfigTable& config, const RunOptions& options) const;

  // Top-level (non-stage) keys the config may hold, e.g. "out", "llm", "seed".
  std::vector<std::string> top_level_keys = {"out"};

 private:
  std::vector<StageSpec> stages_;
  std::map<std::string, ResourceFactory> resources_;
};

// The finished artifact of `stage` under `out_dir` with its manifest, or nullopt.
std::optional<nlohmann::json> read_stage_manifest(const std::filesystem::path& out_dir,
                                                  const std::string& stage);

// Peak resident set size of this process since the last reset_peak_rss(), in bytes (VmHWM from
// /proc/self/status; 0 when unavailable), and the current RSS.
std::uint64_t peak_rss_bytes();
std::uint64_t current_rss_bytes();
// Resets the kernel's peak-RSS counter (writes "5" to /proc/self/clear_refs); false when that is
// not permitted, in which case peak_rss_bytes() is the process-lifetime peak.
bool reset_peak_rss();

}  // namespace ksparse::pipeline
