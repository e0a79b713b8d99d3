// Private to src/llm: the llama.cpp side of the public handles.
#pragma once

#include <llama.h>

#include <functional>
#include <string>

#include "ksparse/llm/memory_plan.h"
#include "ksparse/llm/model.h"

namespace ksparse::llm {

struct Model::Impl {
  llama_model* model = nullptr;
  const llama_vocab* vocab = nullptr;
  ModelOptions options;
  ModelInfo info;
  int n_gpu_layers = 0;

  ~Impl();
};

namespace detail {

// While alive, every complete llama.cpp log line (any level, even those filtered out of spdlog) is
// also passed to `sink` on the calling thread; with forward == false it goes only to `sink` (for
// callers that put llama.cpp's reasons into their own error message). Lines logged by other
// threads are not captured.
class LogCapture {
 public:
  explicit LogCapture(std::function<void(const std::string&)> sink, bool forward = true);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
};

ggml_type to_ggml_type(KvType type);

}  // namespace detail
}  // namespace ksparse::llm
