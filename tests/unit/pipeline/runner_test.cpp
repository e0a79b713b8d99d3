// The stage runner with in-process stages: keys, skipping, dependants, --from/--only, failures,
// resources, config errors.
#include "ksparse/pipeline/runner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "common/test_util.h"
#include "ksparse/core/config.h"
#include "ksparse/core/error.h"

namespace ksparse::pipeline {
namespace {
namespace fs = std::filesystem;

// A stage that writes `<name>.txt` = its `value` setting plus its deps' contents, counting runs.
StageSpec text_stage(const std::string& name, std::vector<std::string> deps,
                     std::map<std::string, int>& runs) {
  StageSpec s;
  s.name = name;
  s.deps = std::move(deps);
  s.plan = [](const ConfigTable& section, const ConfigTable&) {
    section.expect_keys({"value", "enabled", "fail"});
    StagePlan p;
    p.config = {{"value", section.get<std::string>("value", "v")}};
    return p;
  };
  s.run = [name, &runs](StageContext& ctx) {
    ++runs[name];
    if (ctx.section().get("fail", false)) throw DataError("stage " + name + " failed on purpose");
    std::string text = ctx.config()["value"].get<std::string>();
    for (const auto& d : ctx.spec().deps) {
      if (ctx.has_input(d)) text += "+" + test::read_file(ctx.input(d) / (d + ".txt"));
    }
    test::write_file(ctx.out_dir() / (name + ".txt"), text);
    ctx.stats["length"] = text.size();
  };
  return s;
}

struct Fixture {
  std::map<std::string, int> runs;
  Pipeline p;
  Fixture() {
    // a -> b -> d ; a -> c ; d also reads c
    p.add_stage(text_stage("a", {}, runs));
    p.add_stage(text_stage("b", {"a"}, runs));
    p.add_stage(text_stage("c", {"a"}, runs));
    p.add_stage(text_stage("d", {"b", "c"}, runs));
  }
};

TEST(Runner, SecondRunSkipsEverything) {
  test::TempDir dir;
  Fixture f;
  RunOptions o;
  o.out_dir = dir.path();
  const auto cfg = parse_config("[a]\nvalue = \"x\"\n");
  RunSummary s1 = f.p.run(cfg, o);
  EXPECT_EQ(s1.ran(), 4u);
  EXPECT_EQ(test::read_file(dir / "d/d.txt"), "v+v+x+v+x");
  const std::string manifest = test::read_file(dir / "d/manifest.json");
  RunSummary s2 = f.p.run(cfg, o);
  EXPECT_EQ(s2.ran(), 0u);
  for (const auto& st : s2.stages) EXPECT_EQ(st.status, "skipped") << st.name;
  EXPECT_EQ(test::read_file(dir / "d/manifest.json"), manifest);
  EXPECT_EQ(f.runs["a"], 1);
  EXPECT_TRUE(fs::exists(dir / "run.json"));
}

TEST(Runner, ChangingOneSectionRerunsItAndItsDependantsOnly) {
  test::TempDir dir;
  Fixture f;
  RunOptions o;
  o.out_dir = dir.path();
  f.p.run(parse_config("[c]\nvalue = \"1\"\n"), o);
  f.runs.clear();
  RunSummary s = f.p.run(parse_config("[c]\nvalue = \"2\"\n"), o);
  EXPECT_EQ(f.runs, (std::map<std::string, int>{{"c", 1}, {"d", 1}}));
  EXPECT_EQ(s.ran(), 2u);
  EXPECT_EQ(test::read_file(dir / "d/d.txt"), "v+v+v+2+v");
  // The manifest records config, key and the dep artifacts it read.
  const auto m = read_stage_manifest(dir.path(), "d");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ((*m)["kind"], "stage:d");
  EXPECT_EQ((*m)["inputs"].size(), 2u);
  EXPECT_EQ((*m)["outputs"][0]["path"], "d.txt");
  EXPECT_GT((*m)["stats"]["memory"]["peak_rss_mib"].get<double>(), 0.0);
}

TEST(Runner, FromAndOnlyAndForce) {
  test::TempDir dir;
  Fixture f;
  RunOptions o;
  o.out_dir = dir.path();
  const auto cfg = parse_config("");
  f.p.run(cfg, o);
  f.runs.clear();
  o.from = "c";
  f.p.run(cfg, o);
  EXPECT_EQ(f.runs, (std::map<std::string, int>{{"c", 1}, {"d", 1}}));
  f.runs.clear();
  o.from.clear();
  o.only = "b";
  f.p.run(cfg, o);  // up to date: --only alone does not redo it
  EXPECT_TRUE(f.runs.empty());
  o.force = true;
  f.p.run(cfg, o);
  EXPECT_EQ(f.runs, (std::map<std::string, int>{{"b", 1}}));
  f.runs.clear();
  // --only with a changed upstream config still uses the finished upstream artifact.
  o.only = "a";
  o.force = true;
  f.p.run(cfg, o);
  EXPECT_EQ(f.runs, (std::map<std::string, int>{{"a", 1}}));
}

TEST(Runner, OnlyNeedsFinishedDeps) {
  test::TempDir dir;
  Fixture f;
  RunOptions o;
  o.out_dir = dir.path();
  o.only = "d";
  EXPECT_THROW(f.p.run(parse_config(""), o), ConfigError);
  EXPECT_TRUE(f.runs.empty());
}

TEST(Runner, FailedStageLeavesNoArtifactAndFinishedStagesAreKept) {
  test::TempDir dir;
  Fixture f;
  RunOptions o;
  o.out_dir = dir.path();
  EXPECT_THROW(f.p.run(parse_config("[c]\nfail = true\n"), o), DataError);
  EXPECT_TRUE(fs::exists(dir / "b/manifest.json"));
  EXPECT_FALSE(fs::exists(dir / "c"));
  EXPECT_FALSE(fs::exists(dir / "d"));
  EXPECT_TRUE(fs::is_empty(dir / ".tmp"));
  f.runs.clear();
  f.p.run(parse_config("[c]\nfail = false\n"), o);
  EXPECT_EQ(f.runs, (std::map<std::string, int>{{"c", 1}, {"d", 1}}));
}

TEST(Runner, DisabledDepEntersAsAbsent) {
  test::TempDir dir;
  Fixture f;
  RunOptions o;
  o.out_dir = dir.path();
  RunSummary s = f.p.run(parse_config("[c]\nenabled = false\n"), o);
  EXPECT_EQ(test::read_file(dir / "d/d.txt"), "v+v+v");
  EXPECT_FALSE(fs::exists(dir / "c"));
  EXPECT_EQ(s.stages[2].status, "disabled");
}

TEST(Runner, ConfigErrorsNameFileAndLine) {
  test::TempDir dir;
  Fixture f;
  RunOptions o;
  o.out_dir = dir.path();
  const fs::path cfg = test::write_file(dir / "bad.toml", "[a]\nvalue = \"x\"\n\n[b]\nvalu = 3\n");
  try {
    f.p.run(load_config(cfg), o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.toml:5"), std::string::npos) << e.what();
  }
  const fs::path cfg2 = test::write_file(dir / "bad2.toml", "out = \"x\"\nstages = 3\n");
  try {
    f.p.run(load_config(cfg2), o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad2.toml:2"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(f.runs.empty());
}

class CountingResource : public Resource {
 public:
  explicit CountingResource(int& live) : live_(live) { ++live_; }
  ~CountingResource() override { --live_; }
  nlohmann::json memory() const override { return {{"CPU", {{"bytes", 42}}}}; }

 private:
  int& live_;
};

TEST(Runner, ResourceIsReleasedAfterItsLastUser) {
  test::TempDir dir;
  std::map<std::string, int> runs;
  int live = 0;
  int live_seen_by_late = -1;
  Pipeline p;
  p.add_resource("llm",
                 [&](const ConfigTable&) { return std::make_unique<CountingResource>(live); });
  StageSpec a = text_stage("a", {}, runs);
  a.resources = {"llm"};
  auto run_a = a.run;
  a.run = [run_a](StageContext& ctx) {
    ctx.resource("llm");
    run_a(ctx);
  };
  p.add_stage(a);
  StageSpec late = text_stage("late", {"a"}, runs);
  auto run_late = late.run;
  late.run = [&, run_late](StageContext& ctx) {
    live_seen_by_late = live;
    run_late(ctx);
  };
  p.add_stage(late);
  RunOptions o;
  o.out_dir = dir.path();
  RunSummary s = p.run(parse_config(""), o);
  EXPECT_EQ(live_seen_by_late, 0);
  EXPECT_EQ(live, 0);
  ASSERT_EQ(s.resources.size(), 2u);
  EXPECT_EQ(s.resources[0]["event"], "load");
  EXPECT_EQ(s.resources[1]["event"], "unload");
  const auto m = read_stage_manifest(dir.path(), "a");
  EXPECT_EQ((*m)["stats"]["devices"]["llm"]["CPU"]["bytes"], 42);
  // Up to date: the resource is never created.
  s = p.run(parse_config(""), o);
  EXPECT_TRUE(s.resources.empty());
}

}  // namespace
}  // namespace ksparse::pipeline
