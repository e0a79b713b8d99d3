// ksparse data korquad|csv: convert raw datasets to the BEIR layout (see core/datasets.h).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "ksparse/core/datasets.h"

namespace ksparse::cli {

namespace {

void print_stats(const DatasetStats& s, const std::filesystem::path& out, bool with_queries) {
  std::printf("passages: %zu\n", s.passages);
  if (with_queries) {
    std::printf("queries: %zu\n", s.queries);
    std::printf("qrels: %zu (train %zu, test %zu)\n", s.qrels, s.train_qrels, s.test_qrels);
  }
  std::printf("wrote %s\n", out.string().c_str());
}

}  // namespace

void add_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand(
      "data", "Convert datasets to BEIR layout (corpus.jsonl, queries.jsonl, qrels/)");
  data->require_subcommand(1);

  auto korquad = std::make_shared<KorquadOptions>();
  auto* kq = data->add_subcommand(
      "korquad", "KorQuAD 1.0 JSON -> passages (unique contexts), queries (questions), qrels");
  kq->add_option("--in", korquad->input, "KorQuAD_v1.0_{dev,train}.json")->required();
  kq->add_option("--out", korquad->out_dir, "output directory")->required();
  kq->add_option("--split-articles", korquad->split_articles,
                 "fraction of articles whose questions go to qrels/train.tsv (0: no split, all "
                 "qrels in qrels/test.tsv)")
      ->capture_default_str();
  kq->add_option("--seed", korquad->seed, "article shuffle seed")->capture_default_str();
  kq->callback([korquad] {
    auto stats = convert_korquad(*korquad);
    print_stats(stats, korquad->out_dir, true);
  });

  auto csv = std::make_shared<CsvCorpusOptions>();
  auto* c = data->add_subcommand("csv", "CSV (one document per row) -> corpus.jsonl");
  c->add_option("--in", csv->input, "CSV file with a header line")->required();
  c->add_option("--out", csv->out_dir, "output directory")->required();
  c->add_option("--text-col", csv->text_col, "column (header name) holding the text")->required();
  c->add_option("--id-col", csv->id_col,
                "column holding unique ids (default: generate d000001...)");
  c->add_option("--title-col", csv->title_col, "column holding the title (default: none)");
  c->add_option("--date-col", csv->date_col, "column copied to metadata.date (default: none)");
  c->add_option("--meta-col", csv->meta_cols, "further column copied to metadata (repeatable)");
  c->add_option("--delimiter", csv->delimiter, "field delimiter")->capture_default_str();
  c->callback([csv] {
    auto stats = convert_csv_corpus(*csv);
    print_stats(stats, csv->out_dir, false);
  });
}

}  // namespace ksparse::cli
