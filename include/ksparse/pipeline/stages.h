// The workflow stages of `ksparse run` (stage.h explains the contract). Each factory returns a
// StageSpec; register_workflow() adds them, in run order, to a Pipeline.
//
//   stage       deps                      config section keys (see configs/demo.toml)
//   data        -                         korquad, split_articles, seed, news (CSV, optional),
//                                         news_text_col, news_title_col, news_date_col
//   bm25        data                      analyzer, k1, b, k, metrics
//   synth       data          [llm]       per_doc, limit, batch_size, seed, temperature, top_p,
//                                         templates, min_logprob, round_trip, round_trip_k
//   trends      data                      window, top, min_count, min_docs, min_g2
//   synonyms    data                      seeds, en_vocab, gold, min_translit_score, ...
//   expansion   data bm25 synonyms        max_expansions, weight (BM25 + synonym expansion run)
//   train_real  data                      (enabled only; options from the shared [train] table)
//   train_synth data synth                synthetic_per_real (else the shared [train] table)
//   eval_real   data bm25 train_real      (enabled only; settings from the shared [sparse] table)
//   eval_synth  data bm25 train_synth     (enabled only; settings from the shared [sparse] table)
//   export      data train_real train_synth  model ("synth" | "real"), index_name, field, top_k,
//                                         threshold, query
//   ablations   data bm25 expansion synonyms eval_real eval_synth
//                                         metrics, test ("randomization" | "ttest"), trials, seed
//   report      everything above          title
// The encoder stages (train_*, eval_*, export) exist only in builds with libtorch
// (KSPARSE_WITH_TORCH); without it ablations and report simply have fewer inputs.
//
// Shared top-level keys: `out` (output dir), `data_dir` (root of the shared data; relative file
// settings in stage sections resolve against it when they do not exist relative to the config
// file), `threads`, the `[llm]` table (model, parallel, ctx_per_seq, threads, gpu_layers,
// gpu_mem_budget) describing the LLM resource shared by the LLM stages, the `[train]` table
// (TrainOptions field for field, see encoder/trainer.h; `threads` defaults to the top-level one)
// shared by both trainings so they differ only in their data, and the `[sparse]` table (top_k,
// threshold, batch_size, max_length, index_title, k, metrics, fusion ("linear" | "rrf"),
// fusion_weight (of the sparse run; BM25 gets 1 - w; "auto" picks it from 0, 0.05, ..., 1 on the
// training run's validation queries, which training held out), rrf_k, fusion_depth) shared by both
// evaluations.
//
// Paths inside artifacts (the files a stage writes) are fixed names documented at each factory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ksparse/pipeline/runner.h"
#include "ksparse/pipeline/stage.h"

namespace ksparse::pipeline {

// data/: korquad/{corpus.jsonl, queries.jsonl, qrels/{train,test}.tsv} (KorQuAD split by article),
//        test_queries.jsonl (queries with test qrels), train_triples.jsonl (real train pairs),
//        train_corpus.jsonl (passages of train articles), news/corpus.jsonl (when `news` is set)
StageSpec data_stage();
// bm25/: index/ (index dir), run.trec (test queries), metrics.json ({mean: {metric: v}, n}),
//        per_query.json ({metric: {qid: v}})
StageSpec bm25_stage();
// synth/: queries/{triples.jsonl, funnel.json, rejections.jsonl}; the work dir
//         OUT/.work/synth/cache.sqlite holds the generation cache (a killed run resumes from it).
//         With `import = DIR` (a `ksparse synth queries` output directory) no LLM runs: its
//         synthetic triples whose positive is a KorQuAD passage become queries/triples.jsonl, and
//         its funnel and generation stats are carried over.
StageSpec synth_stage();
// trends/: trends.json (synonyms::TrendReport)
StageSpec trends_stage();
// synonyms/: dict/ (the synonyms::save_build layout: synonyms.json, synonyms.txt, ...), eval.json,
//            held_out_gold.tsv
StageSpec synonyms_stage();
// expansion/: run.trec, metrics.json, per_query.json, expanded_queries.jsonl
StageSpec expansion_stage();
// train_real/, train_synth/: model/ (the HF model folder of trainer.h with loss_curve.jsonl and
//   train_manifest.json; no checkpoints). The trainer's checkpoints live in
//   OUT/.work/<stage>/run-<hash of options and data>/model/checkpoints, so kill -9 mid-training
//   resumes from the newest checkpoint.
StageSpec train_real_stage();
StageSpec train_synth_stage();
// eval_real/, eval_synth/: index/ (impact index), run.trec, metrics.json, per_query.json
//   (held-out queries) and fusion/{run.trec, metrics.json, per_query.json} (BM25 + sparse).
StageSpec eval_real_stage();
StageSpec eval_synth_stage();
// export/: opensearch/ (encoder/opensearch_export.h: model/, bulk.jsonl, mapping.json,
//   query_example.json, README.md, manifest.json)
StageSpec export_stage();
// ablations/: ablations.json ({systems: [{name, label, run, queries, metrics}], comparisons:
//             [{a, b, metric, test, n, mean_a, mean_b, mean_diff, p_value}], not_run:
//             [{comparison, reason}]})
StageSpec ablations_stage();
// report/: report.html (self-contained, inline SVG), report.md
StageSpec report_stage();

// Adds the LLM resource ("llm", when built with llama.cpp) and every stage above, in order.
void register_workflow(Pipeline& pipeline);
// True when this build has the encoder stages (libtorch).
bool workflow_has_encoder();

// Resolves a file setting of `section`: the configured path (relative paths resolve against the
// config file's directory, as ConfigTable does); when that does not exist and the raw value is
// relative, against the root's `data_dir`. ConfigError naming file:line when the file is missing.
std::filesystem::path resolve_input_file(const ConfigTable& section, const ConfigTable& root,
                                         std::string_view key);

}  // namespace ksparse::pipeline
