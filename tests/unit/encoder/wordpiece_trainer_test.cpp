#include "ksparse/encoder/wordpiece_trainer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace {

using Tokens = std::vector<std::string>;
const Tokens kSpecials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

Tokens with_specials(const Tokens& rest) {
  Tokens v = kSpecials;
  v.insert(v.end(), rest.begin(), rest.end());
  return v;
}

WordPieceTokenizer train(const std::string& corpus, WordPieceTrainerOptions o) {
  WordPieceTrainer trainer(o);
  trainer.add_text(corpus);
  return trainer.train();
}

// Corpus "ab ab ab abc abc b": words ab x3, abc x2, b x1.
// Frequency: (a,##b) occurs 5 times -> "ab"; then (ab,##c) 2 times -> "abc".
TEST(WordPieceTrainer, ThreeWordsByFrequency) {
  WordPieceTrainerOptions o;
  o.min_frequency = 1;
  auto tok = train("ab ab ab abc abc b", o);
  EXPECT_EQ(tok.vocab(), with_specials({"a", "b", "c", "##a", "##b", "##c", "ab", "abc"}));
  EXPECT_EQ(tok.tokenize("abcab ABC"), (Tokens{"abc", "##a", "##b", "abc"}));
  // min_frequency 3 stops before "abc" (2 occurrences).
  o.min_frequency = 3;
  EXPECT_EQ(train("ab ab ab abc abc b", o).vocab(),
            with_specials({"a", "b", "c", "##a", "##b", "##c", "ab"}));
}

// Likelihood count(xy)/(count(x)count(y)): (a,##b) 5/25 and (##b,##c) 2/10 tie at 0.2, and "##b"
// sorts before "a", so "##bc" comes first; then (a,##b) 3/15 ties (a,##bc) 2/10 and "##b" <
// "##bc" gives "ab"; then (a,##bc) 2/(2*2) gives "abc".
TEST(WordPieceTrainer, ThreeWordsByLikelihood) {
  WordPieceTrainerOptions o;
  o.min_frequency = 1;
  o.score = MergeScore::kLikelihood;
  EXPECT_EQ(train("ab ab ab abc abc b", o).vocab(),
            with_specials({"a", "b", "c", "##a", "##b", "##c", "##bc", "ab", "abc"}));
}

// Korean: (한,##국) x3 -> 한국; then 한국+##어 and 한국+##인 tie at 1 and 어 (U+C5B4) < 인
// (U+C778).
TEST(WordPieceTrainer, ThreeKoreanWordsAndVocabSizeCap) {
  WordPieceTrainerOptions o;
  o.min_frequency = 1;
  auto tok = train("한국 한국어 한국인", o);
  EXPECT_EQ(tok.vocab(), with_specials({"국", "어", "인", "한", "##국", "##어", "##인", "##한",
                                        "한국", "한국어", "한국인"}));
  EXPECT_EQ(tok.tokenize("한국인 한국말"), (Tokens{"한국인", "[UNK]"}));
  o.vocab_size = 14;
  EXPECT_EQ(train("한국 한국어 한국인", o).vocab().back(), "한국");
}

TEST(WordPieceTrainer, LimitAlphabetDropsRareCharacters) {
  WordPieceTrainerOptions o;
  o.min_frequency = 1;
  o.limit_alphabet = 2;  // a (5) and b (6) survive, c (2) goes, and so does every word with a c
  auto tok = train("ab ab ab abc abc b", o);
  EXPECT_EQ(tok.vocab(), with_specials({"a", "b", "##a", "##b", "ab"}));
  EXPECT_EQ(tok.tokenize("abc"), (Tokens{"[UNK]"}));
}

TEST(WordPieceTrainer, WritesLoadableArtifactsWithSpec) {
  test::TempDir dir;
  auto corpus = test::write_file(dir / "corpus.txt", "Hello hello HELLO\r\n한국어 한국\n");
  WordPieceTrainerOptions o;
  o.min_frequency = 2;
  WordPieceTrainer trainer(o);
  trainer.add_file(corpus);
  auto tok = trainer.train();
  EXPECT_EQ(trainer.stats().lines, 2u);
  EXPECT_EQ(trainer.stats().words, 5u);
  EXPECT_EQ(trainer.stats().unique_words, 3u);  // lowercased: hello, 한국어, 한국
  write_trained_tokenizer(dir / "out", tok, trainer.options(), trainer.stats());
  EXPECT_EQ(WordPieceTokenizer::from_file(dir / "out" / "vocab.txt").vocab(), tok.vocab());
  EXPECT_EQ(WordPieceTokenizer::from_file(dir / "out").vocab(), tok.vocab());
  auto spec = nlohmann::json::parse(test::read_file(dir / "out" / "trainer_spec.json"));
  EXPECT_EQ(spec["options"]["min_frequency"], 2);
  EXPECT_EQ(spec["options"]["normalizer"]["strip_accents"], false);
  EXPECT_EQ(spec["stats"]["vocab_size"], tok.vocab_size());
  EXPECT_EQ(tok.tokenize("HELLO"), (Tokens{"hello"}));
}

TEST(WordPieceTrainer, RejectsBadOptionsAndInput) {
  WordPieceTrainerOptions o;
  o.min_frequency = 0;
  EXPECT_THROW(WordPieceTrainer{o}, ConfigError);
  o = {};
  o.special_tokens = {"[PAD]"};
  EXPECT_THROW(WordPieceTrainer{o}, ConfigError);
  WordPieceTrainer empty;
  empty.add_text("  ");
  EXPECT_THROW(empty.train(), DataError);
  test::TempDir dir;
  auto bad = test::write_file(dir / "bad.txt", "ok\nbad \xff byte\n");
  WordPieceTrainer t;
  try {
    t.add_file(bad);
    FAIL() << "invalid UTF-8 accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.txt:2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ksparse
