#include "ksparse/core/csv.h"

#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace {

using test::fixture;
using test::TempDir;
using test::write_file;

using Rows = std::vector<std::vector<std::string>>;

Rows read_all(CsvReader& r, std::vector<std::size_t>* lines = nullptr) {
  Rows rows;
  std::vector<std::string> row;
  while (r.next(row)) {
    rows.push_back(row);
    if (lines) lines->push_back(r.line_no());
  }
  return rows;
}

// Message of the DataError raised while reading all of `content`.
std::string csv_error(const TempDir& tmp, const std::string& content, std::string* path) {
  auto p = write_file(tmp / "t.csv", content);
  *path = p.string();
  try {
    CsvReader r(p);
    read_all(r);
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DataError";
  return {};
}

TEST(CsvReader, QuotedFieldsNewlinesEscapesCrlfAndBom) {
  CsvReader r(fixture("io/quoted.csv"));
  EXPECT_EQ(r.header(), (std::vector<std::string>{"번호", "제목", "내용", "날짜"}));
  std::vector<std::size_t> lines;
  auto rows = read_all(r, &lines);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"1", "첫, 번째", "줄 하나\r\n줄 둘", "2020-01-01"}));
  EXPECT_EQ(rows[1],
            (std::vector<std::string>{"2", "두 번째", "그는 \"안녕\" 했다", "2020-01-02"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"3", "", "", "2020-01-03"}));
  // Record 1 spans lines 2-3, line 5 is empty.
  EXPECT_EQ(lines, (std::vector<std::size_t>{2, 4, 6}));
  EXPECT_EQ(r.records(), 3u);
}

TEST(CsvReader, ColumnLookupByName) {
  CsvReader r(fixture("io/quoted.csv"));
  EXPECT_EQ(r.column("내용"), 2u);
  EXPECT_EQ(r.find_column("날짜"), 3u);
  EXPECT_FALSE(r.find_column("본문").has_value());
  try {
    r.column("본문");
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), fixture("io/quoted.csv").string() +
                                         ": no column named \"본문\"; the header has: 번호, "
                                         "제목, 내용, 날짜");
  }
}

TEST(CsvReader, LfOnlyNoTrailingNewlineAndTabDelimiter) {
  TempDir tmp;
  auto p = write_file(tmp / "t.tsv", "a\tb\n1\t\"x\ty\"\n2\t3");
  CsvReader r(p, CsvOptions{'\t', true});
  auto rows = read_all(r);
  EXPECT_EQ(rows, (Rows{{"1", "x\ty"}, {"2", "3"}}));
}

TEST(CsvReader, WithoutHeaderFirstRecordFixesFieldCount) {
  TempDir tmp;
  auto p = write_file(tmp / "t.csv", "1,2\n3,4\n");
  CsvReader r(p, CsvOptions{',', false});
  EXPECT_TRUE(r.header().empty());
  EXPECT_EQ(read_all(r), (Rows{{"1", "2"}, {"3", "4"}}));
}

TEST(CsvReader, UnterminatedQuoteNamesOpeningLine) {
  TempDir tmp;
  std::string p;
  auto msg = csv_error(tmp, "a,b\n1,2\n3,\"open\nstill open\n", &p);
  EXPECT_EQ(msg, p + ":3: unterminated quoted field (field 2 of the record starting at line 3); "
                     "add the closing '\"'");
}

TEST(CsvReader, WrongFieldCountNamesRecordLine) {
  TempDir tmp;
  std::string p;
  auto msg = csv_error(tmp, "a,b,c\n1,\"2\n2\",3\n4,5\n", &p);
  EXPECT_EQ(msg, p + ":4: expected 3 fields (as in the header), got 2");
}

TEST(CsvReader, StrayQuoteInUnquotedField) {
  TempDir tmp;
  std::string p;
  auto msg = csv_error(tmp, "a,b\n1,2 \"inch\"\n", &p);
  EXPECT_EQ(msg, p + ":2: stray '\"' inside unquoted field 2; quote the whole field and double the "
                     "quote (\"\")");
}

TEST(CsvReader, CharacterAfterClosingQuote) {
  TempDir tmp;
  std::string p;
  auto msg = csv_error(tmp, "a,b\n\"x\"y,2\n", &p);
  EXPECT_EQ(msg, p + ":2: unexpected character 'y' after a closing quote in field 1; quotes inside "
                     "a quoted field are written \"\"");
}

TEST(CsvReader, InvalidUtf8) {
  TempDir tmp;
  std::string p;
  auto msg = csv_error(tmp, "a,b\n1,ok\n2,ab\xc3\n", &p);
  EXPECT_EQ(msg, p + ":3: invalid UTF-8 in field 2 at byte offset 2 of the field; re-encode the "
                     "file as UTF-8");
}

TEST(CsvReader, EmptyFileHasNoHeader) {
  TempDir tmp;
  auto p = write_file(tmp / "t.csv", "");
  try {
    CsvReader r(p);
    FAIL() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()),
              p.string() + ":1: empty file; expected a header line naming the columns");
  }
}

TEST(CsvReader, LargeFieldCrossesBufferBoundary) {
  TempDir tmp;
  std::string big(200000, 'x');
  auto p = write_file(tmp / "t.csv", "a,b\n\"" + big + "\",\"" + big + "\"\"\"\n");
  CsvReader r(p);
  auto rows = read_all(r);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], big);
  EXPECT_EQ(rows[0][1], big + "\"");
}

}  // namespace
}  // namespace ksparse
