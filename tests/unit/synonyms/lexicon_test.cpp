#include "ksparse/synonyms/lexicon.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse::synonyms {
namespace {

std::string error_of(const std::filesystem::path& p) {
  try {
    read_pair_file(p);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(Lexicon, ReadsTsvAndMuseFormats) {
  test::TempDir dir;
  const auto tsv =
      test::write_file(dir / "seed.tsv", "# comment\n데이터\tData\n\n딥 러닝\tdeep learning\r\n");
  const auto pairs = read_pair_file(tsv);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].ko, "데이터");
  EXPECT_EQ(pairs[0].en, "data");
  EXPECT_EQ(pairs[0].line, 2u);
  EXPECT_EQ(pairs[1].ko, "딥 러닝");
  EXPECT_EQ(pairs[1].en, "deep learning");
  const auto muse = test::write_file(dir / "muse.txt", "분류 category\n영화 film\n");
  const auto m = read_pair_file(muse);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].ko, "영화");
  EXPECT_EQ(m[1].en, "film");
}

TEST(Lexicon, BadFilesNameFileAndLine) {
  test::TempDir dir;
  const auto three = test::write_file(dir / "three.tsv", "데이터\tdata\n서버\tserver\textra\n");
  const std::string e1 = error_of(three);
  EXPECT_NE(e1.find("three.tsv:2"), std::string::npos) << e1;
  EXPECT_NE(e1.find("got 3"), std::string::npos) << e1;

  const auto one = test::write_file(dir / "one.txt", "데이터 data\n서버\n");
  const std::string e2 = error_of(one);
  EXPECT_NE(e2.find("one.txt:2"), std::string::npos) << e2;
  EXPECT_NE(e2.find("expected 2 columns"), std::string::npos) << e2;

  const auto bad = test::write_file(dir / "bad.tsv", "데이터\tdata\n\xED\x95\tx\n");
  const std::string e3 = error_of(bad);
  EXPECT_NE(e3.find("bad.tsv:2"), std::string::npos) << e3;
  EXPECT_NE(e3.find("invalid UTF-8"), std::string::npos) << e3;

  const auto swapped = test::write_file(dir / "swapped.tsv", "data\t데이터\n");
  const std::string e4 = error_of(swapped);
  EXPECT_NE(e4.find("swapped.tsv:1"), std::string::npos) << e4;
  EXPECT_NE(e4.find("swapped"), std::string::npos) << e4;

  const auto empty = test::write_file(dir / "empty.tsv", "데이터\t  \n");
  EXPECT_NE(error_of(empty).find("empty.tsv:1"), std::string::npos);
  EXPECT_THROW(read_pair_file(dir / "missing.tsv"), IoError);
}

TEST(Lexicon, WiktionaryLines) {
  test::TempDir dir;
  // Lines copied from the Wiktionary en-ko file.
  const auto w = test::write_file(
      dir / "wikt.txt",
      "# English :: Korean dictionary extracted from http://en.wiktionary.org/\n"
      "abacus {n} (calculating frame) :: 수판 /數板, supan/, 산판 /算板, sanpan/, 셈판 /셈板, "
      "sempan/, 주판 /籌板, 珠板, jupan/\n"
      "abdomen {n} (belly) :: 배, 복 (腹)\n"
      "Abbott {prop} (surname) :: ^애벗\n"
      "ability {n} (quality or state of being able) :: 능력 /neungnyeok, 能力/\n");
  const auto pairs = read_lexicon(w);
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& p : pairs) got.insert({p.ko, p.en});
  const std::set<std::pair<std::string, std::string>> want = {
      {"수판", "abacus"}, {"산판", "abacus"}, {"셈판", "abacus"}, {"주판", "abacus"},
      {"배", "abdomen"},  {"복", "abdomen"},  {"애벗", "abbott"}, {"능력", "ability"}};
  EXPECT_EQ(got, want);
  const auto bad = test::write_file(dir / "bad.txt", "abacus {n} 수판\n");
  try {
    read_wiktionary(bad);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:1"), std::string::npos);
  }
}

TEST(Lexicon, RealFilesParse) {
  const auto muse = read_lexicon(test::shared_data("lexicon/muse-ko-en.0-5000.txt"));
  EXPECT_EQ(muse.size(), 8372u);
  const auto wikt = read_lexicon(test::shared_data("lexicon/wiktionary-en-ko.txt"));
  EXPECT_GT(wikt.size(), 10000u);
}

TEST(Lexicon, SplitByHeadwordIsDisjointAndDeterministic) {
  std::vector<LexiconPair> pairs;
  for (int i = 0; i < 200; ++i) {
    std::string ko = "단어";
    ko += std::to_string(i / 2);  // two pairs per headword
    std::string en = "w";
    en += std::to_string(i);
    pairs.push_back({ko, en, static_cast<std::size_t>(i + 1)});
  }
  std::vector<LexiconPair> a, b, a2, b2;
  split_by_headword(pairs, 0.5, 7, a, b);
  split_by_headword(pairs, 0.5, 7, a2, b2);
  EXPECT_EQ(a.size() + b.size(), pairs.size());
  EXPECT_EQ(a.size(), a2.size());
  std::set<std::string> ha, hb;
  for (const auto& p : a) ha.insert(p.ko);
  for (const auto& p : b) hb.insert(p.ko);
  for (const auto& h : ha) EXPECT_EQ(hb.count(h), 0u) << h;
  EXPECT_GT(a.size(), 60u);
  EXPECT_GT(b.size(), 60u);
  EXPECT_THROW(split_by_headword(pairs, 1.5, 7, a, b), ConfigError);
}

}  // namespace
}  // namespace ksparse::synonyms
