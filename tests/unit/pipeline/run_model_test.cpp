// `ksparse run` end to end on a tiny config with the real small GGUF: caching, selective reruns,
// kill -9 resumption.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "common/test_util.h"
#include "ksparse/synth/cache.h"

namespace ksparse {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// A KorQuAD-format file with the first `articles` articles of the real dev set, `paragraphs`
// paragraphs each.
fs::path tiny_korquad(const fs::path& dir, std::size_t articles, std::size_t paragraphs) {
  std::ifstream in(test::shared_data("korquad-v1/KorQuAD_v1.0_dev.json"));
  json j = json::parse(in);
  json data = json::array();
  for (std::size_t a = 0; a < articles && a < j["data"].size(); ++a) {
    json art = j["data"][a];
    json ps = json::array();
    for (std::size_t p = 0; p < paragraphs && p < art["paragraphs"].size(); ++p) {
      ps.push_back(art["paragraphs"][p]);
    }
    art["paragraphs"] = ps;
    data.push_back(art);
  }
  j["data"] = data;
  return test::write_file(dir / "korquad_tiny.json", j.dump());
}

std::string tiny_config(const fs::path& dir, int synth_seed) {
  const fs::path korquad = tiny_korquad(dir, 6, 2);
  test::write_file(dir / "seed.tsv",
                   "컴퓨터\tcomputer\n데이터\tdata\n네트워크\tnetwork\n프로그램\tprogram\n"
                   "서버\tserver\n인터넷\tinternet\n소프트웨어\tsoftware\n게임\tgame\n");
  test::write_file(dir / "news.csv",
                   "date,title,text\n"
                   "2010-01-01,가,서울 시장 선거 후보 토론\n2010-02-01,나,서울 시장 선거 결과\n"
                   "2011-01-01,다,태풍 피해 복구 지원\n2011-03-01,라,태풍 경보 발령 태풍 북상\n");
  std::string cfg;
  cfg += "out = \"" + (dir / "out").string() + "\"\n";
  cfg += "threads = 2\n";
  cfg += "[llm]\nmodel = \"" + test::test_model().string() + "\"\n";
  cfg += "parallel = 2\nctx_per_seq = 2048\nthreads = 2\ngpu_layers = 0\n";
  cfg += "[data]\nkorquad = \"" + korquad.string() + "\"\nsplit_articles = 0.5\n";
  cfg += "news = \"" + (dir / "news.csv").string() + "\"\n";
  cfg += "news_text_col = \"text\"\nnews_title_col = \"title\"\nnews_date_col = \"date\"\n";
  cfg += "[bm25]\nk = 20\n";
  cfg +=
      "[synth]\nper_doc = 1\nlimit = 3\nbatch_size = 1\nmax_doc_chars = 200\nmax_example_chars = "
      "150\n";
  cfg += "templates = [\"" +
         (fs::path(KSPARSE_SOURCE_DIR) / "configs/prompts/ko_keyword.toml").string() + "\"]\n";
  cfg += "seed = " + std::to_string(synth_seed) + "\n";
  cfg += "[trends]\nmin_count = 1\nmin_docs = 1\nmin_g2 = 0.0\n";
  cfg += "[synonyms]\nlexicon = \"" + (dir / "seed.tsv").string() + "\"\n";
  cfg += "[ablations]\ntrials = 200\n";
  return cfg;
}

std::map<std::string, std::string> statuses(const test::CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> s;
  const json j = json::parse(r.out);
  for (const auto& st : j["stages"]) s[st["name"]] = st["status"];
  return s;
}

std::set<std::string> ran(const std::map<std::string, std::string>& s) {
  std::set<std::string> out;
  for (const auto& [name, status] : s) {
    if (status == "ran") out.insert(name);
  }
  return out;
}

const std::set<std::string> kAllStages = {"data",     "bm25",      "synth",     "trends",
                                          "synonyms", "expansion", "ablations", "report"};

TEST(RunModel, SecondRunSkipsAndSynthChangeRerunsOnlyDependants) {
  test::TempDir dir;
  const fs::path cfg = test::write_file(dir / "tiny.toml", tiny_config(dir.path(), 1));
  const auto first = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  EXPECT_EQ(ran(first), kAllStages);
  ASSERT_TRUE(fs::exists(dir / "out/report/report.html"));
  ASSERT_TRUE(fs::exists(dir / "out/synth/queries/triples.jsonl"));
  const std::string report = test::read_file(dir / "out/report/report.html");
  EXPECT_NE(report.find("Filter funnel"), std::string::npos);
  EXPECT_NE(test::read_file(dir / "out/report/report.md").find("## Synthetic queries"),
            std::string::npos);

  const auto t0 = std::chrono::steady_clock::now();
  const auto second = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(ran(second).empty());
  for (const auto& [name, status] : second) EXPECT_EQ(status, "skipped") << name;
  EXPECT_LT(secs, 30.0);  // nothing is recomputed (the GGUF hash is cached too)

  // Only the synthetic-generation settings change: synth and what reads it rerun.
  test::write_file(cfg, tiny_config(dir.path(), 2));
  const auto third = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  EXPECT_EQ(ran(third), (std::set<std::string>{"synth", "report"}));
}

TEST(RunModel, KillDuringSynthResumesWithoutRedoingFinishedWork) {
  test::TempDir dir;
  const fs::path cfg = test::write_file(dir / "tiny.toml", tiny_config(dir.path(), 1));
  const fs::path cache = dir / "out/.work/synth/cache.sqlite";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Quiet child: its output is not needed.
    const std::string cli = test::cli_path().string();
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(cli.c_str(), cli.c_str(), "run", cfg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until the first generation batch is committed to the cache, then kill -9.
  bool killed = false;
  for (int i = 0; i < 1200 && !killed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (fs::exists(cache)) {
      try {
        synth::GenerationCache c(cache, 100);
        if (c.size() >= 1) {
          ::kill(pid, SIGKILL);
          killed = true;
        }
      } catch (const std::exception&) {
        // locked or not yet initialised: try again
      }
    }
    int status = 0;
    if (!killed && ::waitpid(pid, &status, WNOHANG) == pid) break;
  }
  ASSERT_TRUE(killed) << "the run finished or never reached the synth stage";
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(dir / "out/synth"));  // no half-written artifact
  ASSERT_TRUE(fs::exists(dir / "out/data/manifest.json"));
  const std::string data_manifest = test::read_file(dir / "out/data/manifest.json");

  const auto resumed = statuses(test::run_cli({"run", cfg.string(), "--json"}));
  EXPECT_EQ(resumed.at("data"), "skipped");
  EXPECT_EQ(resumed.at("bm25"), "skipped");
  EXPECT_EQ(resumed.at("synth"), "ran");
  EXPECT_EQ(test::read_file(dir / "out/data/manifest.json"), data_manifest);
  // The synth stage took the killed run's generations from its cache.
  const json m = json::parse(test::read_file(dir / "out/synth/manifest.json"));
  EXPECT_GE(m["stats"]["stage"]["generation"]["cached"].get<int>(), 1);
  EXPECT_TRUE(fs::exists(dir / "out/report/report.html"));
}

}  // namespace
}  // namespace ksparse
