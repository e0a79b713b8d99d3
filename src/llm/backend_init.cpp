// One-time llama.cpp initialisation and the route from its log to spdlog.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

#include "ksparse/core/error.h"
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
    llama_log_set(log_callback, nullptr);
    llama_backend_init();
  });
}

bool settle_cpu_matmul_kernels(std::optional<bool> batch_invariant) {
  static std::mutex mu;
  static std::optional<bool> tiled;  // the process's choice, once settled
  std::lock_guard<std::mutex> lock(mu);
  const char* env = std::getenv("GGML_CPU_TILED_MM");
  const bool env_on = env == nullptr || std::atoi(env) != 0;
  if (!tiled.has_value()) {
    if (batch_invariant.value_or(false)) {
      if (env != nullptr && env_on) {
        throw ConfigError(fmt::format(
            "batch_invariant: GGML_CPU_TILED_MM={} turns on ggml's tiled K-quant matmul, whose "
            "sums depend on the batch; unset it or set it to 0",
            env));
      }
      if (env == nullptr) setenv("GGML_CPU_TILED_MM", "0", /*overwrite=*/1);
      tiled = false;
    } else {
      tiled = env_on;
    }
    spdlog::debug("llm: ggml tiled K-quant matmul {} for this process", *tiled ? "on" : "off");
  } else if (batch_invariant.value_or(false) && *tiled) {
    throw ConfigError(
        "batch_invariant: this process already loaded a model with ggml's tiled K-quant matmul "
        "on, and ggml reads that choice (GGML_CPU_TILED_MM) once per process; load the "
        "batch-invariant model first, or start the process with GGML_CPU_TILED_MM=0");
  }
  return *tiled;
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
