// StageContext: what a running stage sees (its plan, dirs, inputs, resources).
#include "ksparse/pipeline/stage.h"

#include <algorithm>
#include <utility>

#include "ksparse/core/error.h"

namespace ksparse::pipeline {

StageContext::StageContext(const StageSpec& spec, StagePlan plan, ConfigTable section,
                           ConfigTable root, std::filesystem::path out_dir,
                           std::filesystem::path work_dir,
                           std::map<std::string, std::filesystem::path> inputs,
                           std::function<Resource&(const std::string&)> acquire)
    : spec_(&spec),
      plan_(std::move(plan)),
      section_(std::move(section)),
      root_(std::move(root)),
      out_dir_(std::move(out_dir)),
      work_dir_(std::move(work_dir)),
      inputs_(std::move(inputs)),
      acquire_(std::move(acquire)) {}

bool StageContext::has_input(const std::string& stage) const { return inputs_.count(stage) > 0; }

const std::filesystem::path& StageContext::input(const std::string& stage) const {
  auto it = inputs_.find(stage);
  if (it != inputs_.end()) return it->second;
  const bool declared =
      std::find(spec_->deps.begin(), spec_->deps.end(), stage) != spec_->deps.end();
  if (declared) {
    throw ConfigError("stage `" + spec_->name + "` needs the `" + stage +
                      "` stage, which is disabled in the config; enable [" + stage + "]");
  }
  throw ConfigError("stage `" + spec_->name + "` reads `" + stage +
                    "` but does not declare it in its deps (a bug in the stage)");
}

Resource& StageContext::resource(const std::string& name) {
  if (std::find(spec_->resources.begin(), spec_->resources.end(), name) == spec_->resources.end()) {
    throw ConfigError("stage `" + spec_->name + "` uses resource `" + name +
                      "` without declaring it (a bug in the stage)");
  }
  if (std::find(used_.begin(), used_.end(), name) == used_.end()) used_.push_back(name);
  return acquire_(name);
}

}  // namespace ksparse::pipeline
