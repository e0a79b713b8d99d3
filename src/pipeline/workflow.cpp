// The workflow of `ksparse run`: the LLM resource and every stage, in run order.
#include <algorithm>

#include "ksparse/pipeline/stages.h"
#include "llm_resource.h"

namespace ksparse::pipeline {

namespace {

// Adds `spec` without the deps this build does not have (the encoder stages need libtorch), so
// ablations and report read what exists.
void add_available(Pipeline& pipeline, StageSpec spec) {
  const auto& have = pipeline.stages();
  std::erase_if(spec.deps, [&](const std::string& d) {
    return std::none_of(have.begin(), have.end(), [&](const StageSpec& s) { return s.name == d; });
  });
  pipeline.add_stage(std::move(spec));
}

}  // namespace

bool workflow_has_encoder() {
#ifdef KSPARSE_PIPELINE_HAVE_TORCH
  return true;
#else
  return false;
#endif
}

void register_workflow(Pipeline& pipeline) {
  pipeline.top_level_keys = {"out", "data_dir", "threads", "llm", "train", "sparse"};
  pipeline.add_resource("llm", detail::make_llama_resource);
  pipeline.add_stage(data_stage());
  pipeline.add_stage(bm25_stage());
  pipeline.add_stage(synth_stage());
  pipeline.add_stage(trends_stage());
  pipeline.add_stage(synonyms_stage());
  pipeline.add_stage(expansion_stage());
#ifdef KSPARSE_PIPELINE_HAVE_TORCH
  pipeline.add_stage(train_real_stage());
  pipeline.add_stage(train_synth_stage());
  pipeline.add_stage(eval_real_stage());
  pipeline.add_stage(eval_synth_stage());
  pipeline.add_stage(export_stage());
#endif
  add_available(pipeline, ablations_stage());
  add_available(pipeline, report_stage());
}

}  // namespace ksparse::pipeline
