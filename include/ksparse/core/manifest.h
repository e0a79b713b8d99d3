// Artifact manifests. Every artifact directory (converted dataset, index, model, run) holds a
// `manifest.json` saying what it is and how it was made:
//
//   {"format_version": 1, "kind": "dataset", "created": "2024-05-01T12:00:00Z",
//    "tool": {"name": "ksparse", "version": "0.1.0", "git_commit": "...", "build_features": "..."},
//    "config": {...resolved options...},
//    "inputs":  [{"path": "/abs/in.json", "sha256": "...", "bytes": 123}],
//    "outputs": [{"path": "corpus.jsonl", "sha256": "...", "bytes": 456}],
//    "stats": {...}}
//
// Input paths are absolute; output paths are relative to the artifact directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ksparse {

// Version of the manifest layout written by this build. Readers accept this and older versions.
inline constexpr int kManifestFormatVersion = 1;

struct FileEntry {
  std::string path;
  std::string sha256;  // lowercase hex
  std::uint64_t bytes = 0;
};

struct Manifest {
  int format_version = kManifestFormatVersion;
  std::string kind;       // "dataset", "index", ...; checked on read
  std::string created;    // UTC, ISO-8601 "YYYY-MM-DDTHH:MM:SSZ"
  nlohmann::json tool;    // {name, version, git_commit, build_features}
  nlohmann::json config;  // resolved options; object (empty when none)
  std::vector<FileEntry> inputs;
  std::vector<FileEntry> outputs;
  nlohmann::json stats;  // object (empty when none)

  nlohmann::json to_json() const;
};

// A manifest of `kind` with `created` = now and `tool` = this binary (version_string(),
// git_commit(), build_features()).
Manifest make_manifest(std::string kind, nlohmann::json config = nlohmann::json::object());

// Current UTC time as "YYYY-MM-DDTHH:MM:SSZ".
std::string utc_now_iso8601();

// Hashes `file` (SHA-256, streaming). The entry's path is `file` relative to `base` when `base` is
// non-empty, else the absolute path. Throws IoError when the file cannot be read.
FileEntry describe_file(const std::filesystem::path& file, const std::filesystem::path& base = {});

// Writes `dir`/manifest.json (pretty-printed), creating `dir`. Throws IoError on failure.
void write_manifest(const std::filesystem::path& dir, const Manifest& manifest);

// Reads and validates a manifest. `path` is the artifact directory or the manifest.json itself.
// Throws IoError naming the file when it is missing or not valid JSON, when a required field is
// missing or has the wrong type, when `kind` differs from `expected_kind` (unless empty), or when
// its format_version is newer than `supported_version` (naming both versions).
Manifest read_manifest(const std::filesystem::path& path, std::string_view expected_kind,
                       int supported_version = kManifestFormatVersion);

}  // namespace ksparse
