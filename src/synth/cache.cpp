#include "ksparse/synth/cache.h"

#include <sqlite3.h>

#include "ksparse/core/error.h"

namespace ksparse::synth {
namespace fs = std::filesystem;

namespace {

constexpr int kSchemaVersion = 1;  // PRAGMA user_version of the file

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS generations (
  model TEXT NOT NULL,
  template_hash TEXT NOT NULL,
  params TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  item INTEGER NOT NULL,
  text TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  generated_tokens INTEGER NOT NULL,
  mean_logprob REAL,
  finish TEXT NOT NULL,
  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  PRIMARY KEY (model, template_hash, params, doc_id, item)
) WITHOUT ROWID;
)sql";

void bind_key(sqlite3_stmt* st, const CacheKey& key) {
  sqlite3_bind_text(st, 1, key.model.data(), static_cast<int>(key.model.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, key.template_hash.data(), static_cast<int>(key.template_hash.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, key.params.data(), static_cast<int>(key.params.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, key.doc_id.data(), static_cast<int>(key.doc_id.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 5, static_cast<sqlite3_int64>(key.item));
}

std::string column_text(sqlite3_stmt* st, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st, col))) : "";
}

}  // namespace

GenerationCache::GenerationCache(const fs::path& path, int busy_timeout_ms) : path_(path) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw IoError("cannot open generation cache " + path.string() + ": " + msg +
                  " (check the directory is writable)");
  }
  try {
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    // WAL: readers never block the writer, and a commit is one append; durable across a killed
    // process (the OS keeps the written pages) which is the failure we care about.
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK) {
      fail("reading the schema version");
    }
    int version = 0;
    if (sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > kSchemaVersion) {
      throw IoError("generation cache " + path.string() + " has schema version " +
                    std::to_string(version) + ", newer than this build's " +
                    std::to_string(kSchemaVersion) + "; use a newer ksparse or a fresh cache file");
    }
    exec(kSchema);
    exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    if (sqlite3_prepare_v2(db_,
                           "SELECT text, prompt_tokens, generated_tokens, mean_logprob, finish "
                           "FROM generations WHERE model=?1 AND template_hash=?2 AND params=?3 "
                           "AND doc_id=?4 AND item=?5",
                           -1, &get_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_,
                           "INSERT OR REPLACE INTO generations (model, template_hash, params, "
                           "doc_id, item, text, prompt_tokens, generated_tokens, mean_logprob, "
                           "finish) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                           -1, &put_, nullptr) != SQLITE_OK) {
      fail("preparing statements (is this a ksparse generation cache?)");
    }
  } catch (...) {
    sqlite3_finalize(get_);
    sqlite3_finalize(put_);
    sqlite3_close(db_);
    throw;
  }
}

GenerationCache::~GenerationCache() {
  sqlite3_finalize(get_);
  sqlite3_finalize(put_);
  sqlite3_close(db_);
}

void GenerationCache::fail(const std::string& what) {
  throw IoError("generation cache " + path_.string() + ": " + what + ": " + sqlite3_errmsg(db_));
}

void GenerationCache::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw IoError("generation cache " + path_.string() + ": " + msg);
  }
}

std::optional<CachedGeneration> GenerationCache::get(const CacheKey& key) {
  sqlite3_reset(get_);
  sqlite3_clear_bindings(get_);
  bind_key(get_, key);
  const int rc = sqlite3_step(get_);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail("lookup failed");
  CachedGeneration g;
  g.text = column_text(get_, 0);
  g.prompt_tokens = sqlite3_column_int(get_, 1);
  g.generated_tokens = sqlite3_column_int(get_, 2);
  if (sqlite3_column_type(get_, 3) != SQLITE_NULL) g.mean_logprob = sqlite3_column_double(get_, 3);
  g.finish = column_text(get_, 4);
  sqlite3_reset(get_);
  return g;
}

void GenerationCache::put(const std::vector<std::pair<CacheKey, CachedGeneration>>& entries) {
  if (entries.empty()) return;
  exec("BEGIN IMMEDIATE");
  try {
    for (const auto& [key, g] : entries) {
      sqlite3_reset(put_);
      sqlite3_clear_bindings(put_);
      bind_key(put_, key);
      sqlite3_bind_text(put_, 6, g.text.data(), static_cast<int>(g.text.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int(put_, 7, g.prompt_tokens);
      sqlite3_bind_int(put_, 8, g.generated_tokens);
      if (g.mean_logprob) {
        sqlite3_bind_double(put_, 9, *g.mean_logprob);
      } else {
        sqlite3_bind_null(put_, 9);
      }
      sqlite3_bind_text(put_, 10, g.finish.data(), static_cast<int>(g.finish.size()),
                        SQLITE_TRANSIENT);
      if (sqlite3_step(put_) != SQLITE_DONE) fail("insert failed");
    }
    sqlite3_reset(put_);
    exec("COMMIT");
  } catch (...) {
    sqlite3_reset(put_);
    char* err = nullptr;
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, &err);
    sqlite3_free(err);
    throw;
  }
}

std::size_t GenerationCache::size() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM generations", -1, &st, nullptr) != SQLITE_OK) {
    fail("count failed");
  }
  std::size_t n = 0;
  if (sqlite3_step(st) == SQLITE_ROW) n = static_cast<std::size_t>(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  return n;
}

}  // namespace ksparse::synth
