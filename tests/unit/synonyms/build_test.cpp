#include "ksparse/synonyms/build.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"
#include "ksparse/synonyms/export.h"

namespace ksparse::synonyms {
namespace {

// A tiny corpus: parentheticals, and loanwords written without a gloss.
std::filesystem::path write_corpus(const test::TempDir& dir) {
  const auto path = dir / "corpus.jsonl";
  JsonlWriter w(path);
  w.write(Document{"d1", "", "미국 민주당 당원대회(caucus)에서 이겼다. 서버와 네트워크를 점검했다.",
                   nullptr});
  w.write(Document{"d2", "",
                   "당원대회(caucus)가 끝났다. 서버가 멈추고 네트워크가 끊겼다. 컴퓨터는 켜졌다.",
                   nullptr});
  w.write(Document{"d3", "", "유럽연합(EU)이 발표했다. 컴퓨터 네트워크 server network computer",
                   nullptr});
  w.close();
  return path;
}

std::filesystem::path write_seed(const test::TempDir& dir) {
  return test::write_file(
      dir / "seed.tsv",
      "데이터\tdata\n프로그램\tprogram\n스테이션\tstation\n텔레비전\ttelevision\n"
      "사람\tperson\n학교\tschool\n나라\tcountry\n정부\tgovernment\n");
}

TEST(Build, PatternsTransliterationAndSeedWithProvenance) {
  test::TempDir dir;
  BuildOptions o;
  o.corpora = {write_corpus(dir)};
  o.seeds = {write_seed(dir)};
  o.out_dir = dir / "dict";
  o.min_loanword_probability = 0.0;  // the gate has its own tests
  const BuildResult r = build_dictionary(o);
  const Dictionary& d = r.dictionary;
  EXPECT_EQ(r.stats.seed_pairs, 8u);
  EXPECT_EQ(r.stats.documents, 3u);
  EXPECT_EQ(r.stats.pattern_matches, 3u);
  ASSERT_NE(d.find("데이터", "data"), nullptr);
  EXPECT_TRUE(d.find("데이터", "data")->has_source(Source::kSeed));
  const Entry* caucus = d.find("당원대회", "caucus");
  ASSERT_NE(caucus, nullptr);
  EXPECT_EQ(caucus->find(Source::kPattern)->count, 2u);
  EXPECT_EQ(caucus->find(Source::kPattern)->evidence.size(), 2u);
  // A single acronym gloss scores 0.25 < min_pattern_score: dropped without a verifier.
  EXPECT_EQ(d.find("유럽연합", "eu"), nullptr);
  EXPECT_EQ(r.stats.pattern_dropped, 1u);
  // Transliteration against the corpus' English words.
  for (auto [ko, en] :
       {std::pair{"서버", "server"}, {"네트워크", "network"}, {"컴퓨터", "computer"}}) {
    const Entry* e = d.find(ko, en);
    ASSERT_NE(e, nullptr) << ko;
    EXPECT_TRUE(e->has_source(Source::kTransliteration)) << ko;
  }
  EXPECT_EQ(d.find("당원대회", "caucus")->has_source(Source::kTransliteration), false);

  save_build(o, r);
  for (const char* f :
       {"synonyms.json", "manifest.json", "synonyms.txt", "nori_userdict.txt", "hanja_glosses.tsv"})
    EXPECT_TRUE(std::filesystem::exists(o.out_dir / f)) << f;
  EXPECT_TRUE(validate_solr_synonyms_file(o.out_dir / "synonyms.txt").ok());
  const std::string nori = test::read_file(o.out_dir / "nori_userdict.txt");
  EXPECT_NE(nori.find("네트워크\n"), std::string::npos);
  EXPECT_EQ(nori.find("당원대회"), std::string::npos);
  const Manifest m = read_manifest(o.out_dir, "synonyms");
  EXPECT_EQ(m.inputs.size(), 2u);
  EXPECT_EQ(m.stats["pattern_matches"], 3);
  EXPECT_EQ(load_dictionary(o.out_dir).size(), d.size());
}

// A verifier that accepts pairs whose English side is in a list, recording its batches.
class ListVerifier : public CandidateVerifier {
 public:
  explicit ListVerifier(std::set<std::string> yes) : yes_(std::move(yes)) {}
  std::vector<Verdict> verify(const std::vector<CandidatePair>& pairs) override {
    batches.push_back(pairs.size());
    std::vector<Verdict> out;
    for (const auto& p : pairs) {
      const bool ok = yes_.count(p.en) > 0;
      out.push_back({ok, ok ? 0.95 : 0.9, ok ? "same meaning" : "different"});
    }
    return out;
  }
  std::string name() const override { return "list"; }
  std::vector<std::size_t> batches;

 private:
  std::set<std::string> yes_;
};

TEST(Build, VerifierSeamKeepsOnlyAcceptedCandidates) {
  test::TempDir dir;
  BuildOptions o;
  o.corpora = {write_corpus(dir)};
  o.seeds = {write_seed(dir)};
  o.min_loanword_probability = 0.0;  // the gate has its own tests
  o.verify_batch = 2;
  ListVerifier v({"caucus", "server"});
  const BuildResult r = build_dictionary(o, &v);
  const Dictionary& d = r.dictionary;
  EXPECT_EQ(r.stats.verifier, "list");
  EXPECT_GT(r.stats.candidates_verified, 3u);
  EXPECT_EQ(r.stats.candidates_verified - r.stats.candidates_rejected,
            d.size() - d.count_source(Source::kSeed));
  for (const Entry* e : d.entries()) {
    if (e->has_source(Source::kSeed)) continue;
    EXPECT_TRUE(e->has_source(Source::kLlm)) << e->ko;
    EXPECT_TRUE(e->en == "caucus" || e->en == "server") << e->ko << " " << e->en;
  }
  for (std::size_t b : v.batches) EXPECT_LE(b, 2u);
  ASSERT_NE(d.find("당원대회", "caucus"), nullptr);
  const Provenance* llm = d.find("당원대회", "caucus")->find(Source::kLlm);
  ASSERT_NE(llm, nullptr);
  EXPECT_DOUBLE_EQ(llm->score, 0.95);
  EXPECT_EQ(llm->note, "same meaning");
  EXPECT_TRUE(d.find("당원대회", "caucus")->has_source(Source::kPattern));
  EXPECT_EQ(d.find("유럽연합", "eu"), nullptr);
  EXPECT_EQ(d.find("네트워크", "network"), nullptr);
  EXPECT_NE(d.find("데이터", "data"), nullptr);  // seeds are not verified
}

// Embeds terms by a fixed concept table (Korean and English terms of one concept share an axis).
std::vector<std::vector<float>> concept_embed(const std::vector<std::string>& texts) {
  static const std::map<std::string, std::size_t> kAxis = {
      {"이겼다", 0}, {"won", 0}, {"끝났다", 1}, {"ended", 1}, {"점검했다", 2}, {"checked", 2}};
  std::vector<std::vector<float>> out;
  for (const auto& t : texts) {
    std::vector<float> v(5, 0.0f);
    const auto it = kAxis.find(t);
    // Unknown terms share a junk axis, weakly.
    if (it == kAxis.end()) {
      v[3] = 0.3f;
      v[4] = 1.0f;
    } else {
      v[it->second] = 1.0f;
    }
    double n = 0.0;
    for (float x : v) n += x * x;
    for (float& x : v) x = static_cast<float>(x / std::sqrt(n));
    out.push_back(v);
  }
  return out;
}

std::filesystem::path write_english_lexicon(const test::TempDir& dir) {
  return test::write_file(dir / "en.tsv", "승리\twon\n종료\tended\n검사\tchecked\n바다\tsea\n");
}

TEST(Build, EmbeddingAndDiscoveryStagesFeedTheVerifier) {
  test::TempDir dir;
  BuildOptions o;
  o.corpora = {write_corpus(dir)};
  o.seeds = {write_seed(dir)};
  o.en_vocab = {write_english_lexicon(dir)};
  o.out_dir = dir / "dict";
  o.min_term_count = 1;
  o.use_transliteration = false;
  o.embedding.top_k = 2;
  o.embedding.csls_k = 1;
  o.discover_max_terms = 2;
  std::vector<std::string> asked;
  BuildStages stages;
  stages.embed = concept_embed;
  stages.discover = [&asked](const std::vector<std::string>& terms) {
    asked = terms;
    std::vector<CandidatePair> out;
    for (const auto& t : terms) out.push_back({t, "sea", Source::kDiscovery, 0.0, "{}"});
    return out;
  };
  ListVerifier v({"won", "ended", "caucus"});
  stages.verifier = &v;
  const BuildResult r = build_dictionary(o, stages);
  const Dictionary& d = r.dictionary;
  EXPECT_GT(r.stats.embedding_ko_terms, 3u);
  EXPECT_GE(r.stats.embedding_en_terms, 3u);
  EXPECT_GE(r.stats.embedding_pairs, 6u);
  ASSERT_NE(d.find("이겼다", "won"), nullptr);
  EXPECT_TRUE(d.find("이겼다", "won")->has_source(Source::kEmbedding));
  EXPECT_TRUE(d.find("이겼다", "won")->has_source(Source::kLlm));
  ASSERT_NE(d.find("끝났다", "ended"), nullptr);
  EXPECT_EQ(d.find("점검했다", "checked"), nullptr) << "the verifier said no";
  // Discovery asked about terms that nothing proposed for: none, since embeddings proposed for
  // every frequent word here; its proposals (sea) were all rejected anyway.
  EXPECT_EQ(r.stats.discovery_terms, asked.size());
  for (const auto& t : asked) EXPECT_TRUE(d.by_ko(t).empty()) << t;
  // Every verified candidate is logged with its verdict, and saved as verdicts.jsonl.
  EXPECT_EQ(r.verified.size(), r.stats.candidates_verified);
  save_build(o, r);
  std::size_t lines = 0, accepted = 0;
  std::istringstream in(test::read_file(o.out_dir / "verdicts.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    ++lines;
    if (j.at("accepted").get<bool>()) ++accepted;
    EXPECT_TRUE(j.contains("sources"));
    EXPECT_TRUE(j.contains("confidence"));
  }
  EXPECT_EQ(lines, r.verified.size());
  EXPECT_EQ(accepted, d.size() - d.count_source(Source::kSeed));
}

TEST(Build, EmbeddingOnlyKeepsTheBestNeighbourAboveTheCosineAndNoDiscoveries) {
  test::TempDir dir;
  BuildOptions o;
  o.corpora = {write_corpus(dir)};
  o.en_vocab = {write_english_lexicon(dir)};
  o.min_term_count = 1;
  o.use_transliteration = false;
  o.use_patterns = false;
  o.embedding.csls_k = 1;
  o.min_embedding_cosine = 0.5;
  BuildStages stages;
  stages.embed = concept_embed;
  bool discovered = false;
  stages.discover = [&discovered](const std::vector<std::string>&) {
    discovered = true;
    return std::vector<CandidatePair>{};
  };
  const BuildResult r = build_dictionary(o, stages);
  const Dictionary& d = r.dictionary;
  EXPECT_FALSE(discovered) << "discovery needs a verifier";
  ASSERT_NE(d.find("이겼다", "won"), nullptr);
  ASSERT_NE(d.find("점검했다", "checked"), nullptr);
  EXPECT_EQ(d.by_ko("이겼다").size(), 1u) << "rank 1 only";
  for (const Entry* e : d.entries()) {
    ASSERT_TRUE(e->has_source(Source::kEmbedding));
    EXPECT_GE(e->find(Source::kEmbedding)->score, 0.5);
  }
  EXPECT_TRUE(r.verified.empty());
}

TEST(Build, VerifyMaxVerifiesAnEvenSampleAndDropsTheRest) {
  test::TempDir dir;
  BuildOptions o;
  o.corpora = {write_corpus(dir)};
  o.min_loanword_probability = 0.0;
  ListVerifier all_yes({"caucus", "server", "network", "computer", "eu"});
  const BuildResult full = build_dictionary(o, &all_yes);
  const std::size_t n = full.stats.candidates_verified;
  ASSERT_GE(n, 4u);
  o.verify_max = 2;
  ListVerifier v({"caucus", "server", "network", "computer", "eu"});
  const BuildResult r = build_dictionary(o, &v);
  EXPECT_LE(r.stats.candidates_verified, 2u);
  EXPECT_GE(r.stats.candidates_verified, 1u);
  EXPECT_EQ(r.stats.candidates_verified + r.stats.candidates_unverified, n);
  EXPECT_EQ(r.dictionary.size(), r.stats.candidates_verified - r.stats.candidates_rejected);
  // The sample is spread over the sorted candidates: the first one is always in it.
  EXPECT_EQ(r.verified.front().pair.ko, full.verified.front().pair.ko);
}

TEST(Build, OptionsValidated) {
  BuildOptions o;
  EXPECT_THROW(build_dictionary(o), ConfigError);  // no inputs
  o.seeds = {"x.tsv"};
  o.verify_batch = 0;
  EXPECT_THROW(build_dictionary(o), ConfigError);
}

TEST(SynonymsCli, BuildEvalValidateAndBadSeed) {
  test::TempDir dir;
  const auto corpus = write_corpus(dir);
  const auto seed = write_seed(dir);
  const auto out = dir / "dict";
  auto r = test::run_cli({"synonyms", "build", "--corpus", corpus.string(), "--seed", seed.string(),
                          "--out", out.string(), "--no-llm", "--min-loanword-prob", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("entries:"), std::string::npos);

  const auto gold =
      test::write_file(dir / "gold.txt", "서버 server\n네트워크 network\n당원대회 convention\n");
  r = test::run_cli(
      {"synonyms", "eval", "--dict", out.string(), "--gold", gold.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"entries", "seed_entries", "precision", "recall", "by_source"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["seed_entries"], 8);
  EXPECT_EQ(j["overall"]["scored_pairs"], 3);
  EXPECT_EQ(j["overall"]["correct_pairs"], 2);
  EXPECT_EQ(j["disagreements"][0]["en"], "caucus");

  r = test::run_cli({"synonyms", "validate", (out / "synonyms.txt").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto broken = test::write_file(dir / "broken.txt", "a, b\n=> c\n");
  r = test::run_cli({"synonyms", "validate", broken.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("broken.txt:2: error"), std::string::npos) << r.out;

  const auto bad_seed = test::write_file(dir / "bad_seed.tsv", "데이터\tdata\n서버\n");
  r = test::run_cli({"synonyms", "build", "--seed", bad_seed.string(), "--out",
                     (dir / "x").string(), "--no-llm"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("ksparse synonyms build: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad_seed.tsv:2"), std::string::npos) << r.err;

  r = test::run_cli({"synonyms", "build", "--seed", seed.string(), "--out", (dir / "y").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--no-llm"), std::string::npos) << r.err;
}

TEST(TrendsCli, JsonOutput) {
  test::TempDir dir;
  const auto path = dir / "corpus.jsonl";
  {
    JsonlWriter w(path);
    for (int i = 0; i < 30; ++i) {
      std::string text = "정부는 발표했다 시장이 열렸다";
      if (i >= 20) text += " 태풍이 태풍은 태풍을";
      Document doc;
      doc.id = "doc";
      doc.id += std::to_string(i);
      doc.text = text;
      doc.metadata["date"] = i < 10 ? "2010-01-01" : i < 20 ? "2011-01-01" : "2012-06-01";
      w.write(doc);
    }
    w.close();
  }
  auto r = test::run_cli({"trends", "--corpus", path.string(), "--window", "year", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["periods"].size(), 3u);
  EXPECT_EQ(j["periods"][2]["period"], "2012");
  EXPECT_EQ(j["periods"][2]["terms"][0]["term"], "태풍");
  EXPECT_TRUE(j["periods"][0]["terms"].empty());
}

}  // namespace
}  // namespace ksparse::synonyms
