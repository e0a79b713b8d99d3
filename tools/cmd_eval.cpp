// `ksparse eval`: trec_eval-compatible effectiveness of a TREC run against BEIR qrels, optionally
// compared with a second run by a paired significance test.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/eval/metrics.h"
#include "ksparse/eval/significance.h"

namespace ksparse::cli {
namespace {

struct EvalCommandOptions {
  std::filesystem::path qrels;  // BEIR qrels TSV
  std::filesystem::path run;    // TREC run
  std::string metrics = "ndcg@10,mrr@10,recall@100";
  bool json = false;                   // one JSON object on stdout instead of a table
  bool per_query = false;              // add per-query values
  std::filesystem::path compare;       // second run; empty disables the comparison
  std::string test = "randomization";  // randomization | ttest
  RandomizationOptions randomization;

  void validate() const {
    parse_metrics(metrics);
    parse_paired_test(test);
    randomization.validate();
  }
};

struct Comparison {
  EvalResult b;
  std::vector<PairedTestResult> tests;  // one per metric
};

Comparison compare_runs(const EvalCommandOptions& opt, const Qrels& qrels, const EvalResult& a) {
  Comparison c;
  c.b = evaluate(qrels, read_trec_run(opt.compare), a.metrics);
  const PairedTest test = parse_paired_test(opt.test);
  for (std::size_t m = 0; m < a.metrics.size(); ++m) {
    c.tests.push_back(
        test == PairedTest::kTTest
            ? paired_t_test(a.column(m), c.b.column(m))
            : paired_randomization_test(a.column(m), c.b.column(m), opt.randomization));
  }
  return c;
}

void print_json(const EvalCommandOptions& opt, const EvalResult& a, const Comparison* cmp) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (std::size_t m = 0; m < a.metrics.size(); ++m) out[a.metrics[m].name()] = a.mean[m];
  if (opt.per_query) {
    nlohmann::ordered_json per_query = nlohmann::ordered_json::object();
    for (std::size_t q = 0; q < a.query_ids.size(); ++q) {
      nlohmann::ordered_json row = nlohmann::ordered_json::object();
      for (std::size_t m = 0; m < a.metrics.size(); ++m)
        row[a.metrics[m].name()] = a.per_query[q][m];
      per_query[a.query_ids[q]] = std::move(row);
    }
    out["per_query"] = std::move(per_query);
  }
  if (cmp != nullptr) {
    nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
    for (std::size_t m = 0; m < a.metrics.size(); ++m) {
      const PairedTestResult& t = cmp->tests[m];
      metrics[a.metrics[m].name()] = {{"a", t.mean_a},
                                      {"b", t.mean_b},
                                      {"diff", t.mean_diff},
                                      {"statistic", t.statistic},
                                      {"p_value", t.p_value}};
    }
    out["compare"] = {{"run_b", opt.compare.string()},
                      {"test", opt.test},
                      {"num_queries", a.query_ids.size()},
                      {"metrics", std::move(metrics)}};
  }
  std::printf("%s\n", out.dump().c_str());
}

void print_table(const EvalCommandOptions& opt, const EvalResult& a, const Comparison* cmp) {
  std::printf(
      "queries evaluated: %zu (%zu absent from the run scored 0; %zu without a relevant "
      "judgement skipped; %zu run queries without judgements ignored)\n",
      a.query_ids.size(), a.num_missing_from_run, a.num_skipped_no_relevant,
      a.num_unjudged_run_queries);
  if (opt.per_query) {
    std::printf("%-24s", "query");
    for (const Metric& m : a.metrics) std::printf(" %12s", m.name().c_str());
    std::printf("\n");
    for (std::size_t q = 0; q < a.query_ids.size(); ++q) {
      std::printf("%-24s", a.query_ids[q].c_str());
      for (double v : a.per_query[q]) std::printf(" %12.4f", v);
      std::printf("\n");
    }
    std::printf("%-24s", "mean");
    for (double v : a.mean) std::printf(" %12.4f", v);
    std::printf("\n\n");
  }
  if (cmp == nullptr) {
    std::printf("%-12s %10s\n", "metric", "value");
    for (std::size_t m = 0; m < a.metrics.size(); ++m) {
      std::printf("%-12s %10.4f\n", a.metrics[m].name().c_str(), a.mean[m]);
    }
    return;
  }
  std::printf("A = %s\nB = %s\n", opt.run.string().c_str(), opt.compare.string().c_str());
  std::printf("%-12s %10s %10s %10s %12s  (%s, two-sided)\n", "metric", "A", "B", "B-A", "p-value",
              opt.test.c_str());
  for (std::size_t m = 0; m < a.metrics.size(); ++m) {
    const PairedTestResult& t = cmp->tests[m];
    const char* mark = t.p_value < 0.01 ? " **" : (t.p_value < 0.05 ? " *" : "");
    std::printf("%-12s %10.4f %10.4f %+10.4f %12.4g%s\n", a.metrics[m].name().c_str(), t.mean_a,
                t.mean_b, t.mean_diff, t.p_value, mark);
  }
  std::printf("(* p < 0.05, ** p < 0.01)\n");
}

void run_eval(const EvalCommandOptions& opt) {
  opt.validate();
  const std::vector<Metric> metrics = parse_metrics(opt.metrics);
  const Qrels qrels = read_qrels(opt.qrels);
  const EvalResult a = evaluate(qrels, read_trec_run(opt.run), metrics);
  std::unique_ptr<Comparison> cmp;
  if (!opt.compare.empty()) {
    cmp = std::make_unique<Comparison>(compare_runs(opt, qrels, a));
  }
  if (opt.json) {
    print_json(opt, a, cmp.get());
  } else {
    print_table(opt, a, cmp.get());
  }
}

}  // namespace

void add_eval_commands(CLI::App& app) {
  auto opt = std::make_shared<EvalCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "Evaluate a TREC run against qrels with trec_eval semantics (ties: doc id descending; "
      "queries without relevant judgements skipped; judged queries missing from the run score 0 "
      "and count in the mean)");
  cmd->add_option("--qrels", opt->qrels, "BEIR qrels TSV (query-id, corpus-id, score)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--run", opt->run, "TREC run file (qid Q0 docid rank score tag)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--metrics", opt->metrics,
                  "comma-separated metrics: ndcg@k, mrr@k, recall@k, map@k, p@k")
      ->capture_default_str();
  cmd->add_flag("--json", opt->json,
                "print one JSON object {metric: mean} (plus per_query / compare when asked)");
  cmd->add_flag("--per-query", opt->per_query, "also report every query's values");
  auto* compare = cmd->add_option("--compare", opt->compare,
                                  "second TREC run (B) to compare with --run (A), paired by query")
                      ->check(CLI::ExistingFile);
  cmd->add_option("--test", opt->test, "paired significance test: randomization|ttest")
      ->capture_default_str()
      ->check(CLI::IsMember({"randomization", "ttest"}))
      ->needs(compare);
  cmd->add_option("--trials", opt->randomization.trials,
                  "randomization test trials (exact enumeration when 2^queries <= trials)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->needs(compare);
  cmd->add_option("--seed", opt->randomization.seed, "randomization test seed")
      ->capture_default_str()
      ->needs(compare);
  cmd->callback([opt] { run_eval(*opt); });
}

}  // namespace ksparse::cli
