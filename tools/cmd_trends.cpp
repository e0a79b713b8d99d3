// ksparse trends: terms whose frequency rises in a period of a dated corpus (G^2).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ksparse/synonyms/trends.h"

namespace ksparse::cli {

void add_trends_commands(CLI::App& app) {
  struct Options {
    std::filesystem::path corpus;
    synonyms::TrendOptions trends;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* t = app.add_subcommand(
      "trends", "Trending terms per period of a dated corpus (Dunning log-likelihood, rises only)");
  t->add_option("--corpus", o->corpus, "BEIR corpus.jsonl with a date in metadata")->required();
  t->add_option("--date-field", o->trends.date_field, "metadata field holding the date")
      ->capture_default_str();
  t->add_option("--window", o->trends.window, "period: year|month")
      ->capture_default_str()
      ->check(CLI::IsMember({"year", "month"}));
  t->add_option("--top", o->trends.top, "terms per period (0: all)")->capture_default_str();
  t->add_option("--min-count", o->trends.min_count, "occurrences needed in the period")
      ->capture_default_str();
  t->add_option("--min-docs", o->trends.min_docs, "documents of the period that must contain it")
      ->capture_default_str();
  t->add_option("--min-g2", o->trends.min_g2, "G^2 threshold (10.83: p < 0.001)")
      ->capture_default_str();
  t->add_flag("--json", o->json, "print JSON");
  t->callback([o] {
    const synonyms::TrendReport r = synonyms::find_trends(o->corpus, o->trends);
    if (o->json) {
      std::printf("%s\n", r.to_json().dump(2).c_str());
      return;
    }
    std::printf("documents: %zu (undated %zu)\n", r.documents, r.undated);
    for (const auto& p : r.periods) {
      std::printf("%s (%zu docs, %zu tokens):", p.period.c_str(), p.documents, p.tokens);
      for (const auto& term : p.terms) std::printf(" %s(%.1f)", term.term.c_str(), term.g2);
      std::printf("\n");
    }
  });
}

}  // namespace ksparse::cli
