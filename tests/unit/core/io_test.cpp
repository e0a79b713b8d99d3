#include "ksparse/core/io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace {

using test::fixture;
using test::TempDir;
using test::write_file;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Runs `fn`, expects it to throw E, and returns the message.
template <typename E, typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no exception";
  return {};
}

// Message of the DataError raised when reading a corpus made of `content`.
std::string corpus_error(const TempDir& tmp, const std::string& content, std::string* path_out) {
  auto path = write_file(tmp / "corpus.jsonl", content);
  *path_out = path.string();
  return error_of<DataError>([&] { read_corpus(path); });
}

TEST(CorpusReader, ReadsFixtureWithOptionalFieldsAndBlankLines) {
  auto docs = read_corpus(fixture("io/corpus.jsonl"));
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].id, "d1");
  EXPECT_EQ(docs[0].title, "서울");
  EXPECT_EQ(docs[0].text, "서울은 대한민국의 수도이다.");
  EXPECT_EQ(docs[0].metadata, nlohmann::json({{"year", 2020}}));
  EXPECT_EQ(docs[1].title, "");  // absent title
  EXPECT_TRUE(docs[1].metadata.is_null());
  EXPECT_EQ(docs[2].id, "d3");
  EXPECT_EQ(docs[2].title, "");  // null title
}

TEST(CorpusReader, LineNumberCountsBlankLines) {
  CorpusReader reader(fixture("io/corpus.jsonl"));
  Document doc;
  std::vector<std::size_t> lines;
  while (reader.next(doc)) lines.push_back(reader.line_no());
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 4}));
}

TEST(QueryReader, ReadsCrlfFile) {
  auto queries = read_queries(fixture("io/queries_crlf.jsonl"));
  ASSERT_EQ(queries.size(), 2u);
  EXPECT_EQ(queries[0].id, "q1");
  EXPECT_EQ(queries[0].text, "대한민국의 수도는?");
  EXPECT_EQ(queries[1].metadata["split"], "test");
}

TEST(CorpusReader, MalformedJsonNamesFileLineAndColumn) {
  TempDir tmp;
  std::string p;
  auto msg =
      corpus_error(tmp, "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id\": \"b\", \"text\": }\n", &p);
  EXPECT_THAT(msg, StartsWith(p + ":2: malformed JSON at column 22: syntax error"));
}

TEST(CorpusReader, NotAnObject) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "[1, 2]\n", &p);
  EXPECT_EQ(msg, p + ":1: expected a JSON object, got array");
}

TEST(CorpusReader, MissingId) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "{\"text\": \"x\"}\n", &p);
  EXPECT_EQ(msg, p + ":1: missing `_id`");
}

TEST(CorpusReader, NonStringId) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "{\"_id\": 12, \"text\": \"x\"}\n", &p);
  EXPECT_EQ(msg, p + ":1: `_id` must be a string, got number");
}

TEST(CorpusReader, EmptyId) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "{\"_id\": \"\", \"text\": \"x\"}\n", &p);
  EXPECT_EQ(msg, p + ":1: `_id` is empty; every record needs a non-empty id");
}

TEST(CorpusReader, MissingText) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "{\"_id\": \"a\", \"title\": \"t\"}\n", &p);
  EXPECT_EQ(msg, p + ":1: missing `text`");
}

TEST(CorpusReader, NonStringText) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "{\"_id\": \"a\", \"text\": null}\n", &p);
  EXPECT_EQ(msg, p + ":1: `text` must be a string, got null");
}

TEST(CorpusReader, NonStringTitle) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "{\"_id\": \"a\", \"text\": \"x\", \"title\": [1]}\n", &p);
  EXPECT_EQ(msg, p + ":1: `title` must be a string, got array");
}

TEST(CorpusReader, MetadataNotObject) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "{\"_id\": \"a\", \"text\": \"x\", \"metadata\": 3}\n", &p);
  EXPECT_EQ(msg, p + ":1: `metadata` must be an object, got number");
}

TEST(CorpusReader, InvalidUtf8GivesByteOffset) {
  TempDir tmp;
  std::string p;
  // "\xed\xa0\x80" encodes a surrogate (U+D800): invalid in UTF-8. It starts at byte 22.
  auto msg = corpus_error(tmp,
                          "{\"_id\": \"a\", \"text\": \"ok\"}\n"
                          "{\"_id\": \"b\", \"text\": \"\xed\xa0\x80\"}\n",
                          &p);
  EXPECT_EQ(msg,
            p + ":2: invalid UTF-8 at byte offset 22 of the line; re-encode the file as UTF-8");
}

TEST(CorpusReader, DuplicateIdNamesBothLines) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp,
                          "{\"_id\": \"a\", \"text\": \"x\"}\n\n{\"_id\": \"b\", \"text\": \"y\"}\n"
                          "{\"_id\": \"a\", \"text\": \"z\"}\n",
                          &p);
  EXPECT_EQ(msg, p + ":4: duplicate id \"a\" (first at line 1); ids must be unique");
}

TEST(CorpusReader, EmptyCorpus) {
  TempDir tmp;
  std::string p;
  auto msg = corpus_error(tmp, "\n  \n", &p);
  EXPECT_EQ(msg, p + ": empty corpus (no documents); check the path and the conversion step that "
                     "wrote it");
}

TEST(CorpusReader, MissingFileIsIoError) {
  TempDir tmp;
  auto msg = error_of<IoError>([&] { read_corpus(tmp / "nope.jsonl"); });
  EXPECT_EQ(msg, (tmp / "nope.jsonl").string() + ": cannot open for reading");
}

TEST(QueryReader, MissingTextAndDuplicates) {
  TempDir tmp;
  auto p = write_file(tmp / "q.jsonl", "{\"_id\": \"q1\"}\n");
  EXPECT_EQ(error_of<DataError>([&] { read_queries(p); }), p.string() + ":1: missing `text`");
  write_file(p, "{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q1\", \"text\": \"b\"}\n");
  EXPECT_EQ(error_of<DataError>([&] { read_queries(p); }),
            p.string() + ":2: duplicate id \"q1\" (first at line 1); ids must be unique");
}

TEST(Qrels, ReadsFixtureWithHeader) {
  auto qrels = read_qrels(fixture("io/qrels.tsv"));
  ASSERT_EQ(qrels.size(), 2u);
  EXPECT_EQ(qrels["q1"]["d1"], 2);
  EXPECT_EQ(qrels["q1"]["d3"], 0);
  EXPECT_EQ(qrels["q2"]["d2"], 1);
}

TEST(Qrels, HeaderIsOptionalAndNegativeGradesAllowed) {
  TempDir tmp;
  auto p = write_file(tmp / "q.tsv", "q1\td1\t-1\r\n\nq2\td2\t3\n");
  auto qrels = read_qrels(p);
  EXPECT_EQ(qrels["q1"]["d1"], -1);
  EXPECT_EQ(qrels["q2"]["d2"], 3);
}

TEST(Qrels, WrongColumnCount) {
  TempDir tmp;
  auto p = write_file(tmp / "q.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1 d2 1\n");
  EXPECT_EQ(
      error_of<DataError>([&] { read_qrels(p); }),
      p.string() + ":3: expected 3 tab-separated columns (query-id, corpus-id, score), got 1");
}

TEST(Qrels, NonIntegerScore) {
  TempDir tmp;
  auto p = write_file(tmp / "q.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1.0\n");
  EXPECT_EQ(error_of<DataError>([&] { read_qrels(p); }),
            p.string() + ":2: score \"1.0\" is not an integer (relevance grades are integers)");
}

TEST(Qrels, HeaderOnlyOnFirstLine) {
  TempDir tmp;
  auto p = write_file(tmp / "q.tsv", "q1\td1\t1\nquery-id\tcorpus-id\tscore\n");
  EXPECT_EQ(error_of<DataError>([&] { read_qrels(p); }),
            p.string() + ":2: score \"score\" is not an integer (relevance grades are integers)");
}

TEST(Qrels, EmptyId) {
  TempDir tmp;
  auto p = write_file(tmp / "q.tsv", "q1\t\t1\n");
  EXPECT_EQ(error_of<DataError>([&] { read_qrels(p); }), p.string() + ":1: empty corpus id");
}

TEST(Qrels, DuplicatePairNamesBothLines) {
  TempDir tmp;
  auto p = write_file(tmp / "q.tsv", "q1\td1\t1\nq1\td2\t1\nq1\td1\t2\n");
  EXPECT_EQ(error_of<DataError>([&] { read_qrels(p); }),
            p.string() +
                ":3: duplicate judgement for query \"q1\" and doc \"d1\" (first at line "
                "1); keep one line per pair");
}

TEST(Qrels, WriteReadRoundTrip) {
  TempDir tmp;
  Qrels qrels{{"q2", {{"d9", 1}}}, {"q1", {{"d2", 0}, {"d1", 3}}}};
  write_qrels(tmp / "sub/qrels.tsv", qrels);
  EXPECT_EQ(test::read_file(tmp / "sub/qrels.tsv"),
            "query-id\tcorpus-id\tscore\nq1\td1\t3\nq1\td2\t0\nq2\td9\t1\n");
  EXPECT_EQ(read_qrels(tmp / "sub/qrels.tsv"), qrels);
}

TEST(Qrels, FindUnknownIdsGivesLines) {
  auto problems = find_unknown_qrels_ids(fixture("io/qrels.tsv"), {"q1"}, {"d1", "d2"});
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].line, 3u);
  EXPECT_FALSE(problems[0].is_query);
  EXPECT_EQ(problems[0].id, "d3");
  EXPECT_EQ(problems[1].line, 4u);
  EXPECT_TRUE(problems[1].is_query);
  EXPECT_EQ(problems[1].id, "q2");
}

TEST(Qrels, CheckIdsPassesAndFails) {
  auto path = fixture("io/qrels.tsv");
  EXPECT_NO_THROW(check_qrels_ids(path, {"q1", "q2"}, {"d1", "d2", "d3"}));
  auto msg = error_of<DataError>([&] { check_qrels_ids(path, {"q1"}, {"d1", "d2"}); });
  const std::string p = path.string();
  std::string expected = p;
  expected += ": 2 unknown id(s); check that these qrels belong to this corpus and queries:\n  ";
  expected += p;
  expected += ":3: unknown doc id \"d3\"\n  ";
  expected += p;
  expected += ":4: unknown query id \"q2\"";
  EXPECT_EQ(msg, expected);
}

TEST(Qrels, CheckIdsTruncatesLongLists) {
  TempDir tmp;
  std::string content;
  for (char c = '0'; c < '8'; ++c) {
    content += 'q';
    content += c;
    content += "\td\t1\n";
  }
  auto p = write_file(tmp / "q.tsv", content);
  auto msg = error_of<DataError>([&] { check_qrels_ids(p, {}, {"d"}); });
  EXPECT_THAT(msg, HasSubstr(": 8 unknown id(s)"));
  EXPECT_THAT(msg, HasSubstr(p.string() + ":5: unknown query id \"q4\""));
  EXPECT_THAT(msg, Not(HasSubstr("\"q5\"")));
  EXPECT_THAT(msg, HasSubstr("... and 3 more"));
}

TEST(TrecRun, SortsByScoreThenDocIdDescendingLikeTrecEval) {
  auto run = read_trec_run(fixture("io/run.trec"));
  ASSERT_EQ(run.size(), 2u);
  const auto& q1 = run["q1"];
  ASSERT_EQ(q1.size(), 3u);
  EXPECT_EQ(q1[0].doc_id, "d1");
  EXPECT_DOUBLE_EQ(q1[0].score, 2.25);
  // d3 and d2 tie at 1.5: trec_eval puts the larger doc id first.
  EXPECT_EQ(q1[1].doc_id, "d3");
  EXPECT_EQ(q1[2].doc_id, "d2");
  EXPECT_DOUBLE_EQ(run["q2"][0].score, -0.5);
}

TEST(TrecRun, WrongColumnCount) {
  TempDir tmp;
  auto p = write_file(tmp / "run.trec", "q1 Q0 d1 1 0.5 tag\nq1 Q0 d2 2 0.4\n");
  EXPECT_EQ(error_of<DataError>([&] { read_trec_run(p); }),
            p.string() +
                ":2: expected 6 whitespace-separated columns (qid Q0 docid rank score "
                "tag), got 5");
}

TEST(TrecRun, BadScoreAndRank) {
  TempDir tmp;
  auto p = write_file(tmp / "run.trec", "q1 Q0 d1 1 high tag\n");
  EXPECT_EQ(error_of<DataError>([&] { read_trec_run(p); }),
            p.string() + ":1: score \"high\" is not a number");
  write_file(p, "q1 Q0 d1 first 0.5 tag\n");
  EXPECT_EQ(error_of<DataError>([&] { read_trec_run(p); }),
            p.string() + ":1: rank \"first\" is not an integer");
}

TEST(TrecRun, DuplicateDocumentNamesBothLines) {
  TempDir tmp;
  auto p = write_file(tmp / "run.trec", "q1 Q0 d1 1 0.5 t\nq2 Q0 d1 1 0.5 t\nq1 Q0 d1 2 0.4 t\n");
  EXPECT_EQ(error_of<DataError>([&] { read_trec_run(p); }),
            p.string() + ":3: document \"d1\" appears twice for query \"q1\" (first at line 1)");
}

TEST(TrecRun, WriteReadRoundTripKeepsExactScores) {
  TempDir tmp;
  ksparse::Run run{{"q1", {{"d2", 0.1 + 0.2}, {"d1", 1.0 / 3.0}}}, {"q0", {{"x", 1e-12}}}};
  write_trec_run(tmp / "r/run.trec", run, "mine");
  auto text = test::read_file(tmp / "r/run.trec");
  EXPECT_THAT(text, StartsWith("q0 Q0 x 1 1e-12 mine\nq1 Q0 d2 1 0.30000000000000004 mine\n"));
  auto back = read_trec_run(tmp / "r/run.trec");
  ASSERT_EQ(back["q1"].size(), 2u);
  EXPECT_EQ(back["q1"][0].doc_id, "d1");  // re-sorted by score
  EXPECT_EQ(back["q1"][0].score, 1.0 / 3.0);
  EXPECT_EQ(back["q1"][1].score, 0.1 + 0.2);
}

TEST(TrecRun, TagWithSpaceIsConfigError) {
  TempDir tmp;
  EXPECT_THROW(write_trec_run(tmp / "run.trec", {}, "two words"), ConfigError);
}

TEST(JsonlWriter, WritesDocumentsAndQueriesReadableByReaders) {
  TempDir tmp;
  {
    JsonlWriter w(tmp / "a/b/corpus.jsonl");
    w.write(Document{"d1", "제목", "본문 text", nlohmann::json{{"date", "2020-01-01"}}});
    w.write(Document{"d2", "", "two", nullptr});
    EXPECT_EQ(w.count(), 2u);
    w.close();
  }
  auto text = test::read_file(tmp / "a/b/corpus.jsonl");
  // Non-ASCII stays raw UTF-8; no metadata key when null.
  EXPECT_EQ(text,
            "{\"_id\":\"d1\",\"metadata\":{\"date\":\"2020-01-01\"},\"text\":\"본문 text\","
            "\"title\":\"제목\"}\n{\"_id\":\"d2\",\"text\":\"two\",\"title\":\"\"}\n");
  auto docs = read_corpus(tmp / "a/b/corpus.jsonl");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].metadata["date"], "2020-01-01");

  JsonlWriter qw(tmp / "queries.jsonl");
  qw.write(Query{"q1", "질문", nullptr});
  qw.close();
  EXPECT_EQ(test::read_file(tmp / "queries.jsonl"), "{\"_id\":\"q1\",\"text\":\"질문\"}\n");
}

TEST(JsonlWriter, InvalidUtf8IsDataError) {
  TempDir tmp;
  JsonlWriter w(tmp / "x.jsonl");
  EXPECT_THROW(w.write(Document{"d", "", "\xff", nullptr}), DataError);
}

TEST(LineReader, StripsCarriageReturnAndCountsLines) {
  TempDir tmp;
  auto p = write_file(tmp / "t.txt", "a\r\nb\n\nc");
  LineReader r(p);
  std::string line;
  std::vector<std::string> lines;
  while (r.next(line)) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(r.line_no(), 4u);
}

}  // namespace
}  // namespace ksparse
