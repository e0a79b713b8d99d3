// End-to-end training on a tiny generated corpus through the CLI: kill -9 during training and a
// rerun resume from the last checkpoint and end exactly like an uninterrupted run; the trained
// model feeds encode -> search --model -> fuse -> eval, and export.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/encoder/trainer.h"
#include "safetensors.h"

namespace ksparse {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using test::TempDir;

std::string doc_name(int i) {
  std::string s("d");
  s.append(std::to_string(i));
  return s;
}

// 80 documents of 14 words from a mixed Korean/English pool; queries are 3 words of their
// positive document. Half the triples are "real", half "synthetic".
void write_fixture(const fs::path& dir) {
  const std::vector<std::string> pool = {
      "서울", "부산", "경제", "정부", "대학교", "학생", "축구", "선수", "음악", "영화", "배우",
      "기술", "컴퓨터", "데이터", "모델", "학습", "검색", "엔진", "바다", "산", "강", "도시",
      "역사", "왕조", "전쟁", "평화", "과학", "물리", "화학", "생물", "search", "engine", "model",
      "data", "music", "movie", "history", "science", "city", "river", "korea", "football",
      "player", "school", "student", "economy", "market", "bank", "money", "food", "김치",
      "비빔밥", "라면", "시장", "은행", "돈", "날씨", "비", "눈", "바람"};
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  std::vector<std::vector<std::string>> docs;
  {
    JsonlWriter corpus(dir / "corpus.jsonl");
    for (int i = 0; i < 80; ++i) {
      std::vector<std::string> words;
      std::string text;
      for (int w = 0; w < 14; ++w) {
        words.push_back(pool[pick(rng)]);
        if (w > 0) text.push_back(' ');
        text.append(words.back());
      }
      docs.push_back(words);
      corpus.write(Document{doc_name(i), "", text, nullptr});
    }
  }
  JsonlWriter triples(dir / "triples.jsonl");
  std::uniform_int_distribution<int> doc_pick(0, 79);
  for (int n = 0; n < 240; ++n) {
    const int d = n % 80;
    std::uniform_int_distribution<std::size_t> w(0, docs[d].size() - 1);
    std::string q;
    for (int k = 0; k < 3; ++k) {
      if (k > 0) q.push_back(' ');
      q.append(docs[d][w(rng)]);
    }
    int neg = doc_pick(rng);
    if (neg == d) neg = (d + 1) % 80;
    const bool real = n % 2 == 0;
    std::string qid(real ? "r" : "s");
    qid.append(std::to_string(n));
    triples.write(json{{"query", q},
                       {"query_id", qid},
                       {"positive_id", doc_name(d)},
                       {"negative_ids", {doc_name(neg)}},
                       {"source", real ? "real" : "synthetic"}});
  }
}

const char* kConfig = R"([train]
vocab_size = 200
vocab_min_frequency = 1
hidden_size = 32
lexical_prior = false
num_layers = 1
num_heads = 2
intermediate_size = 64
max_length = 24
batch_size = 8
hard_negatives = 1
max_steps = 60
warmup_steps = 5
lr = 2e-3
flops_doc = 0.01
flops_warmup_steps = 20
teacher = "bm25"
distill_weight = 0.1
validation_fraction = 0.2
eval_every = 20
checkpoint_every = 5
log_every = 1
threads = 1
seed = 11
)";

std::vector<std::string> train_args(const fs::path& dir, const fs::path& out) {
  return {test::cli_path().string(), "train", "--triples", (dir / "triples.jsonl").string(),
          "--corpus", (dir / "corpus.jsonl").string(), "--out", out.string(), "--config",
          (dir / "train.toml").string()};
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

std::int64_t latest_step(const fs::path& out) {
  const fs::path latest = out / "checkpoints" / "latest.json";
  std::error_code ec;
  if (!fs::exists(latest, ec)) return -1;
  try {
    return read_json(latest).at("step").get<std::int64_t>();
  } catch (...) {
    return -1;
  }
}

TEST(TrainerSlowTest, KillNineThenResumeEndsLikeAnUninterruptedRun) {
  TempDir tmp;
  write_fixture(tmp.path());
  test::write_file(tmp / "train.toml", kConfig);

  // Uninterrupted reference run.
  const auto ref = test::run_program(train_args(tmp.path(), tmp / "ref"));
  ASSERT_EQ(ref.exit_code, 0) << ref.err;

  // Interrupted run: SIGKILL once a checkpoint past step 10 exists, while it is still training.
  const auto args = train_args(tmp.path(), tmp / "killed");
  const bool killed_while_running = test::kill_program_when(
      args,
      [&] {
        const std::int64_t step = latest_step(tmp / "killed");
        return step >= 10 && step < 60;
      },
      std::chrono::milliseconds(2), std::chrono::seconds(120));
  ASSERT_TRUE(killed_while_running) << "the child finished before it could be killed";
  const std::int64_t killed_at = latest_step(tmp / "killed");
  ASSERT_GE(killed_at, 10);
  ASSERT_LT(killed_at, 60);
  EXPECT_FALSE(fs::exists(tmp / "killed" / "model.safetensors"));

  const auto rerun = test::run_program(args);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(rerun.err.find("resuming from checkpoint at step"), std::string::npos) << rerun.err;

  const json ref_stats = read_json(tmp / "ref" / "train_manifest.json").at("stats");
  const json res_stats = read_json(tmp / "killed" / "train_manifest.json").at("stats");
  EXPECT_EQ(ref_stats.at("resumed_from"), -1);
  EXPECT_GE(res_stats.at("resumed_from").get<std::int64_t>(), 10);
  EXPECT_EQ(ref_stats.at("steps"), 60);
  EXPECT_EQ(res_stats.at("steps"), 60);
  // Bit-identical: the same final loss and the same loss curve, row by row.
  EXPECT_EQ(ref_stats.at("final_loss").get<double>(), res_stats.at("final_loss").get<double>());
  EXPECT_EQ(test::read_file(tmp / "ref" / "loss_curve.jsonl"),
            test::read_file(tmp / "killed" / "loss_curve.jsonl"));
  EXPECT_EQ(ref_stats.at("best_valid_ndcg@10"), res_stats.at("best_valid_ndcg@10"));
  // The loss went down over training (first logged step vs the last 10).
  std::ifstream curve(tmp / "ref" / "loss_curve.jsonl");
  std::string line;
  std::vector<double> losses;
  while (std::getline(curve, line)) {
    const json row = json::parse(line);
    if (row.contains("loss")) losses.push_back(row["loss"].get<double>());
  }
  ASSERT_EQ(losses.size(), 60u);
  double tail = 0;
  for (std::size_t i = 50; i < 60; ++i) tail += losses[i] / 10;
  EXPECT_LT(tail, losses[0]);
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "idf.json"})
    EXPECT_TRUE(fs::exists(tmp / "ref" / f)) << f;

  // The held-out validation queries are written with the model: real questions only, each with its
  // positive, as many as the stats say, and the same after a resume.
  const ValidationSet valid = read_validation_set(tmp / "ref");
  ASSERT_EQ(valid.queries.size(), ref_stats.at("valid_queries").get<std::size_t>());
  ASSERT_GT(valid.queries.size(), 0u);
  for (const Query& q : valid.queries) {
    EXPECT_EQ(q.id.front(), 'r') << q.id;
    ASSERT_EQ(valid.qrels.count(q.id), 1u) << q.id;
    EXPECT_EQ(valid.qrels.at(q.id).size(), 1u) << q.id;
  }
  EXPECT_EQ(valid.qrels.size(), valid.queries.size());
  const ValidationSet resumed = read_validation_set(tmp / "killed");
  EXPECT_EQ(resumed.qrels, valid.qrels);
  fs::remove_all(tmp / "killed" / "validation");
  EXPECT_THROW(read_validation_set(tmp / "killed"), IoError);
}

// prior_lr_scale = 0 freezes the parameters that hold the lexical prior (the word embeddings, tied
// to the MLM decoder, and the MLM head): after 4 or 10 steps they are bit for bit the same, while
// the transformer layers moved; with the default scale the embeddings move too.
TEST(TrainerSlowTest, PriorLrScaleZeroFreezesTheLexicalPrior) {
  TempDir tmp;
  write_fixture(tmp.path());
  auto train = [&](const std::string& name, int steps, double scale) {
    std::string cfg(kConfig);
    cfg.replace(cfg.find("max_steps = 60"), 14, "max_steps = " + std::to_string(steps));
    cfg.replace(cfg.find("warmup_steps = 5"), 16, "warmup_steps = 1");
    cfg += "prior_lr_scale = " + std::to_string(scale) + "\n";
    test::write_file(tmp / "train.toml", cfg);
    const auto r = test::run_program(train_args(tmp.path(), tmp / name));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return encoder::detail::read_safetensors(tmp / name / "model.safetensors");
  };
  const auto short_run = train("frozen4", 4, 0.0);
  const auto long_run = train("frozen10", 10, 0.0);
  const auto unfrozen = train("unfrozen10", 10, 1.0);
  std::size_t prior_tensors = 0;
  std::size_t moved_layers = 0;
  for (const auto& [name, w] : long_run) {
    const bool prior = name == "bert.embeddings.word_embeddings.weight" ||
                       name.rfind("cls.predictions.", 0) == 0;
    if (prior) {
      ++prior_tensors;
      EXPECT_TRUE(torch::equal(w, short_run.at(name))) << name;
    } else if (name.find("encoder.layer") != std::string::npos) {
      moved_layers += torch::equal(w, short_run.at(name)) ? 0 : 1;
    }
  }
  EXPECT_GE(prior_tensors, 4u);  // embeddings, transform dense/LayerNorm, bias
  EXPECT_GT(moved_layers, 4u);
  const std::string emb = "bert.embeddings.word_embeddings.weight";
  EXPECT_FALSE(torch::equal(unfrozen.at(emb), long_run.at(emb)));
}

// A FLOPS weight far too strong zeroes every document vector within a few steps, and a dead ReLU
// never comes back: the trainer stops with an error that names the settings to change instead of
// finishing a model that retrieves nothing. collapse_steps = 0 lets the same run finish.
TEST(TrainerSlowTest, CollapseStopsWithAnErrorNamingTheSettings) {
  TempDir tmp;
  write_fixture(tmp.path());
  std::string cfg = kConfig;
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"flops_doc = 0.01", "flops_doc = 1000.0"},
           {"flops_warmup_steps = 20", "flops_warmup_steps = 0"},
           {"max_steps = 60", "max_steps = 40"},
           {"warmup_steps = 5", "warmup_steps = 1"}}) {
    cfg.replace(cfg.find(from), from.size(), to);
  }
  test::write_file(tmp / "train.toml", cfg + "collapse_steps = 5\n");
  const auto tr = test::run_program(train_args(tmp.path(), tmp / "model"));
  EXPECT_NE(tr.exit_code, 0);
  EXPECT_NE(tr.err.find("training collapsed at step"), std::string::npos) << tr.err;
  EXPECT_NE(tr.err.find("flops_doc (now 1000)"), std::string::npos) << tr.err;
  EXPECT_FALSE(fs::exists(tmp / "model" / "model.safetensors"));

  test::write_file(tmp / "train.toml", cfg + "collapse_steps = 0\n");
  const auto off = test::run_program(train_args(tmp.path(), tmp / "model-off"));
  EXPECT_EQ(off.exit_code, 0) << off.err;
  // The curve shows why: the document vectors are empty at the end.
  std::ifstream curve(tmp / "model-off" / "loss_curve.jsonl");
  double last_nnz = -1.0;
  for (std::string line; std::getline(curve, line);) {
    const json row = json::parse(line);
    if (row.contains("doc_nnz")) last_nnz = row["doc_nnz"].get<double>();
  }
  EXPECT_EQ(last_nnz, 0.0);
}

TEST(TrainerSlowTest, TrainedModelEncodesSearchesFusesAndExports) {
  TempDir tmp;
  write_fixture(tmp.path());
  test::write_file(tmp / "train.toml", kConfig);
  const auto tr = test::run_program(train_args(tmp.path(), tmp / "model"));
  ASSERT_EQ(tr.exit_code, 0) << tr.err;

  // Queries + qrels from the real triples.
  {
    JsonlWriter queries(tmp / "queries.jsonl");
    Qrels qrels;
    std::ifstream in(tmp / "triples.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const json t = json::parse(line);
      if (t["source"] != "real") continue;
      queries.write(Query{t["query_id"], t["query"], nullptr});
      qrels[t["query_id"]][t["positive_id"]] = 1;
    }
    write_qrels(tmp / "qrels.tsv", qrels);
  }
  auto ok = [](const test::CommandResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0;
  };
  const std::string corpus = (tmp / "corpus.jsonl").string();
  ASSERT_TRUE(ok(test::run_cli({"encode", "--model", (tmp / "model").string(), "--corpus", corpus,
                                "--out", (tmp / "sparse").string(), "--top-k", "64"})));
  ASSERT_TRUE(ok(test::run_cli({"search", "--index", (tmp / "sparse").string(), "--model",
                                (tmp / "model").string(), "--queries",
                                (tmp / "queries.jsonl").string(), "--out",
                                (tmp / "sparse.trec").string(), "--k", "20"})));
  ASSERT_TRUE(ok(test::run_cli({"index", "build", "--corpus", corpus, "--out",
                                (tmp / "bm25").string()})));
  ASSERT_TRUE(ok(test::run_cli({"search", "--index", (tmp / "bm25").string(), "--queries",
                                (tmp / "queries.jsonl").string(), "--out",
                                (tmp / "bm25.trec").string(), "--k", "20"})));
  // --model on a BM25 index is refused with a message naming the fix.
  const auto wrong = test::run_cli({"search", "--index", (tmp / "bm25").string(), "--model",
                                    (tmp / "model").string(), "--queries",
                                    (tmp / "queries.jsonl").string(), "--out",
                                    (tmp / "x.trec").string()});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("ksparse encode"), std::string::npos) << wrong.err;
  for (const char* method : {"rrf", "linear"}) {
    ASSERT_TRUE(ok(test::run_cli({"fuse", "--run", (tmp / "bm25.trec").string(), "--run",
                                  (tmp / "sparse.trec").string(), "--method", method, "--weight",
                                  "0.5", "--out", (tmp / "fused.trec").string()})));
    const auto ev = test::run_cli({"eval", "--qrels", (tmp / "qrels.tsv").string(), "--run",
                                   (tmp / "fused.trec").string(), "--metrics", "ndcg@10",
                                   "--json"});
    ASSERT_TRUE(ok(ev));
    EXPECT_GT(json::parse(ev.out).at("ndcg@10").get<double>(), 0.3) << method;
  }
  const auto ev = test::run_cli({"eval", "--qrels", (tmp / "qrels.tsv").string(), "--run",
                                 (tmp / "sparse.trec").string(), "--metrics", "ndcg@10", "--json"});
  ASSERT_TRUE(ok(ev));
  // Queries are bags of document words: even a tiny trained model must find most positives.
  EXPECT_GT(json::parse(ev.out).at("ndcg@10").get<double>(), 0.3);

  ASSERT_TRUE(ok(test::run_cli({"export", "--model", (tmp / "model").string(), "--corpus", corpus,
                                "--out", (tmp / "os").string(), "--top-k", "32", "--query",
                                "서울 경제"})));
  std::ifstream bulk(tmp / "os" / "bulk.jsonl");
  std::string action, body;
  ASSERT_TRUE(std::getline(bulk, action));
  ASSERT_TRUE(std::getline(bulk, body));
  EXPECT_EQ(json::parse(action).at("index").at("_id"), "d0");
  const json doc = json::parse(body);
  ASSERT_TRUE(doc.at("passage_embedding").is_object());
  EXPECT_GT(doc.at("passage_embedding").size(), 0u);
  EXPECT_LE(doc.at("passage_embedding").size(), 32u);
  for (const auto& [tok, w] : doc.at("passage_embedding").items()) {
    EXPECT_EQ(tok.find('.'), std::string::npos);
    EXPECT_GT(w.get<double>(), 0.0);
  }
  const json mapping = read_json(tmp / "os" / "mapping.json");
  EXPECT_EQ(mapping["mappings"]["properties"]["passage_embedding"]["type"], "rank_features");
  const json query = read_json(tmp / "os" / "query_example.json");
  const json& qt = query["query"]["neural_sparse"]["passage_embedding"]["query_tokens"];
  ASSERT_TRUE(qt.is_object());
  EXPECT_GT(qt.size(), 0u);
  for (const auto& [tok, w] : qt.items()) EXPECT_GT(w.get<double>(), 0.0) << tok;
  EXPECT_TRUE(fs::exists(tmp / "os" / "model" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(tmp / "os" / "manifest.json"));
}

}  // namespace
}  // namespace ksparse
