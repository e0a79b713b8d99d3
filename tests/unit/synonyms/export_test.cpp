#include "ksparse/synonyms/export.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace ksparse::synonyms {
namespace {

std::vector<std::size_t> error_lines(const SynonymValidation& v) {
  std::vector<std::size_t> out;
  for (const auto& i : v.issues) {
    if (i.error) out.push_back(i.line);
  }
  return out;
}

TEST(SolrValidator, AcceptsValidSyntax) {
  const auto v = validate_solr_synonyms(
      "# comment\n"
      "\n"
      "data, 데이터, 데이타\n"
      "deep learning, 딥 러닝\n"
      "컴퓨타, 컴퓨터 => computer\n"
      "a\\,b, c\\=>d, e\\\\f\n"
      "  spaced ,  terms  \n");
  EXPECT_TRUE(v.ok());
  EXPECT_EQ(v.rules, 5u);
  EXPECT_EQ(v.equivalence_rules, 4u);
  EXPECT_EQ(v.explicit_rules, 1u);
  EXPECT_EQ(v.terms, 13u);
  EXPECT_EQ(v.multiword_terms, 2u);
}

TEST(SolrValidator, RejectsBrokenLines) {
  const auto v = validate_solr_synonyms(
      "a, b => c => d\n"   // 1: two arrows
      "=> b\n"             // 2: empty left side
      "a, b =>\n"          // 3: empty right side
      "a,, b\n"            // 4: empty term
      "a, b,\n"            // 5: trailing comma
      "   \n"              // 6: whitespace-only line
      "ok, fine\n"         // 7
      "bad \xFF utf8\n");  // 8
  const std::vector<std::size_t> want = {1, 2, 3, 4, 5, 6, 8};
  EXPECT_EQ(error_lines(v), want);
  EXPECT_FALSE(v.ok());
}

TEST(SolrValidator, Warnings) {
  const auto v = validate_solr_synonyms("lonely\na, a\nx, y\\\n");
  EXPECT_TRUE(v.ok());
  ASSERT_EQ(v.issues.size(), 3u);
  EXPECT_EQ(v.issues[0].line, 1u);  // single term
  EXPECT_EQ(v.issues[1].line, 2u);  // duplicate
  EXPECT_EQ(v.issues[2].line, 3u);  // trailing backslash
}

TEST(SolrExport, EscapesAndValidates) {
  Dictionary d;
  Provenance p;
  p.source = Source::kSeed;
  p.score = 1;
  d.add("데이터", "data", p);
  d.add("데이타", "data", p);
  d.add("쉼표", "a,b", p);
  d.add("화살표", "x=>y", p);
  d.add("역슬래시", "c\\d", p);
  d.add("해시", "#tag", p);
  const std::string text = to_solr_synonyms(d);
  const auto v = validate_solr_synonyms(text);
  EXPECT_TRUE(v.ok()) << text;
  EXPECT_EQ(v.equivalence_rules, 5u);
  EXPECT_NE(text.find("data, 데이타, 데이터\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a\\,b, 쉼표\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\\#tag, 해시\n"), std::string::npos) << text;
  SolrExportOptions ex;
  ex.style = SolrExportOptions::Style::kExplicit;
  ex.header = false;
  const std::string explicit_text = to_solr_synonyms(d, ex);
  EXPECT_NE(explicit_text.find("데이타, 데이터 => data\n"), std::string::npos) << explicit_text;
  const auto v2 = validate_solr_synonyms(explicit_text);
  EXPECT_TRUE(v2.ok());
  EXPECT_EQ(v2.explicit_rules, 5u);
}

TEST(NoriExport, LoanwordsOnlySingleWords) {
  Dictionary d;
  Provenance seed;
  seed.source = Source::kSeed;
  seed.score = 1;
  d.add("컴퓨터", "computer", seed);        // loanword by score
  d.add("사람", "person", seed);            // native
  d.add("딥 러닝", "deep learning", seed);  // has a space: never in the user dictionary
  Provenance tr;
  tr.source = Source::kTransliteration;
  tr.score = 0.9;
  d.add("서버", "server", tr);
  const std::vector<std::string> want = {"서버", "컴퓨터"};
  EXPECT_EQ(nori_user_terms(d), want);
  test::TempDir dir;
  EXPECT_EQ(write_nori_user_dictionary(dir / "nori.txt", d), 2u);
  EXPECT_EQ(test::read_file(dir / "nori.txt").find("서버\n컴퓨터\n") != std::string::npos, true);
}

}  // namespace
}  // namespace ksparse::synonyms
