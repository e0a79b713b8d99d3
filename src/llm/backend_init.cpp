// One-time llama.cpp initialisation and the route from its log to spdlog.
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include "llama_internal.h"

namespace ksparse::llm {
namespace {

std::atomic<int> g_min_level{static_cast<int>(spdlog::level::debug)};

// llama.cpp logs partial lines (GGML_LOG_LEVEL_CONT continues the previous one), so text is
// buffered per thread until a newline arrives.
struct LineBuffer {
  std::string text;
  ggml_log_level level = GGML_LOG_LEVEL_INFO;
};
thread_local LineBuffer t_line;
thread_local const std::function<void(const std::string&)>* t_capture = nullptr;
thread_local bool t_forward = true;

spdlog::level::level_enum to_spdlog(ggml_log_level level) {
  switch (level) {
    case GGML_LOG_LEVEL_ERROR:
      return spdlog::level::err;
    case GGML_LOG_LEVEL_WARN:
      return spdlog::level::debug;
    default:
      return spdlog::level::trace;
  }
}

void emit(const std::string& line, ggml_log_level level) {
  if (t_capture != nullptr) {
    (*t_capture)(line);
    if (!t_forward) return;
  }
  const auto lvl = to_spdlog(level);
  if (static_cast<int>(lvl) < g_min_level.load(std::memory_order_relaxed)) return;
  spdlog::log(lvl, "llama.cpp: {}", line);
}

void log_callback(ggml_log_level level, const char* text, void* /*user_data*/) {
  if (text == nullptr) return;
  if (level != GGML_LOG_LEVEL_CONT) t_line.level = level;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p == '\n') {
      emit(t_line.text, t_line.level);
      t_line.text.clear();
    } else {
      t_line.text.push_back(*p);
    }
  }
}

}  // namespace

void set_llama_log_level(spdlog::level::level_enum min_level) {
  g_min_level.store(static_cast<int>(min_level), std::memory_order_relaxed);
}

void init_llama_backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    // ggml's CPU backend hands K-quant matmuls of 8 or more activation rows to a tiled kernel that
    // sums in another order than its per-row dot products, so a sequence's logits would depend on
    // how many sequences share its decode step (batched greedy output != sequential). Off unless
    // the user set GGML_CPU_TILED_MM; ggml reads it once, at the first matmul.
    setenv("GGML_CPU_TILED_MM", "0", /*overwrite=*/0);
    llama_log_set(log_callback, nullptr);
    llama_backend_init();
  });
}

namespace detail {

LogCapture::LogCapture(std::function<void(const std::string&)> sink, bool forward) {
  t_capture = new std::function<void(const std::string&)>(std::move(sink));
  t_forward = forward;
}

LogCapture::~LogCapture() {
  delete t_capture;
  t_capture = nullptr;
  t_forward = true;
}

}  // namespace detail
}  // namespace ksparse::llm
