// The stage contract of `ksparse run`: how a workflow step declares what it needs and what it
// writes, so that the runner can cache, skip, resume and report it.
//
// A stage is a named step (`data`, `bm25`, `synth`, `train`, ...) with
//   - a config section: the TOML table `[<name>]` of the run config (plan() resolves it: defaults
//     applied, validated, relative paths made absolute) -> the resolved config JSON;
//   - declared inputs: the artifacts of other stages (`deps`, by stage name) and external files
//     (plan()'s `files`, e.g. the KorQuAD JSON or the GGUF), hashed by content;
//   - resources it borrows from the runner (the LLM), loaded on first use and released by the
//     runner after the last stage that needs them, so GPU/CPU memory is free before training;
//   - run(): reads its inputs, writes its outputs into StageContext::out_dir.
//
// Artifact layout under the run's output directory OUT:
//   OUT/<stage>/               the finished artifact; OUT/<stage>/manifest.json (core/manifest.h,
//                              kind "stage:<name>") is written last, then the whole directory is
//                              renamed into place (atomic: a stage dir either is complete or
//                              absent)
//   OUT/.work/<stage>/         the stage's stable work dir: internal checkpoints and caches (e.g.
//                              the synth generation cache) that survive a crash or kill -9, so a
//                              killed stage resumes mid-way; kept after success
//   OUT/.tmp/<stage>-<pid>/    staging dir while the stage runs (out_dir)
//   OUT/run.json               log of the last invocation (per stage: ran/skipped, seconds)
//
// Up-to-date check: a stage's key is sha256 over (stage name, stage version, ksparse version, its
// resolved config, the keys of its deps, the sha256 of its input files). A stage is skipped when
// OUT/<stage>/manifest.json holds the same key. Because keys chain through deps, changing one
// section reruns that stage and exactly the stages that depend on it (transitively). The git
// commit is recorded in manifests but not hashed, so rebuilding the binary does not invalidate
// finished work; bump StageSpec::version when a stage's output format or semantics change.
//
// The manifest's stats carry {key, stage stats (StageContext::stats), timings {started, seconds},
// memory {rss_start_mib, rss_end_mib, peak_rss_mib}, and "devices" when a stage reports GPU
// memory}.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ksparse/core/config.h"

namespace ksparse::pipeline {

// What plan() returns: the stage's resolved config and the external files it reads.
struct StagePlan {
  nlohmann::json config = nlohmann::json::object();  // resolved, hashed into the key
  std::vector<std::filesystem::path> files;          // external inputs (absolute), hashed
};

// A lazily created resource shared by stages (the LLM backend). The runner creates it on first
// acquire() and destroys it after the last stage in run order that lists it in `resources`.
class Resource {
 public:
  virtual ~Resource() = default;
  // Memory the resource holds per device, e.g. {"CPU": {"bytes": ...}, "CUDA0": {...}}; recorded
  // in the manifest of every stage that used it. Empty object when unknown.
  virtual nlohmann::json memory() const { return nlohmann::json::object(); }
};

class StageContext;

struct StageSpec {
  std::string name;         // also the config section and the artifact dir name
  std::string description;  // one line for --help / the report
  // Stages whose artifacts this one reads (registered earlier). A dep disabled in the config
  // (`enabled = false`) is absent from StageContext::has_input and enters the key as "disabled".
  std::vector<std::string> deps;
  std::vector<std::string> resources;  // resource names borrowed while running ("llm")
  int version = 1;                     // bump when outputs change meaning (invalidates caches)
  // Resolves the section (ConfigError with file:line for bad values). Called for every selected
  // stage before anything runs, so config errors surface at once. `root` is the whole config (for
  // shared top-level settings); `section` is root.table(name).
  std::function<StagePlan(const ConfigTable& section, const ConfigTable& root)> plan;
  // Does the work: reads ctx.input(dep) dirs, writes into ctx.out_dir(), may keep resumable state
  // in ctx.work_dir(). Throws ksparse::Error on failure (the staging dir is then discarded; the
  // work dir is kept for the next attempt).
  std::function<void(StageContext& ctx)> run;
};

// Factory of a resource, by name.
using ResourceFactory = std::function<std::unique_ptr<Resource>(const ConfigTable& root)>;

class StageContext {
 public:
  StageContext(const StageSpec& spec, StagePlan plan, ConfigTable section, ConfigTable root,
               std::filesystem::path out_dir, std::filesystem::path work_dir,
               std::map<std::string, std::filesystem::path> inputs,
               std::function<Resource&(const std::string&)> acquire);

  const StageSpec& spec() const { return *spec_; }
  const StagePlan& plan() const { return plan_; }
  const nlohmann::json& config() const { return plan_.config; }  // resolved section
  const ConfigTable& section() const { return section_; }
  const ConfigTable& root() const { return root_; }
  const std::filesystem::path& out_dir() const { return out_dir_; }    // staging, empty at start
  const std::filesystem::path& work_dir() const { return work_dir_; }  // stable across attempts
  // Finished artifact dir of dependency `stage`. ConfigError when it is not in spec().deps or
  // when that stage is disabled in the config (check has_input() for optional inputs).
  const std::filesystem::path& input(const std::string& stage) const;
  bool has_input(const std::string& stage) const;
  // The resource `name` (must be listed in spec().resources); created on first use.
  Resource& resource(const std::string& name);
  // Resources this stage acquired so far (their memory goes into the manifest).
  const std::vector<std::string>& used_resources() const { return used_; }

  // Stage statistics, stored in the manifest's stats.stage and read by the report.
  nlohmann::json stats = nlohmann::json::object();

 private:
  const StageSpec* spec_;
  StagePlan plan_;
  ConfigTable section_;
  ConfigTable root_;
  std::filesystem::path out_dir_;
  std::filesystem::path work_dir_;
  std::map<std::string, std::filesystem::path> inputs_;
  std::function<Resource&(const std::string&)> acquire_;
  std::vector<std::string> used_;
};

}  // namespace ksparse::pipeline
