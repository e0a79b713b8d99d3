#include "ksparse/core/config.h"

#include <gtest/gtest.h>

#include <functional>

#include "common/test_util.h"
#include "ksparse/core/datasets.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace {

using test::fixture;

std::string config_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError";
  return {};
}

// A miniature options struct mapped the way later stages map theirs.
struct Bm25Options {
  double k1 = 0.9;
  double b = 0.4;
  int top_k = 10;
  std::string stopwords;
};

Bm25Options bm25_from(const ConfigTable& t) {
  t.expect_keys({"k1", "b", "top_k", "stopwords"});
  Bm25Options o;
  o.k1 = t.get("k1", o.k1);
  o.b = t.get("b", o.b);
  o.top_k = t.get("top_k", o.top_k);
  o.stopwords = t.get("stopwords", o.stopwords);
  return o;
}

TEST(Config, MapsTablesOntoOptionsWithDefaults) {
  auto cfg = load_config(fixture("io/config.toml"));
  auto o = bm25_from(cfg.table("index").table("bm25"));
  EXPECT_DOUBLE_EQ(o.k1, 1.2);
  EXPECT_DOUBLE_EQ(o.b, 1.0);  // integer accepted for a float
  EXPECT_EQ(o.top_k, 10);      // absent -> default
  EXPECT_EQ(o.stopwords, "stop.txt");
  EXPECT_EQ(cfg.table("index").table("bm25").name(), "index.bm25");
}

TEST(Config, ScalarsArraysAndKeys) {
  auto cfg = load_config(fixture("io/config.toml"));
  EXPECT_EQ(cfg.get<std::string>("name", ""), "demo");
  EXPECT_EQ(cfg.get<std::int64_t>("seed", 0), 7);
  EXPECT_EQ(cfg.get<std::uint64_t>("seed", 0), 7u);
  EXPECT_EQ(cfg.get("tags", std::vector<std::string>{}), (std::vector<std::string>{"ko", "en"}));
  EXPECT_TRUE(cfg.get("missing", true));
  EXPECT_EQ(cfg.keys(), (std::vector<std::string>{"data", "index", "name", "seed", "tags"}));
  EXPECT_TRUE(cfg.contains("index"));
  EXPECT_FALSE(cfg.contains("nope"));
  EXPECT_EQ(cfg.require<int>("seed"), 7);
}

TEST(Config, AbsentTableIsEmptyAndGivesDefaults) {
  auto cfg = load_config(fixture("io/config.toml"));
  auto t = cfg.table("encoder").table("train");
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.name(), "encoder.train");
  EXPECT_EQ(t.get("epochs", 3), 3);
  EXPECT_NO_THROW(t.expect_keys({}));
}

TEST(Config, WrongTypeNamesFileLineColumnAndKey) {
  auto path = fixture("io/config.toml").string();
  auto cfg = load_config(path);
  EXPECT_EQ(config_error_of([&] { cfg.get("name", 0); }),
            path + ":2:8: `name` must be an integer, got a string");
  auto bm25 = cfg.table("index").table("bm25");
  EXPECT_EQ(config_error_of([&] { bm25.get<std::string>("k1", ""); }),
            path + ":7:6: `index.bm25.k1` must be a string, got a float");
  EXPECT_EQ(config_error_of([&] { cfg.get("tags", std::vector<double>{}); }),
            path + ":4:9: `tags` must be a number, got a string");
  EXPECT_EQ(config_error_of([&] { cfg.table("name"); }),
            path + ":2:8: `name` must be a table, got a string");
}

TEST(Config, UnknownKeyListsValidKeys) {
  auto cfg = parse_config("[index.bm25]\nk1 = 1.0\nkk1 = 2.0\n", "p.toml");
  EXPECT_EQ(config_error_of([&] { bm25_from(cfg.table("index").table("bm25")); }),
            "p.toml:3:1: unknown key `index.bm25.kk1` in [index.bm25]; valid keys: b, k1, "
            "stopwords, top_k");
}

TEST(Config, IntegerRangeAndSignChecked) {
  auto cfg = parse_config("big = 3000000000\nneg = -1\n", "r.toml");
  EXPECT_EQ(config_error_of([&] { cfg.get("big", 0); }),
            "r.toml:1:7: `big` = 3000000000 is out of range for an integer");
  EXPECT_EQ(config_error_of([&] { cfg.get<std::uint64_t>("neg", 0); }),
            "r.toml:2:7: `neg` = -1 is out of range for a non-negative integer");
  EXPECT_EQ(cfg.get<std::int64_t>("big", 0), 3000000000LL);
}

TEST(Config, RequireMissingKey) {
  auto cfg = parse_config("[a]\nx = 1\n", "q.toml");
  EXPECT_EQ(config_error_of([&] { cfg.table("a").require<int>("y"); }),
            "q.toml:1:1: missing required key `a.y` in [a]");
}

TEST(Config, SyntaxErrorNamesPosition) {
  auto msg = config_error_of([&] { parse_config("a = 1\nb = \n", "bad.toml"); });
  EXPECT_EQ(msg.rfind("bad.toml:2:", 0), 0u) << msg;
  EXPECT_NE(msg.find("invalid TOML"), std::string::npos) << msg;
}

TEST(Config, MissingFileIsIoError) {
  test::TempDir tmp;
  EXPECT_THROW(load_config(tmp / "none.toml"), IoError);
}

TEST(Config, RelativePathsResolveAgainstConfigDirectory) {
  auto cfg = load_config(fixture("io/config.toml"));
  auto kq = cfg.table("data").table("korquad");
  EXPECT_EQ(kq.get("input", std::filesystem::path{}), fixture("io") / "korquad.json");
  EXPECT_EQ(kq.get("out_dir", std::filesystem::path{}), std::filesystem::path("/tmp/out"));
}

TEST(Config, ToJsonDumpsTheTable) {
  auto cfg = parse_config("x = 1\ny = [1.5, \"s\"]\nd = 2024-01-02\n[t]\nz = true\n");
  EXPECT_EQ(
      cfg.to_json(),
      nlohmann::json::parse(R"({"x": 1, "y": [1.5, "s"], "d": "2024-01-02", "t": {"z": true}})"));
}

TEST(Config, KorquadOptionsFromConfig) {
  auto cfg = load_config(fixture("io/config.toml"));
  auto o = korquad_options_from(cfg.table("data").table("korquad"));
  EXPECT_EQ(o.input, fixture("io") / "korquad.json");
  EXPECT_DOUBLE_EQ(o.split_articles, 0.5);
  EXPECT_EQ(o.seed, 13u);  // default kept
  auto bad = parse_config("[k]\nsplit = 0.5\n", "k.toml");
  EXPECT_EQ(config_error_of([&] { korquad_options_from(bad.table("k")); }),
            "k.toml:2:1: unknown key `k.split` in [k]; valid keys: input, out_dir, seed, "
            "split_articles");
}

}  // namespace
}  // namespace ksparse
