#include "ksparse/core/hangul.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "ksparse/core/text.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

TEST(HangulSyllable, DecomposeAndComposeByArithmetic) {
  EXPECT_TRUE(is_hangul_syllable(U'가'));
  EXPECT_TRUE(is_hangul_syllable(U'힣'));
  EXPECT_FALSE(is_hangul_syllable(U'ㄱ'));
  EXPECT_FALSE(is_hangul_syllable(U'a'));
  EXPECT_EQ(decompose_syllable(U'가'), (HangulParts{0, 0, 0}));
  EXPECT_EQ(decompose_syllable(U'한'), (HangulParts{18, 0, 4}));  // ㅎ ㅏ ㄴ
  EXPECT_EQ(decompose_syllable(U'힣'), (HangulParts{18, 20, 27}));
  EXPECT_EQ(decompose_syllable(U'닭'), (HangulParts{3, 0, 9}));  // ㄷ ㅏ ㄺ
  EXPECT_FALSE(decompose_syllable(U'a').has_value());
  EXPECT_EQ(compose_syllable({18, 0, 4}), U'한');
  EXPECT_FALSE(compose_syllable({19, 0, 0}).has_value());
  EXPECT_FALSE(compose_syllable({0, 0, 28}).has_value());
  EXPECT_FALSE(compose_syllable({-1, 0, 0}).has_value());
}

TEST(HangulSyllable, EverySyllableRoundTrips) {
  for (char32_t c = kHangulSyllableFirst; c <= kHangulSyllableLast; ++c) {
    const auto p = decompose_syllable(c);
    ASSERT_TRUE(p.has_value());
    ASSERT_EQ(compose_syllable(*p), c);
  }
}

TEST(HangulJamo, ConjoiningAndCompatibilityTables) {
  EXPECT_TRUE(is_conjoining_jamo(U'\u1100'));
  EXPECT_TRUE(is_conjoining_jamo(U'\u11A8'));
  EXPECT_FALSE(is_conjoining_jamo(U'ㄱ'));
  EXPECT_TRUE(is_compat_jamo(U'ㄱ'));
  EXPECT_TRUE(is_compat_jamo(U'ㅣ'));
  EXPECT_FALSE(is_compat_jamo(U'가'));
  EXPECT_EQ(initial_jamo(0), U'\u1100');
  EXPECT_EQ(medial_jamo(20), U'\u1175');
  EXPECT_EQ(final_jamo(1), U'\u11A8');
  EXPECT_EQ(final_jamo(27), U'\u11C2');
  EXPECT_EQ(initial_compat_jamo(0), U'ㄱ');
  EXPECT_EQ(initial_compat_jamo(11), U'ㅇ');
  EXPECT_EQ(initial_compat_jamo(18), U'ㅎ');
  EXPECT_EQ(medial_compat_jamo(0), U'ㅏ');
  EXPECT_EQ(medial_compat_jamo(20), U'ㅣ');
  EXPECT_EQ(final_compat_jamo(3), U'ㄳ');
  EXPECT_EQ(final_compat_jamo(21), U'ㅇ');
  EXPECT_EQ(final_compat_jamo(27), U'ㅎ');
  EXPECT_EQ(initial_index(U'ㄸ'), 4);
  EXPECT_EQ(initial_index(U'\u1104'), 4);
  EXPECT_FALSE(initial_index(U'ㄳ').has_value());  // clusters only occur as finals
  EXPECT_EQ(final_index(U'ㄳ'), 3);
  EXPECT_EQ(final_index(U'\u11AA'), 3);
  EXPECT_FALSE(final_index(U'ㄸ').has_value());  // ㄸ never closes a syllable
  EXPECT_EQ(medial_index(U'ㅘ'), 9);
  EXPECT_EQ(medial_index(U'\u116A'), 9);
  EXPECT_FALSE(medial_index(U'ㄱ').has_value());
  EXPECT_EQ(to_compat_jamo(U'\u1100'), U'ㄱ');
  EXPECT_EQ(to_compat_jamo(U'\u11A8'), U'ㄱ');
  EXPECT_EQ(to_compat_jamo(U'\u1161'), U'ㅏ');
  EXPECT_EQ(to_compat_jamo(U'a'), U'a');
}

TEST(HangulJamo, CompatTablesAgreeWithNfkc) {
  // NFKC maps each compatibility jamo to its conjoining counterpart; our tables must agree.
  for (int i = 0; i < kHangulInitialCount; ++i) {
    std::string compat;
    utf8_append(compat, initial_compat_jamo(i));
    std::string conj;
    utf8_append(conj, initial_jamo(i));
    EXPECT_EQ(nfkc(compat), conj) << i;
  }
  for (int i = 0; i < kHangulMedialCount; ++i) {
    std::string compat;
    utf8_append(compat, medial_compat_jamo(i));
    std::string conj;
    utf8_append(conj, medial_jamo(i));
    EXPECT_EQ(nfkc(compat), conj) << i;
  }
}

TEST(HangulJamo, DecomposeComposeMatchNfdNfc) {
  const std::string text = "한국어 BERT 모델을 학습했다 닭 힣";
  const std::string jamo = hangul_decompose(text);
  EXPECT_EQ(jamo.find("한"), std::string::npos);
  EXPECT_EQ(hangul_decompose("한"), "\u1112\u1161\u11AB");
  EXPECT_EQ(hangul_compose(jamo), text);
  EXPECT_EQ(nfc(jamo), text);
  // LV syllable followed by a trailing jamo composes to LVT.
  EXPECT_EQ(hangul_compose("하\u11AB"), "한");
  // A lone leading consonant stays.
  EXPECT_EQ(hangul_compose("\u1112x"), "\u1112x");
  EXPECT_EQ(hangul_compose(""), "");
}

TEST(HangulJamo, CompatibilityJamoForm) {
  EXPECT_EQ(hangul_to_compat_jamo("한국"), "ㅎㅏㄴㄱㅜㄱ");
  EXPECT_EQ(hangul_to_compat_jamo("닭 값 BERT"), "ㄷㅏㄺ ㄱㅏㅄ BERT");
  EXPECT_EQ(hangul_to_compat_jamo("\u1112\u1161\u11AB"), "ㅎㅏㄴ");
  EXPECT_EQ(hangul_to_compat_jamo("ㅋㅋ"), "ㅋㅋ");
  EXPECT_EQ(compat_jamo_to_hangul("ㅎㅏㄴㄱㅜㄱㅇㅓ"), "한국어");
  EXPECT_EQ(compat_jamo_to_hangul("ㄷㅏㄺ ㄱㅏㅄ"), "닭 값");
  EXPECT_EQ(compat_jamo_to_hangul("ㅋㅋ"), "ㅋㅋ");
  EXPECT_EQ(compat_jamo_to_hangul("ㄸㅓㄸㅓㄱ"), "떠떡");
  const std::string text = "데이터 컴퓨터 네트워크 읽어요 앉았다";
  EXPECT_EQ(compat_jamo_to_hangul(hangul_to_compat_jamo(text)), text);
}

TEST(Romanize, JamoTables) {
  const std::vector<std::string> initials = {"g",  "kk", "n", "d",  "tt", "r", "m", "b", "pp", "s",
                                             "ss", "",   "j", "jj", "ch", "k", "t", "p", "h"};
  for (int i = 0; i < kHangulInitialCount; ++i) EXPECT_EQ(romanize_initial(i), initials[i]) << i;
  const std::vector<std::string> medials = {"a",  "ae", "ya", "yae", "eo", "e",  "yeo",
                                            "ye", "o",  "wa", "wae", "oe", "yo", "u",
                                            "wo", "we", "wi", "yu",  "eu", "ui", "i"};
  for (int i = 0; i < kHangulMedialCount; ++i) EXPECT_EQ(romanize_medial(i), medials[i]) << i;
  EXPECT_EQ(romanize_final(0), "");
  EXPECT_EQ(romanize_final(*final_index(U'ㄱ')), "k");
  EXPECT_EQ(romanize_final(*final_index(U'ㅅ')), "t");
  EXPECT_EQ(romanize_final(*final_index(U'ㅂ')), "p");
  EXPECT_EQ(romanize_final(*final_index(U'ㄹ')), "l");
  EXPECT_EQ(romanize_final(*final_index(U'ㅇ')), "ng");
  EXPECT_EQ(romanize_final(*final_index(U'ㄻ')), "m");
  EXPECT_EQ(romanize_final(*final_index(U'ㄺ')), "k");
  EXPECT_EQ(romanize_final(*final_index(U'ㅎ')), "t");
}

// Official romanizations (place names from the Ministry's examples and road signs, and common
// loanwords).
TEST(Romanize, KnownOfficialForms) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"한국어", "hangugeo"},
      {"서울", "seoul"},
      {"부산", "busan"},
      {"대한민국", "daehanminguk"},
      {"신라", "silla"},
      {"종로", "jongno"},
      {"백마", "baengma"},
      {"독립", "dongnip"},
      {"데이터", "deiteo"},
      {"컴퓨터", "keompyuteo"},
      {"네트워크", "neteuwokeu"},
      {"왕십리", "wangsimni"},
      {"별내", "byeollae"},
      {"인왕리", "inwangni"},
      {"청량리", "cheongnyangni"},
      {"설악", "seorak"},
      {"속리산", "songnisan"},
      {"여의도", "yeouido"},
      {"낙동강", "nakdonggang"},
      {"벚꽃", "beotkkot"},
      {"한밭", "hanbat"},
      {"울산", "ulsan"},
      {"제주도", "jejudo"},
      {"대관령", "daegwallyeong"},
      {"극락", "geungnak"},
      {"국민", "gungmin"},
      {"십만", "simman"},
      {"좋고", "joko"},
      {"놓다", "nota"},
      {"같이", "gachi"},
      {"해돋이", "haedoji"},
      {"굳이", "guji"},
      {"묵호", "mukho"},
      {"집현전", "jiphyeonjeon"},
      {"합덕", "hapdeok"},
      {"팔당", "paldang"},
      {"설날", "seollal"},
      {"빨리", "ppalli"},
      {"좋아", "joa"},
      {"많이", "mani"},
      {"읽어", "ilgeo"},
      {"앉아", "anja"},
      {"라디오", "radio"},
      {"강아지", "gangaji"},
      {"백로", "baengno"},
      {"협력", "hyeomnyeok"},
  };
  for (const auto& [hangul, roman] : cases) {
    EXPECT_EQ(romanize(hangul), roman) << hangul;
  }
}

TEST(Romanize, MixedTextSpacesAndNonHangulPassThrough) {
  EXPECT_EQ(romanize("BERT 모델을 학습"), "BERT modereul hakseup");
  EXPECT_EQ(romanize("서울, 2023년!"), "seoul, 2023nyeon!");
  EXPECT_EQ(romanize(""), "");
  EXPECT_EQ(romanize("hello"), "hello");
  // No assimilation across a space: 한 국 stays han guk.
  EXPECT_EQ(romanize("한 국"), "han guk");
  // NFD input is composed first.
  EXPECT_EQ(romanize(hangul_decompose("종로")), "jongno");
  // Lone jamo by their value.
  EXPECT_EQ(romanize("ㅋㅋ"), "kk");
  EXPECT_EQ(romanize("ㅇㅏ"), "nga");
  EXPECT_TRUE(utf8_valid(romanize("서\xFF울")));
}

TEST(Romanize, WithoutSoundChangesIsLetterLevel) {
  const RomanizeOptions letters{.sound_changes = false};
  EXPECT_EQ(romanize("한국어", letters), "hangukeo");
  EXPECT_EQ(romanize("신라", letters), "sinra");
  EXPECT_EQ(romanize("종로", letters), "jongro");
  EXPECT_EQ(romanize("데이터", letters), "deiteo");
}

}  // namespace
}  // namespace ksparse
