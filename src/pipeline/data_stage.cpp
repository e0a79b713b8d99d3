// Stage `data`: KorQuAD -> BEIR split by article, real train triples, held-out test queries, and
// an optional dated news corpus (CSV) for trends and synonyms.
#include <set>

#include "ksparse/core/datasets.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/pipeline/stages.h"
#include "ksparse/synth/triples.h"
#include "stage_util.h"

namespace ksparse::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

StageSpec data_stage() {
  StageSpec s;
  s.name = "data";
  s.description = "KorQuAD -> BEIR split by article; news CSV -> dated corpus";
  s.plan = [](const ConfigTable& t, const ConfigTable& root) {
    t.expect_keys({"enabled", "korquad", "split_articles", "seed", "news", "news_text_col",
                   "news_title_col", "news_date_col", "news_id_col"});
    StagePlan p;
    const fs::path korquad = resolve_input_file(t, root, "korquad");
    const double split = t.get("split_articles", 0.5);
    if (!(split > 0.0 && split < 1.0)) {
      throw ConfigError(t.where("split_articles") +
                        ": `data.split_articles` must be in (0, 1): the workflow trains on the "
                        "train articles and evaluates on the held-out ones");
    }
    p.config = {{"korquad", korquad.string()},
                {"split_articles", split},
                {"seed", t.get<std::int64_t>("seed", 13)}};
    p.files.push_back(korquad);
    if (t.contains("news")) {
      const fs::path news = resolve_input_file(t, root, "news");
      p.config["news"] = news.string();
      p.config["news_text_col"] = t.get<std::string>("news_text_col", "내용");
      p.config["news_title_col"] = t.get<std::string>("news_title_col", "제목");
      p.config["news_date_col"] = t.get<std::string>("news_date_col", "작성일");
      p.config["news_id_col"] = t.get<std::string>("news_id_col", "");
      p.files.push_back(news);
    }
    return p;
  };
  s.run = [](StageContext& ctx) {
    const json& c = ctx.config();
    KorquadOptions ko;
    ko.input = c["korquad"].get<std::string>();
    ko.out_dir = ctx.out_dir() / "korquad";
    ko.split_articles = c["split_articles"].get<double>();
    ko.seed = static_cast<std::uint64_t>(c["seed"].get<std::int64_t>());
    const DatasetStats st = convert_korquad(ko);

    const fs::path dir = ko.out_dir;
    const Qrels train = read_qrels(dir / "qrels" / "train.tsv");
    const Qrels test = read_qrels(dir / "qrels" / "test.tsv");
    JsonlWriter test_queries(ctx.out_dir() / "test_queries.jsonl");
    std::vector<synth::Triple> triples;
    for (const Query& q : read_queries(dir / "queries.jsonl")) {
      if (test.count(q.id)) test_queries.write(q);
      auto it = train.find(q.id);
      if (it == train.end()) continue;
      for (const auto& [doc, grade] : it->second) {
        if (grade <= 0) continue;
        synth::Triple t;
        t.query = q.text;
        t.query_id = q.id;
        t.positive_id = doc;
        t.source = synth::TripleSource::kReal;
        triples.push_back(std::move(t));
      }
    }
    test_queries.close();
    synth::write_triples(ctx.out_dir() / "train_triples.jsonl", triples);
    // Passages of train articles: synthetic queries are generated for these first (the test
    // articles' passages are still searchable, but their queries must stay unseen).
    std::set<std::string> train_docs;
    for (const auto& [q, docs] : train) {
      for (const auto& [d, g] : docs) train_docs.insert(d);
    }
    JsonlWriter train_corpus(ctx.out_dir() / "train_corpus.jsonl");
    for (const Document& d : read_corpus(dir / "corpus.jsonl")) {
      if (train_docs.count(d.id)) train_corpus.write(d);
    }
    train_corpus.close();

    ctx.stats = st.to_json();
    ctx.stats["test_queries"] = test_queries.count();
    ctx.stats["train_triples"] = triples.size();
    ctx.stats["train_passages"] = train_corpus.count();
    if (c.contains("news")) {
      CsvCorpusOptions co;
      co.input = c["news"].get<std::string>();
      co.out_dir = ctx.out_dir() / "news";
      co.text_col = c["news_text_col"].get<std::string>();
      co.title_col = c["news_title_col"].get<std::string>();
      co.date_col = c["news_date_col"].get<std::string>();
      co.id_col = c["news_id_col"].get<std::string>();
      ctx.stats["news"] = convert_csv_corpus(co).to_json();
    }
  };
  return s;
}

}  // namespace ksparse::pipeline
