#include "ksparse/encoder/wordpiece.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace {

using Tokens = std::vector<std::string>;
using test::fixture;
using test::TempDir;
using test::write_file;

// Lowercase without accent stripping, so Hangul stays syllables (the BERT-uncased default would
// turn it into jamo, which tiny_vocab.txt does not have).
WordPieceTokenizer tiny(bool cleanup = true) {
  WordPieceConfig config;
  config.normalizer.strip_accents = false;
  config.decode_cleanup = cleanup;
  return WordPieceTokenizer::from_vocab_txt(fixture("encoder/tiny_vocab.txt"), config);
}

TEST(WordPiece, UncasedDefaultsSplitHangulIntoJamo) {
  auto tok = WordPieceTokenizer::from_vocab_txt(fixture("encoder/tiny_vocab.txt"));
  EXPECT_EQ(tok.tokenize("한국 Unaffable"), (Tokens{"[UNK]", "un", "##aff", "##able"}));
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  auto tok = tiny();
  EXPECT_EQ(tok.vocab_size(), 21u);
  EXPECT_EQ(tok.tokenize_word("unaffable"), (Tokens{"un", "##aff", "##able"}));
  EXPECT_EQ(tok.tokenize_word("aab"), (Tokens{"a", "##a", "##b"}));
  EXPECT_EQ(tok.tokenize_word("한국인"), (Tokens{"한국", "##인"}));
  // One uncoverable piece makes the whole word [UNK].
  EXPECT_EQ(tok.tokenize_word("unaffablez"), (Tokens{"[UNK]"}));
  EXPECT_EQ(tok.tokenize_word("한국말"), (Tokens{"[UNK]"}));
}

TEST(WordPiece, OverlongWordIsUnknown) {
  WordPieceConfig config;
  config.max_input_chars_per_word = 3;
  auto tok = WordPieceTokenizer::from_vocab_txt(fixture("encoder/tiny_vocab.txt"), config);
  EXPECT_EQ(tok.tokenize_word("한국어"), (Tokens{"한국", "##어"}));  // 3 code points, 9 bytes
  EXPECT_EQ(tok.tokenize_word("aaaa"), (Tokens{"[UNK]"}));
}

TEST(WordPiece, EncodeAddsSpecialTokensAndTruncates) {
  auto tok = tiny();
  Encoding e = tok.encode("Unaffable, 한국어!");
  EXPECT_EQ(e.tokens,
            (Tokens{"[CLS]", "un", "##aff", "##able", ",", "한국", "##어", "[UNK]", "[SEP]"}));
  EXPECT_EQ(e.ids, (std::vector<std::int32_t>{2, 5, 6, 7, 15, 12, 13, 1, 3}));
  EncodeOptions cut;
  cut.max_length = 4;
  EXPECT_EQ(tok.encode("Unaffable, 한국어!", cut).tokens,
            (Tokens{"[CLS]", "un", "##aff", "[SEP]"}));
  cut.add_special_tokens = false;
  EXPECT_EQ(tok.encode("Unaffable, 한국어!", cut).tokens, (Tokens{"un", "##aff", "##able", ","}));
  cut.max_length = 1;
  cut.add_special_tokens = true;
  EXPECT_THROW(tok.encode("a", cut), ConfigError);
}

TEST(WordPiece, SpecialTokensMatchVerbatimInRawText) {
  auto tok = tiny();
  EXPECT_EQ(tok.tokenize("a[MASK]a [SEP]"), (Tokens{"a", "[MASK]", "a", "[SEP]"}));
  // Lowercased forms are ordinary text: "[", "mask", "]".
  EXPECT_EQ(tok.tokenize("[mask]"), (Tokens{"[UNK]", "[UNK]", "[UNK]"}));
}

// Cleanup works on each decoded token with its leading space (as HF's WordPiece decoder does), so
// only " ." " ," " ?" " !" ever apply to BERT tokens: "do" + " not" never form " do not".
TEST(WordPiece, DecodeGluesContinuationsAndCleansUp) {
  auto tok = tiny();
  Encoding e = tok.encode("unaffable , 한국어 . do not ' s");
  EXPECT_EQ(tok.decode(e.ids), "unaffable, 한국어. do not ' s");
  EXPECT_EQ(tok.decode(e.ids, /*skip_special_tokens=*/false),
            "[CLS] unaffable, 한국어. do not ' s [SEP]");
  EXPECT_EQ(tiny(/*cleanup=*/false).decode(e.ids), "unaffable , 한국어 . do not ' s");
  std::vector<std::int32_t> bad = {5, 99};
  EXPECT_THROW(tok.decode(bad), DataError);
}

TEST(WordPiece, VocabularyErrorsNameTheLine) {
  TempDir dir;
  auto dup = write_file(dir / "dup.txt", "[UNK]\na\r\nb\na \n");
  try {
    WordPieceTokenizer::from_vocab_txt(dup);
    FAIL() << "duplicate accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("dup.txt:4"), std::string::npos) << e.what();
  }
  auto no_unk = write_file(dir / "no_unk.txt", "a\nb\n");
  EXPECT_THROW(WordPieceTokenizer::from_vocab_txt(no_unk), ConfigError);
  EXPECT_THROW(WordPieceTokenizer::from_vocab_txt(dir / "missing.txt"), IoError);
}

TEST(WordPiece, TokenizerJsonRoundTrip) {
  TempDir dir;
  WordPieceConfig config;
  config.normalizer.strip_accents = false;
  config.max_input_chars_per_word = 50;
  auto tok = WordPieceTokenizer::from_vocab_txt(fixture("encoder/tiny_vocab.txt"), config);
  tok.save_tokenizer_json(dir / "tokenizer.json");
  tok.save_vocab_txt(dir / "vocab.txt");
  auto back = WordPieceTokenizer::from_file(dir.path());  // directory: tokenizer.json wins
  EXPECT_EQ(back.vocab(), tok.vocab());
  EXPECT_EQ(back.config().normalizer.strip_accents, std::optional<bool>(false));
  EXPECT_EQ(back.config().max_input_chars_per_word, 50u);
  EXPECT_EQ(back.encode("Unaffable, 한국어 [MASK]").ids,
            tok.encode("Unaffable, 한국어 [MASK]").ids);
  EXPECT_EQ(WordPieceTokenizer::from_file(dir / "vocab.txt").vocab(), tok.vocab());
}

TEST(WordPiece, RejectsNonWordPieceTokenizerJson) {
  TempDir dir;
  auto bpe = write_file(dir / "tokenizer.json",
                        R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})");
  try {
    WordPieceTokenizer::from_tokenizer_json(bpe);
    FAIL() << "BPE accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("BPE"), std::string::npos) << e.what();
  }
  auto broken = write_file(dir / "broken.json", "{\"model\": ");
  EXPECT_THROW(WordPieceTokenizer::from_tokenizer_json(broken), IoError);
}

}  // namespace
}  // namespace ksparse
