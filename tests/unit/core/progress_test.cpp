#include "ksparse/core/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ksparse {
namespace {

// Everything written to a tmpfile() stream.
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(Progress, FormatsDoneTotalRateAndEta) {
  EXPECT_EQ(Progress::format_line("indexing", 250, 1000, 10.0, false),
            "indexing: 250/1000 (25.0%) 25 items/s ETA 0:00:30");
  EXPECT_EQ(Progress::format_line("indexing", 1000, 1000, 40.0, true),
            "indexing: 1000/1000 (100.0%) 25 items/s in 0:00:40");
  // Unknown total: no percentage, no ETA.
  EXPECT_EQ(Progress::format_line("rows", 50, 0, 2.0, false), "rows: 50 25 items/s");
  // Nothing done yet: ETA unknown.
  EXPECT_EQ(Progress::format_line("x", 0, 10, 0.0, false), "x: 0/10 (0.0%) 0 items/s ETA ?");
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(Progress::format_duration(0), "0:00:00");
  EXPECT_EQ(Progress::format_duration(3725.4), "1:02:05");
  EXPECT_EQ(Progress::format_duration(-1), "?");
}

TEST(Progress, LogModePrintsPlainLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressOptions o;
    o.mode = ProgressOptions::Mode::kLog;
    o.log_interval_s = 0;  // a line per advance
    o.stream = f;
    Progress p("work", 3, o);
    p.advance();
    p.advance(2);
    EXPECT_EQ(p.done(), 3u);
  }  // destructor prints the final line
  std::string out = contents(f);
  std::fclose(f);
  EXPECT_EQ(count_lines(out), 3u) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(out.rfind("work: 1/3 (33.3%)", 0), 0u) << out;
  EXPECT_NE(out.find("work: 3/3 (100.0%)"), std::string::npos);
  EXPECT_NE(out.find(" in 0:00:00\n"), std::string::npos);
}

TEST(Progress, LogModeRespectsInterval) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressOptions o;
  o.mode = ProgressOptions::Mode::kLog;
  o.log_interval_s = 3600;
  o.stream = f;
  Progress p("slow", 100, o);
  for (int i = 0; i < 100; ++i) p.advance();
  EXPECT_EQ(contents(f), "");  // nothing before the interval has passed
  p.finish();
  p.finish();  // only once
  std::string out = contents(f);
  std::fclose(f);
  EXPECT_EQ(count_lines(out), 1u);
  EXPECT_EQ(out.rfind("slow: 100/100 (100.0%)", 0), 0u);
}

TEST(Progress, TtyModeRedrawsInPlace) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressOptions o;
  o.mode = ProgressOptions::Mode::kTty;
  o.tty_interval_s = 0;
  o.stream = f;
  {
    Progress p("t", 2, o);
    p.advance();
    p.advance();
  }
  std::string out = contents(f);
  std::fclose(f);
  EXPECT_EQ(out.rfind("\rt: 1/2 (50.0%)", 0), 0u) << out;
  EXPECT_NE(out.find("\x1b[K"), std::string::npos);
  EXPECT_EQ(count_lines(out), 1u);  // only the final line ends with a newline
  EXPECT_EQ(out.back(), '\n');
}

TEST(Progress, AutoModeOnAFileIsLogAndOffPrintsNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressOptions o;
  o.stream = f;
  EXPECT_EQ(Progress("a", 1, o).mode(), ProgressOptions::Mode::kLog);
  std::string before = contents(f);
  o.mode = ProgressOptions::Mode::kOff;
  {
    Progress p("b", 1, o);
    p.advance();
  }
  EXPECT_EQ(contents(f), before);
  std::fclose(f);
}

TEST(Progress, NoFinalLineWhenUnwindingFromAnError) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressOptions o;
  o.mode = ProgressOptions::Mode::kLog;
  o.log_interval_s = 3600;
  o.stream = f;
  try {
    Progress p("failing", 10, o);
    p.advance();
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(contents(f), "");
  std::fclose(f);
}

TEST(Progress, AdvanceIsThreadSafe) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressOptions o;
  o.mode = ProgressOptions::Mode::kLog;
  o.log_interval_s = 0;
  o.stream = f;
  constexpr int kThreads = 8, kPerThread = 5000;
  {
    Progress p("mt", kThreads * kPerThread, o);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kPerThread; ++i) p.advance();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(p.done(), static_cast<std::uint64_t>(kThreads * kPerThread));
  }
  std::string out = contents(f);
  std::fclose(f);
  // Lines are whole (never interleaved) and the last one is the final report.
  std::size_t last = out.rfind("mt: ", out.size() - 2);
  EXPECT_EQ(out.substr(last).rfind("mt: 40000/40000 (100.0%)", 0), 0u);
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t nl = out.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    EXPECT_EQ(out.compare(pos, 4, "mt: "), 0) << out.substr(pos, nl - pos);
    pos = nl + 1;
  }
}

}  // namespace
}  // namespace ksparse
