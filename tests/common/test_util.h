// Helpers shared by the test programs.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ksparse::test {

// tests/data/<rel>
std::filesystem::path fixture(const std::string& rel);
// ../shared/data/<rel>. Fails the calling test (FAIL) with a message when missing: tests that need
// real data never skip silently.
std::filesystem::path shared_data(const std::string& rel);
// The real small GGUF from scripts/setup.sh; fails the test with a message naming setup.sh when absent.
std::filesystem::path test_model();
// Path of the built ksparse CLI.
std::filesystem::path cli_path();

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

// Writes `content` to `path` (creating parent directories) and returns the path.
std::filesystem::path write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `ksparse <args...>` (no shell interpretation of args) and captures its output.
CommandResult run_cli(const std::vector<std::string>& args);
// Runs an arbitrary program the same way.
CommandResult run_program(const std::vector<std::string>& argv);

// For kill -9 tests: starts `argv` (stdout and stderr to /dev/null), polls `ready` every `poll`
// while the program runs, and sends SIGKILL as soon as it returns true. True when the program was
// killed that way; false when it exited first or `ready` stayed false until `timeout`.
bool kill_program_when(const std::vector<std::string>& argv, const std::function<bool()>& ready,
                       std::chrono::milliseconds poll, std::chrono::milliseconds timeout);

}  // namespace ksparse::test
