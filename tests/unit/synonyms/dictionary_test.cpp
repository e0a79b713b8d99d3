#include "ksparse/synonyms/dictionary.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/synonyms/terms.h"

namespace ksparse::synonyms {
namespace {

Provenance prov(Source s, double score, std::uint64_t count, std::string note = {}) {
  Provenance p;
  p.source = s;
  p.score = score;
  p.count = count;
  p.note = std::move(note);
  return p;
}

TEST(Terms, NormaliseAndParticles) {
  EXPECT_EQ(normalize_en("  Deep   Learning "), "deep learning");
  EXPECT_EQ(normalize_en("ＮＡＳＡ"), "nasa");
  EXPECT_EQ(normalize_ko(" 조셉  바이든 "), "조셉 바이든");
  EXPECT_EQ(strip_particle("당원대회에서").stem, "당원대회");
  EXPECT_EQ(strip_particle("당원대회에서").particle, "에서");
  EXPECT_EQ(strip_particle("바이든이").stem, "바이든");
  EXPECT_EQ(strip_particle("컴퓨터로는").particle, "로는");
  EXPECT_EQ(strip_particle("국가").stem, "국가");  // stem would be one syllable
  EXPECT_EQ(strip_particle("회의").particle, "");
  EXPECT_EQ(strip_particle("것으로").stem, "것으로");  // not "것으" + "로"
  EXPECT_EQ(strip_particle("코로나").stem, "코로나");  // 나 is not stripped
  EXPECT_EQ(strip_particle("나라는").stem, "나라");
  const auto words = extract_words("오바마는 Data를 2008년에 BERT모델을 분석했다");
  const std::vector<std::string> want = {"오바마", "data", "bert", "모델", "분석했다"};
  EXPECT_EQ(words, want);
}

TEST(Dictionary, AddMergesProvenancePerSource) {
  Dictionary d;
  d.add("데이터", "Data", prov(Source::kPattern, 0.5, 1, "ko(en)"));
  d.add("데이터", "data", prov(Source::kPattern, 0.75, 2, "ko(en)"));
  d.add("데이터", "data", prov(Source::kTransliteration, 0.9, 3));
  d.add("데이타", "data", prov(Source::kTransliteration, 0.8, 1));
  ASSERT_EQ(d.size(), 2u);
  const Entry* e = d.find("데이터", "DATA");
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->provenance.size(), 2u);
  const Provenance* p = e->find(Source::kPattern);
  EXPECT_EQ(p->count, 3u);
  EXPECT_DOUBLE_EQ(p->score, 0.75);
  EXPECT_EQ(p->note, "ko(en)");
  EXPECT_DOUBLE_EQ(e->score(), 0.9);
  EXPECT_EQ(d.count_source(Source::kTransliteration), 2u);
  EXPECT_EQ(d.ko_terms(), 2u);
  EXPECT_THROW(d.add(" ", "x", prov(Source::kSeed, 1, 1)), DataError);

  const auto groups = group_by_english(d);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].en, "data");
  const std::vector<std::string> variants = {"데이터", "데이타"};
  EXPECT_EQ(groups[0].ko, variants);
  EXPECT_TRUE(d.remove("데이타", "data"));
  EXPECT_EQ(group_by_english(d, 0.95).size(), 0u);
}

TEST(Dictionary, SaveLoadRoundTripWithManifest) {
  test::TempDir dir;
  Dictionary d;
  Provenance p = prov(Source::kPattern, 0.5, 1, "ko(en)");
  p.evidence.push_back({"d1", "당원대회(caucus)에서 이겼다."});
  d.add("당원대회", "caucus", p);
  d.add("서버", "server", prov(Source::kSeed, 1.0, 1, "seed.tsv:3"));
  save_dictionary(dir.path(), d, {{"k", 1}});
  const Manifest m = read_manifest(dir.path(), "synonyms");
  EXPECT_EQ(m.stats["entries"], 2);
  EXPECT_EQ(m.stats["by_source"]["seed"], 1);
  EXPECT_EQ(m.config["k"], 1);
  const Dictionary back = load_dictionary(dir.path());
  EXPECT_EQ(back.to_json(), d.to_json());
  EXPECT_EQ(back.find("당원대회", "caucus")->provenance[0].evidence[0].doc_id, "d1");

  // A newer format version is refused with a message naming the file.
  auto j = d.to_json();
  j["format_version"] = 99;
  std::ofstream(dir / "synonyms.json") << j.dump();
  try {
    load_dictionary(dir.path());
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("synonyms.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("99"), std::string::npos);
  }
  EXPECT_THROW(parse_source("magic"), ConfigError);
}

}  // namespace
}  // namespace ksparse::synonyms
