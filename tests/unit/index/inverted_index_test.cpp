#include "ksparse/index/inverted_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/index/bm25.h"
#include "ksparse/index/index_builder.h"

namespace ksparse {
namespace {

// prefix + n. (Avoids `"literal" + std::to_string(n)`, which trips GCC 12's -Wrestrict.)
std::string numbered(std::string prefix, std::size_t n) {
  prefix += std::to_string(n);
  return prefix;
}

using ::testing::AllOf;
using ::testing::HasSubstr;

// Three documents, lengths 3, 2, 4.
InvertedIndex tiny_bm25(Bm25Params p = {}) {
  IndexBuilder b(IndexType::kBm25, p);
  b.add_tokens("d1", {"apple", "banana", "apple"});
  b.add_tokens("d2", {"banana", "cherry"});
  b.add_tokens("d3", {"cherry", "cherry", "date", "apple"});
  b.set_metadata({{"analyzer", {{"kind", "bigram"}}}});
  return b.build("tiny");
}

void expect_tiny_contents(const InvertedIndex& idx) {
  EXPECT_EQ(idx.type(), IndexType::kBm25);
  EXPECT_EQ(idx.num_docs(), 3u);
  EXPECT_EQ(idx.num_terms(), 4u);
  EXPECT_EQ(idx.stats().num_postings, 7u);
  EXPECT_EQ(idx.stats().total_doc_length, 9u);
  EXPECT_DOUBLE_EQ(idx.stats().avg_doc_length, 3.0);
  // Term ids are ranks in sorted order.
  EXPECT_EQ(idx.term(0), "apple");
  EXPECT_EQ(idx.term(3), "date");
  EXPECT_EQ(idx.find_term("cherry"), 2u);
  EXPECT_FALSE(idx.find_term("banan").has_value());
  EXPECT_FALSE(idx.find_term("zzz").has_value());
  EXPECT_EQ(idx.doc_id(1), "d2");
  EXPECT_EQ(idx.doc_length(2), 4u);
  EXPECT_EQ(idx.metadata()["analyzer"]["kind"], "bigram");

  const PostingList apple = idx.postings(0);
  ASSERT_EQ(apple.size(), 2u);
  EXPECT_EQ(apple.docs[0], 0u);
  EXPECT_EQ(apple.docs[1], 2u);
  const Bm25Params p = idx.bm25_params();
  const float idf = bm25_idf(3, 2);
  EXPECT_FLOAT_EQ(apple.scores[0], bm25_term_score(idf, 2, 3, 3.0f, p));
  EXPECT_FLOAT_EQ(apple.scores[1], bm25_term_score(idf, 1, 4, 3.0f, p));
  EXPECT_FLOAT_EQ(apple.max_score, std::max(apple.scores[0], apple.scores[1]));
  ASSERT_EQ(apple.block_last_docs.size(), 1u);
  EXPECT_EQ(apple.block_last_docs[0], 2u);
  EXPECT_FLOAT_EQ(apple.block_max_scores[0], apple.max_score);
}

TEST(InvertedIndex, BuildsBm25InMemory) { expect_tiny_contents(tiny_bm25()); }

TEST(InvertedIndex, SaveAndMapRoundTrip) {
  test::TempDir dir;
  tiny_bm25({1.2f, 0.75f}).save(dir / "sub/index.ksidx");
  const InvertedIndex idx = InvertedIndex::open(dir / "sub/index.ksidx");
  EXPECT_FLOAT_EQ(idx.bm25_params().k1, 1.2f);
  EXPECT_FLOAT_EQ(idx.bm25_params().b, 0.75f);
  expect_tiny_contents(idx);
  EXPECT_NO_THROW(idx.verify());
}

TEST(InvertedIndex, ImpactIndexStoresWeightsVerbatim) {
  IndexBuilder b(IndexType::kImpact);
  const TermId x = b.dictionary().add("x");
  const TermId y = b.dictionary().add("y");
  b.add("a", SparseVector::from_pairs({{x, 0.25f}, {y, 3.0f}}), 0);
  b.add("b", SparseVector::from_pairs({{y, 1.5f}}), 0);
  const InvertedIndex idx = b.build();
  EXPECT_EQ(idx.type(), IndexType::kImpact);
  const PostingList py = idx.postings(*idx.find_term("y"));
  ASSERT_EQ(py.size(), 2u);
  EXPECT_EQ(py.scores[0], 3.0f);
  EXPECT_EQ(py.scores[1], 1.5f);
  EXPECT_EQ(py.max_score, 3.0f);
}

TEST(InvertedIndex, BlockMaximaCoverLongLists) {
  IndexBuilder b(IndexType::kImpact);
  const TermId t = b.dictionary().add("t");
  const std::size_t n = 3 * kPostingBlockSize + 5;
  for (std::size_t i = 0; i < n; ++i) {
    b.add(numbered("d", i), SparseVector::from_pairs({{t, float(i % 97 + 1)}}), 0);
  }
  const InvertedIndex idx = b.build();
  const PostingList l = idx.postings(0);
  ASSERT_EQ(l.block_last_docs.size(), 4u);
  for (std::size_t blk = 0; blk < 4; ++blk) {
    const std::size_t begin = blk * kPostingBlockSize;
    const std::size_t end = std::min(n, begin + kPostingBlockSize);
    float mx = 0;
    for (std::size_t i = begin; i < end; ++i) mx = std::max(mx, l.scores[i]);
    EXPECT_EQ(l.block_max_scores[blk], mx);
    EXPECT_EQ(l.block_last_docs[blk], l.docs[end - 1]);
  }
  EXPECT_EQ(l.max_score, 97.0f);
}

TEST(InvertedIndex, BuilderRejectsBadInput) {
  IndexBuilder b(IndexType::kBm25);
  b.add_tokens("d1", {"a"});
  EXPECT_THROW(b.add_tokens("d1", {"b"}), DataError);
  EXPECT_THROW(b.add_tokens("", {"b"}), DataError);
  EXPECT_THROW(b.add("d9", SparseVector::from_pairs({{42, 1.0f}}), 1), DataError);
  EXPECT_THROW(b.add("d9", SparseVector::from_pairs({{0, -1.0f}}), 1), DataError);
  EXPECT_THROW(b.add("d9", SparseVector::from_pairs({{0, 3.0f}}), 2), DataError);  // tf > length
  EXPECT_THROW(IndexBuilder(IndexType::kBm25, {0.9f, 2.0f}), ConfigError);
}

class CorruptIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "index.ksidx";
    tiny_bm25().save(path_);
    bytes_ = test::read_file(path_);
  }
  void write(const std::string& bytes) { test::write_file(path_, bytes); }
  std::string open_error() {
    try {
      InvertedIndex::open(path_).verify();
    } catch (const IoError& e) {
      return e.what();
    }
    return "(no error)";
  }
  test::TempDir dir_;
  std::filesystem::path path_;
  std::string bytes_;
};

TEST_F(CorruptIndex, MissingFile) {
  std::filesystem::remove(path_);
  EXPECT_THAT(open_error(), AllOf(HasSubstr(path_.string()), HasSubstr("ksparse index build")));
}

TEST_F(CorruptIndex, TruncatedFile) {
  write(bytes_.substr(0, bytes_.size() - 10));
  EXPECT_THAT(open_error(), AllOf(HasSubstr(path_.string()), HasSubstr("truncated")));
  write(bytes_.substr(0, 20));
  EXPECT_THAT(open_error(), AllOf(HasSubstr(path_.string()), HasSubstr("truncated")));
}

TEST_F(CorruptIndex, BadMagic) {
  std::string b = bytes_;
  b[0] = 'X';
  write(b);
  EXPECT_THAT(open_error(), AllOf(HasSubstr(path_.string()), HasSubstr("magic")));
}

TEST_F(CorruptIndex, WrongFormatVersionNamesBothVersions) {
  std::string b = bytes_;
  const std::uint32_t version = 99;
  std::memcpy(b.data() + 8, &version, sizeof(version));
  write(b);
  EXPECT_THAT(open_error(), AllOf(HasSubstr(path_.string()), HasSubstr("version 99"),
                                  HasSubstr(numbered("version ", InvertedIndex::kFormatVersion))));
}

TEST_F(CorruptIndex, FlippedPostingByteFailsChecksum) {
  std::string b = bytes_;
  b[b.size() - 3] ^= 0x5a;
  write(b);
  EXPECT_THAT(open_error(), AllOf(HasSubstr(path_.string()), HasSubstr("checksum")));
}

TEST_F(CorruptIndex, NotAnIndex) {
  write(std::string(4096, 'a'));
  EXPECT_THAT(open_error(), HasSubstr("not a ksparse index"));
}

}  // namespace
}  // namespace ksparse
