// Progress reporting for long work (conversion, indexing, training) on stderr.
//
// When the stream is a terminal the report is one line updated in place ("\r") a few times per
// second; otherwise (logs, CI, pipes) a plain line is printed every `log_interval_s` seconds, so
// logs stay readable. Lines look like:
//
//   indexing: 12000/50000 (24.0%) 3512 items/s ETA 0:00:10
//
// advance() is thread-safe and cheap (an atomic add and a clock read); at most one thread renders
// at a time, and a rendering thread never blocks the others.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace ksparse {

struct ProgressOptions {
  enum class Mode { kAuto, kTty, kLog, kOff };
  Mode mode = Mode::kAuto;      // kAuto: kTty when `stream` is a terminal, else kLog
  double tty_interval_s = 0.2;  // seconds between in-place redraws
  double log_interval_s = 10;   // seconds between log lines; 0 prints on every advance()
  std::FILE* stream = stderr;   // not owned
};

class Progress {
 public:
  // `total` items expected; 0 means unknown (no percentage or ETA).
  Progress(std::string label, std::uint64_t total, ProgressOptions options = {});
  // Calls finish(), except while an exception unwinds the stack (a "done" line would mislead);
  // then it only ends an in-place terminal line.
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Records `n` more items done; may print. Thread-safe.
  void advance(std::uint64_t n = 1);
  // Prints the final line (with the elapsed time) once; later calls do nothing. Thread-safe.
  void finish();

  std::uint64_t done() const { return done_.load(std::memory_order_relaxed); }
  std::uint64_t total() const { return total_; }
  ProgressOptions::Mode mode() const { return mode_; }

  // The report line for the given state, without line ending. Pure; exposed for tests.
  static std::string format_line(const std::string& label, std::uint64_t done, std::uint64_t total,
                                 double elapsed_s, bool final);
  // "H:MM:SS" for a duration in seconds (negative or non-finite -> "?").
  static std::string format_duration(double seconds);

 private:
  void render(bool final);
  double elapsed_s() const;

  std::string label_;
  std::uint64_t total_;
  ProgressOptions options_;
  ProgressOptions::Mode mode_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::int64_t> next_render_ns_{0};  // since start_
  std::mutex render_mutex_;
  bool finished_ = false;      // guarded by render_mutex_
  bool rendered_any_ = false;  // guarded by render_mutex_
  int uncaught_at_start_ = 0;  // std::uncaught_exceptions() when constructed
};

}  // namespace ksparse
