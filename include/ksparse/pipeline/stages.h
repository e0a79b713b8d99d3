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
//   ablations   data bm25 expansion [...] metrics, test ("randomization" | "ttest"), trials
//   report      everything above          title, examples
//
// Shared top-level keys: `out` (output dir), `data_dir` (root of the shared data; relative file
// settings in stage sections resolve against it when they do not exist relative to the config
// file), `threads`, and the `[llm]` table (model, parallel, ctx_per_seq, threads, gpu_layers,
// gpu_mem_budget) describing the LLM resource shared by the LLM stages.
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
//         OUT/.work/synth/cache.sqlite holds the generation cache (a killed run resumes from it)
StageSpec synth_stage();
// trends/: trends.json (synonyms::TrendReport)
StageSpec trends_stage();
// synonyms/: dict/ (the synonyms::save_build layout: synonyms.json, synonyms.txt, ...), eval.json,
//            held_out_gold.tsv
StageSpec synonyms_stage();
// expansion/: run.trec, metrics.json, per_query.json, expanded_queries.jsonl
StageSpec expansion_stage();
// ablations/: ablations.json ({systems: [{name, run, metrics}], comparisons: [{a, b, metric,
//             p_value, mean_a, mean_b}]})
StageSpec ablations_stage();
// report/: report.html (self-contained, inline SVG), report.md
StageSpec report_stage();

// Adds the LLM resource ("llm", when built with llama.cpp) and every stage above, in order.
void register_workflow(Pipeline& pipeline);

// Resolves a file setting of `section`: the configured path (relative paths resolve against the
// config file's directory, as ConfigTable does); when that does not exist and the raw value is
// relative, against the root's `data_dir`. ConfigError naming file:line when the file is missing.
std::filesystem::path resolve_input_file(const ConfigTable& section, const ConfigTable& root,
                                         std::string_view key);

}  // namespace ksparse::pipeline
