// SQLite cache of LLM generations, so that an interrupted synthesis run resumes where it stopped
// and a rerun reuses every finished item.
//
// One row per (model, template hash, generation parameters, document id, item index). Callers write
// each finished batch with put() in one transaction: after a crash (kill -9 included) the file
// holds exactly the batches whose put() returned, never half a batch. The file may be shared by
// several processes (SQLite locking; writers wait up to `busy_timeout_ms`).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace ksparse::synth {

struct CacheKey {
  std::string model;          // model identity (name + file hash)
  std::string template_hash;  // sha256 of the prompt template file
  std::string params;         // generation parameters as canonical JSON (sorted keys)
  std::string doc_id;
  std::size_t item = 0;  // generation index within the document
};

struct CachedGeneration {
  std::string text;  // raw completion
  int prompt_tokens = 0;
  int generated_tokens = 0;
  std::optional<double> mean_logprob;  // nullopt when the backend cannot tell
  std::string finish;                  // "stop" | "length" | "eos"
  bool operator==(const CachedGeneration&) const = default;
};

// Not thread-safe: one instance per thread (open the same file several times if needed).
class GenerationCache {
 public:
  // Opens or creates the database at `path` (parent directories created). IoError naming the file
  // when it cannot be opened or is not a ksparse generation cache.
  explicit GenerationCache(const std::filesystem::path& path, int busy_timeout_ms = 10000);
  ~GenerationCache();
  GenerationCache(const GenerationCache&) = delete;
  GenerationCache& operator=(const GenerationCache&) = delete;

  std::optional<CachedGeneration> get(const CacheKey& key);
  // Stores all entries in one transaction (an existing row with the same key is replaced).
  void put(const std::vector<std::pair<CacheKey, CachedGeneration>>& entries);
  // Rows in the file (all keys).
  std::size_t size();
  const std::filesystem::path& path() const { return path_; }

 private:
  void exec(const char* sql);
  [[noreturn]] void fail(const std::string& what);

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
};

}  // namespace ksparse::synth
