// The workflow of `ksparse run`: the LLM resource and every stage, in run order.
#include "ksparse/pipeline/stages.h"
#include "llm_resource.h"

namespace ksparse::pipeline {

void register_workflow(Pipeline& pipeline) {
  pipeline.top_level_keys = {"out", "data_dir", "threads", "llm"};
  pipeline.add_resource("llm", detail::make_llama_resource);
  pipeline.add_stage(data_stage());
  pipeline.add_stage(bm25_stage());
  pipeline.add_stage(synth_stage());
  pipeline.add_stage(trends_stage());
  pipeline.add_stage(synonyms_stage());
  pipeline.add_stage(expansion_stage());
  pipeline.add_stage(ablations_stage());
  pipeline.add_stage(report_stage());
}

}  // namespace ksparse::pipeline
