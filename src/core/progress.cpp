#include "ksparse/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <exception>

namespace ksparse {

namespace {
std::int64_t to_ns(double seconds) { return static_cast<std::int64_t>(seconds * 1e9); }
}  // namespace

Progress::Progress(std::string label, std::uint64_t total, ProgressOptions options)
    : label_(std::move(label)),
      total_(total),
      options_(options),
      mode_(options.mode),
      start_(std::chrono::steady_clock::now()),
      uncaught_at_start_(std::uncaught_exceptions()) {
  if (options_.stream == nullptr) mode_ = ProgressOptions::Mode::kOff;
  if (mode_ == ProgressOptions::Mode::kAuto) {
    mode_ = ::isatty(::fileno(options_.stream)) ? ProgressOptions::Mode::kTty
                                                : ProgressOptions::Mode::kLog;
  }
  const double interval =
      mode_ == ProgressOptions::Mode::kTty ? options_.tty_interval_s : options_.log_interval_s;
  next_render_ns_.store(to_ns(interval), std::memory_order_relaxed);
}

Progress::~Progress() {
  if (std::uncaught_exceptions() <= uncaught_at_start_) {
    finish();
    return;
  }
  std::lock_guard<std::mutex> lock(render_mutex_);
  if (mode_ == ProgressOptions::Mode::kTty && rendered_any_ && !finished_) {
    std::fputc('\n', options_.stream);
    std::fflush(options_.stream);
  }
  finished_ = true;
}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::uint64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (mode_ == ProgressOptions::Mode::kOff) return;
  const std::int64_t now_ns = to_ns(elapsed_s());
  std::int64_t due = next_render_ns_.load(std::memory_order_relaxed);
  if (now_ns < due) return;
  // Only the thread that moves the deadline forward renders; the others carry on.
  const double interval =
      mode_ == ProgressOptions::Mode::kTty ? options_.tty_interval_s : options_.log_interval_s;
  if (!next_render_ns_.compare_exchange_strong(due, now_ns + to_ns(interval))) return;
  render(false);
}

void Progress::finish() { render(true); }

void Progress::render(bool final) {
  std::lock_guard<std::mutex> lock(render_mutex_);
  if (finished_ || mode_ == ProgressOptions::Mode::kOff) return;
  if (final) finished_ = true;
  rendered_any_ = true;
  std::string line = format_line(label_, done(), total_, elapsed_s(), final);
  if (mode_ == ProgressOptions::Mode::kTty) {
    // "\r" returns to the line start, "\x1b[K" clears what a longer previous line left behind.
    std::fprintf(options_.stream, "\r%s\x1b[K%s", line.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(options_.stream, "%s\n", line.c_str());
  }
  std::fflush(options_.stream);
}

std::string Progress::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<std::uint64_t>(std::llround(seconds));
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

std::string Progress::format_line(const std::string& label, std::uint64_t done, std::uint64_t total,
                                  double elapsed_s, bool final) {
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  std::string line = fmt::format("{}: {}", label, done);
  if (total > 0) {
    line += fmt::format("/{} ({:.1f}%)", total, 100.0 * static_cast<double>(done) / total);
  }
  line += fmt::format(" {:.0f} items/s", rate);
  if (final) {
    line += " in " + format_duration(elapsed_s);
  } else if (total > 0) {
    const double eta = (rate > 0 && done <= total) ? (total - done) / rate : -1.0;
    line += " ETA " + format_duration(eta);
  }
  return line;
}

}  // namespace ksparse
