// `ksparse run` with malformed configs: every error names the config file and line.
#include <gtest/gtest.h>

#include <string>

#include "common/test_util.h"

namespace ksparse {
namespace {

void expect_error_at(const std::string& config, const std::string& where) {
  test::TempDir dir;
  const auto cfg = test::write_file(dir / "bad.toml", config);
  const auto r = test::run_cli({"run", cfg.string(), "--out", (dir / "out").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad.toml:" + where), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "out/data"));
}

TEST(CmdRun, TomlSyntaxError) { expect_error_at("[data]\nkorquad = \"x\n", "2"); }

TEST(CmdRun, UnknownStageKey) { expect_error_at("[bm25]\nk = 10\nanalyzr = \"word\"\n", "3"); }

TEST(CmdRun, UnknownTopLevelSection) { expect_error_at("out = \"o\"\n\n[bm52]\nk = 1\n", "3"); }

TEST(CmdRun, WrongValueType) { expect_error_at("[synth]\nper_doc = \"three\"\n", "2"); }

TEST(CmdRun, MissingInputFile) {
  expect_error_at("[data]\nkorquad = \"no/such/file.json\"\n", "2");
}

TEST(CmdRun, UnknownStageName) {
  test::TempDir dir;
  const auto cfg = test::write_file(dir / "ok.toml", "[report]\ntitle = \"t\"\n");
  const auto r =
      test::run_cli({"run", cfg.string(), "--out", (dir / "out").string(), "--only", "nope"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown stage `nope`"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ksparse
