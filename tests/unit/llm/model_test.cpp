// Model loading failures that need no real model: the test writes the files itself.
#include "ksparse/llm/model.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "unit/llm/gguf_writer.h"

namespace ksparse::llm {
namespace {

using test::TempDir;

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ModelError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ModelError";
  return "";
}

TEST(ModelLoad, MissingFileSaysNotFound) {
  TempDir dir;
  ModelOptions o;
  o.path = dir / "nope.gguf";
  const std::string msg = error_of([&] { Model m(o); });
  EXPECT_NE(msg.find("not found"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nope.gguf"), std::string::npos) << msg;
}

TEST(ModelLoad, TextFileIsNotGguf) {
  TempDir dir;
  ModelOptions o;
  o.path = test::write_file(dir / "model.gguf", "this is not a model\n");
  const std::string msg = error_of([&] { Model m(o); });
  EXPECT_NE(msg.find("not a GGUF file"), std::string::npos) << msg;
}

TEST(ModelLoad, TinyFileIsNotGguf) {
  TempDir dir;
  ModelOptions o;
  o.path = test::write_file(dir / "model.gguf", "GG");
  const std::string msg = error_of([&] { Model m(o); });
  EXPECT_NE(msg.find("not a GGUF file"), std::string::npos) << msg;
}

TEST(ModelLoad, TruncatedTensorDataIsReported) {
  TempDir dir;
  const std::string full = test::tiny_gguf();
  // Cut into the tensor data: the header is intact, the last tensor's bytes are missing.
  ModelOptions o;
  o.path = test::write_file(dir / "cut.gguf", full.substr(0, full.size() - 100));
  const std::string msg = error_of([&] { Model m(o); });
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(full.size() - 100)), std::string::npos) << msg;
}

TEST(ModelLoad, TruncatedHeaderIsReported) {
  TempDir dir;
  const std::string full = test::tiny_gguf();
  ModelOptions o;
  o.path = test::write_file(dir / "cut.gguf", full.substr(0, 40));
  const std::string msg = error_of([&] { Model m(o); });
  EXPECT_NE(msg.find("truncated or corrupt"), std::string::npos) << msg;
}

TEST(ModelLoad, CompleteTinyGgufPassesTheFileCheck) {
  TempDir dir;
  const auto path = test::write_file(dir / "ok.gguf", test::tiny_gguf());
  EXPECT_NO_THROW(check_gguf_file(path));
}

TEST(ModelOptions, Validate) {
  ModelOptions o;
  EXPECT_THROW(o.validate(), ConfigError);  // empty path
  o.path = "m.gguf";
  EXPECT_NO_THROW(o.validate());
  o.n_gpu_layers = -2;
  EXPECT_THROW(o.validate(), ConfigError);
  o.n_gpu_layers = 0;
  o.main_gpu = -1;
  EXPECT_THROW(o.validate(), ConfigError);
}

TEST(ModelOptions, LoadModeNames) {
  EXPECT_EQ(parse_load_mode("mmap"), LoadMode::kMmap);
  EXPECT_EQ(parse_load_mode("none"), LoadMode::kRead);
  EXPECT_EQ(parse_load_mode("read"), LoadMode::kRead);
  EXPECT_EQ(parse_load_mode("auto"), LoadMode::kAuto);
  EXPECT_STREQ(load_mode_name(LoadMode::kRead), "none");
  EXPECT_THROW(parse_load_mode("mlock"), ConfigError);
}

}  // namespace
}  // namespace ksparse::llm
