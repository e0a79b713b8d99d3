#include "ksparse/synth/cache.h"

#include <gtest/gtest.h>

#include "common/test_util.h"
#include "ksparse/core/error.h"

namespace ksparse::synth {
namespace {

CacheKey key(std::string doc, std::size_t item) {
  return {"model-a", "tmpl-1", R"({"seed":1})", std::move(doc), item};
}

TEST(GenerationCache, PutGetAndReopen) {
  test::TempDir dir;
  const auto path = dir / "sub" / "cache.sqlite";
  CachedGeneration g{"훈민정음 반포 연도\"}", 120, 9, -0.5, "stop"};
  {
    GenerationCache cache(path);
    EXPECT_EQ(cache.get(key("d1", 0)), std::nullopt);
    cache.put({{key("d1", 0), g}, {key("d1", 1), {"x", 1, 2, std::nullopt, "length"}}});
    EXPECT_EQ(cache.get(key("d1", 0)), g);
    EXPECT_EQ(cache.size(), 2u);
  }
  GenerationCache again(path);
  EXPECT_EQ(again.get(key("d1", 0)), g);
  const auto nolp = again.get(key("d1", 1));
  ASSERT_TRUE(nolp);
  EXPECT_FALSE(nolp->mean_logprob);
  EXPECT_EQ(nolp->finish, "length");
}

TEST(GenerationCache, EveryKeyPartMatters) {
  test::TempDir dir;
  GenerationCache cache(dir / "c.sqlite");
  cache.put({{key("d1", 0), {"base", 1, 1, -1.0, "stop"}}});
  CacheKey k = key("d1", 0);
  k.model = "model-b";
  EXPECT_FALSE(cache.get(k));
  k = key("d1", 0);
  k.template_hash = "tmpl-2";
  EXPECT_FALSE(cache.get(k));
  k = key("d1", 0);
  k.params = R"({"seed":2})";
  EXPECT_FALSE(cache.get(k));
  EXPECT_FALSE(cache.get(key("d2", 0)));
  EXPECT_FALSE(cache.get(key("d1", 1)));
  // Same key again: replaced, not duplicated.
  cache.put({{key("d1", 0), {"new", 1, 1, -1.0, "stop"}}});
  EXPECT_EQ(cache.get(key("d1", 0))->text, "new");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(GenerationCache, NotACacheFileIsIoError) {
  test::TempDir dir;
  const auto path = test::write_file(dir / "junk.sqlite", std::string(4096, 'x'));
  EXPECT_THROW(GenerationCache{path}, IoError);
}

}  // namespace
}  // namespace ksparse::synth
