#include "ksparse/synth/merge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse::synth {
namespace {

std::vector<Triple> make(TripleSource src, int n, const std::string& prefix) {
  std::vector<Triple> out;
  for (int i = 0; i < n; ++i) {
    // Built by appending: GCC 12 reports a false -Wrestrict on `"d" + std::to_string(i)` here.
    const std::string n = std::to_string(i);
    Triple t;
    t.query = prefix;
    t.query += " 질문 ";
    t.query += n;
    t.query_id = prefix;
    t.query_id += n;
    t.positive_id = 'd';
    t.positive_id += n;
    t.source = src;
    if (src == TripleSource::kSynthetic) {
      Provenance p;
      p.style = i % 2 ? "keyword" : "mixed";
      p.logprob = -1.0;
      t.provenance = p;
    }
    out.push_back(t);
  }
  return out;
}

TEST(TriplesFromBeir, OnlyRelevantJudgements) {
  std::vector<Query> qs = {{"q1", "훈민정음 반포", {}}, {"q2", "9호선", {}}, {"q3", "없음", {}}};
  Qrels qrels = {{"q1", {{"d1", 1}, {"d2", 0}}}, {"q2", {{"d5", 2}, {"d3", 1}}}};
  const auto ts = triples_from_beir(qs, qrels);
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_EQ(ts[0].positive_id, "d1");
  EXPECT_EQ(ts[1].positive_id, "d3");
  EXPECT_EQ(ts[2].positive_id, "d5");
  EXPECT_EQ(ts[2].source, TripleSource::kReal);
}

TEST(MergeTriples, RatioHoldOutAndDeterminism) {
  const auto real = make(TripleSource::kReal, 100, "r");
  const auto syn = make(TripleSource::kSynthetic, 300, "s");
  MergeOptions o;
  o.validation_fraction = 0.2;
  o.synthetic_per_real = 1.0;
  o.exclude_validation_docs = false;
  o.seed = 5;
  const MergeResult m = merge_triples(real, syn, o);
  EXPECT_EQ(m.validation.size(), 20u);
  for (const Triple& t : m.validation) EXPECT_EQ(t.source, TripleSource::kReal);
  std::size_t n_real = 0, n_syn = 0;
  for (const Triple& t : m.train) (t.source == TripleSource::kReal ? n_real : n_syn)++;
  EXPECT_EQ(n_real, 80u);
  EXPECT_EQ(n_syn, 80u);  // 1:1
  std::set<std::string> valid_ids;
  for (const Triple& t : m.validation) valid_ids.insert(t.query_id);
  for (const Triple& t : m.train) EXPECT_FALSE(valid_ids.count(t.query_id));
  // Same seed, shuffled input: same output. Other seed: another split.
  std::vector<Triple> rev(real.rbegin(), real.rend());
  const MergeResult m2 = merge_triples(rev, syn, o);
  ASSERT_EQ(m2.train.size(), m.train.size());
  for (std::size_t i = 0; i < m.train.size(); ++i)
    EXPECT_EQ(m.train[i].query_id, m2.train[i].query_id);
  o.seed = 6;
  const MergeResult m3 = merge_triples(real, syn, o);
  std::set<std::string> valid3;
  for (const Triple& t : m3.validation) valid3.insert(t.query_id);
  EXPECT_NE(valid_ids, valid3);
  // 1:2 and the shortfall case.
  o.synthetic_per_real = 0.5;
  EXPECT_EQ(merge_triples(real, syn, o).stats["synthetic_used"], 40);
  o.synthetic_per_real = 10.0;
  const MergeResult big = merge_triples(real, syn, o);
  EXPECT_EQ(big.stats["synthetic_used"], 300);
  EXPECT_EQ(big.stats["synthetic_wanted"], 800);
}

TEST(MergeTriples, LeakGuardAndSourceChecks) {
  const auto real = make(TripleSource::kReal, 10, "r");
  const auto syn = make(TripleSource::kSynthetic, 10, "s");  // same positives d0..d9
  MergeOptions o;
  o.validation_fraction = 0.3;
  const MergeResult m = merge_triples(real, syn, o);
  EXPECT_EQ(m.stats["synthetic_excluded_leak"], 3);
  EXPECT_EQ(m.stats["synthetic_used"], 7);
  EXPECT_THROW(merge_triples(syn, syn, o), ConfigError);
  EXPECT_THROW(merge_triples(real, real, o), ConfigError);
  o.validation_fraction = 1.0;
  EXPECT_THROW(merge_triples(real, syn, o), ConfigError);
}

TEST(DatasetReport, CountsHistogramsExamplesAndMarkdown) {
  auto triples = make(TripleSource::kReal, 5, "r");
  const auto syn = make(TripleSource::kSynthetic, 30, "s");
  triples.insert(triples.end(), syn.begin(), syn.end());
  const nlohmann::json funnel = {{"input", 50},
                                 {"passed", 30},
                                 {"by_filter", {{"length", 12}, {"copy", 8}}},
                                 {"order", {"length", "copy"}}};
  std::unordered_map<std::string, Document> corpus = {{"d3", {"d3", "제목", "본문 내용", {}}}};
  const auto report = dataset_report(triples, funnel, &corpus);
  EXPECT_EQ(report["counts"]["real"], 5);
  EXPECT_EQ(report["counts"]["synthetic"], 30);
  EXPECT_EQ(report["counts"]["by_style"]["keyword"], 15);
  ASSERT_EQ(report["examples"].size(), 20u);
  for (const auto& e : report["examples"]) EXPECT_EQ(e["source"], "synthetic");
  std::size_t total = 0;
  for (const auto& c : report["query_chars"]["synthetic"]["counts"]) total += c.get<std::size_t>();
  EXPECT_EQ(total, 30u);
  EXPECT_EQ(dataset_report(triples, funnel, &corpus), report);  // seeded: same examples
  const std::string md = report_markdown(report);
  EXPECT_THAT(md, ::testing::HasSubstr("| length | 12 |"));
  EXPECT_THAT(md, ::testing::HasSubstr("## Random examples"));
  EXPECT_THAT(md, ::testing::HasSubstr("20. **"));
}

TEST(WriteMerge, WritesAllFiles) {
  test::TempDir dir;
  const auto real = make(TripleSource::kReal, 10, "r");
  const auto syn = make(TripleSource::kSynthetic, 10, "s");
  const MergeResult m = merge_triples(real, syn, MergeOptions{});
  write_merge(dir / "out", m, dataset_report(m.train, nullptr, nullptr), {{"ratio", 1}}, {});
  for (const char* f : {"train.jsonl", "valid.jsonl", "stats.json", "stats.md", "manifest.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / "out" / f)) << f;
  }
  EXPECT_EQ(read_triples(dir / "out" / "valid.jsonl").size(), 1u);
}

}  // namespace
}  // namespace ksparse::synth

namespace ksparse::synth {
namespace {

TEST(MergeCli, BeirRealPlusSyntheticWritesSplitAndReport) {
  test::TempDir dir;
  std::string queries, qrels = "query-id\tcorpus-id\tscore\n";
  for (int i = 0; i < 20; ++i) {
    const std::string n = std::to_string(i);
    nlohmann::json q;
    q["_id"] = "q" + n;
    q["text"] = "실제 질문 " + n;
    queries += q.dump();
    queries += '\n';
    qrels += 'q';
    qrels += n;
    qrels += "\td";
    qrels += n;
    qrels += "\t1\n";
  }
  test::write_file(dir / "queries.jsonl", queries);
  test::write_file(dir / "qrels.tsv", qrels);
  write_triples(dir / "syn.jsonl", make(TripleSource::kSynthetic, 40, "s"));
  const auto r =
      test::run_cli({"synth", "merge", "--synthetic", (dir / "syn.jsonl").string(), "--queries",
                     (dir / "queries.jsonl").string(), "--qrels", (dir / "qrels.tsv").string(),
                     "--out", (dir / "m").string(), "--ratio", "0.5", "--valid-fraction", "0.25",
                     "--allow-validation-docs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto train = read_triples(dir / "m" / "train.jsonl");
  const auto valid = read_triples(dir / "m" / "valid.jsonl");
  EXPECT_EQ(valid.size(), 5u);
  EXPECT_EQ(train.size(), 15u + 7u);  // 15 real + floor(0.5 * 15) synthetic
  for (const Triple& t : valid) EXPECT_EQ(t.source, TripleSource::kReal);
  const auto stats = nlohmann::json::parse(test::read_file(dir / "m" / "stats.json"));
  EXPECT_EQ(stats["counts"]["synthetic"], 7);
  EXPECT_EQ(stats["examples"].size(), 7u);

  const auto rep =
      test::run_cli({"synth", "report", "--triples", (dir / "m" / "train.jsonl").string(), "--out",
                     (dir / "rep").string(), "--examples", "3"});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_THAT(test::read_file(dir / "rep" / "stats.md"), ::testing::HasSubstr("3. **"));

  const auto bad = test::run_cli({"synth", "merge", "--synthetic", (dir / "syn.jsonl").string(),
                                  "--out", (dir / "x").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, ::testing::HasSubstr("real triples are needed"));
}

}  // namespace
}  // namespace ksparse::synth
