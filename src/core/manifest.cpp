#include "ksparse/core/manifest.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"
#include "ksparse/core/version.h"

namespace ksparse {
namespace fs = std::filesystem;

namespace {

nlohmann::json file_entries_to_json(const std::vector<FileEntry>& entries) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : entries) {
    arr.push_back({{"path", e.path}, {"sha256", e.sha256}, {"bytes", e.bytes}});
  }
  return arr;
}

// Looks up `key` in `obj` and checks its type; the error names the manifest file.
const nlohmann::json& field(const nlohmann::json& obj, const char* key,
                            nlohmann::json::value_t type, const fs::path& file,
                            const char* type_name) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    throw IoError(
        fmt::format("{}: manifest field `{}` is missing; the artifact is damaged or was "
                    "not written by ksparse",
                    file.string(), key));
  }
  bool ok = it->type() == type ||
            (type == nlohmann::json::value_t::number_integer && it->is_number_unsigned());
  if (!ok) {
    throw IoError(fmt::format("{}: manifest field `{}` must be {}, got {}", file.string(), key,
                              type_name, it->type_name()));
  }
  return *it;
}

std::vector<FileEntry> file_entries_from_json(const nlohmann::json& arr, const char* key,
                                              const fs::path& file) {
  std::vector<FileEntry> out;
  for (const auto& e : arr) {
    if (!e.is_object() || !e.contains("path") || !e["path"].is_string() || !e.contains("sha256") ||
        !e["sha256"].is_string() || !e.contains("bytes") || !e["bytes"].is_number_integer()) {
      throw IoError(
          fmt::format("{}: manifest `{}` entries need string `path`, string `sha256` "
                      "and integer `bytes`",
                      file.string(), key));
    }
    out.push_back({e["path"].get<std::string>(), e["sha256"].get<std::string>(),
                   e["bytes"].get<std::uint64_t>()});
  }
  return out;
}

}  // namespace

nlohmann::json Manifest::to_json() const {
  return {{"format_version", format_version},
          {"kind", kind},
          {"created", created},
          {"tool", tool.is_null() ? nlohmann::json::object() : tool},
          {"config", config.is_null() ? nlohmann::json::object() : config},
          {"inputs", file_entries_to_json(inputs)},
          {"outputs", file_entries_to_json(outputs)},
          {"stats", stats.is_null() ? nlohmann::json::object() : stats}};
}

std::string utc_now_iso8601() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Manifest make_manifest(std::string kind, nlohmann::json config) {
  Manifest m;
  m.kind = std::move(kind);
  m.created = utc_now_iso8601();
  m.tool = {{"name", "ksparse"},
            {"version", std::string(version_string())},
            {"git_commit", std::string(git_commit())},
            {"build_features", std::string(build_features())}};
  m.config = config.is_null() ? nlohmann::json::object() : std::move(config);
  m.stats = nlohmann::json::object();
  return m;
}

FileEntry describe_file(const fs::path& file, const fs::path& base) {
  FileEntry e;
  e.sha256 = sha256_file(file, &e.bytes);
  e.path = base.empty() ? fs::absolute(file).lexically_normal().string()
                        : fs::absolute(file).lexically_relative(fs::absolute(base)).string();
  return e;
}

void write_manifest(const fs::path& dir, const Manifest& manifest) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
  const fs::path file = dir / "manifest.json";
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << manifest.to_json().dump(2) << '\n';
  out.flush();
  if (!out) throw IoError(fmt::format("{}: cannot write manifest", file.string()));
}

Manifest read_manifest(const fs::path& path, std::string_view expected_kind,
                       int supported_version) {
  const fs::path file = fs::is_directory(path) ? path / "manifest.json" : path;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw IoError(fmt::format("{}: manifest not found; is this a ksparse artifact directory?",
                              file.string()));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw IoError(fmt::format("{}: manifest is not valid JSON: {}", file.string(), e.what()));
  }
  if (!j.is_object()) {
    throw IoError(fmt::format("{}: manifest must be a JSON object", file.string()));
  }
  using V = nlohmann::json::value_t;
  Manifest m;
  m.format_version = field(j, "format_version", V::number_integer, file, "an integer").get<int>();
  if (m.format_version > supported_version) {
    throw IoError(
        fmt::format("{}: manifest format_version {} is newer than this build supports "
                    "({}); upgrade ksparse or rebuild the artifact",
                    file.string(), m.format_version, supported_version));
  }
  m.kind = field(j, "kind", V::string, file, "a string").get<std::string>();
  if (!expected_kind.empty() && m.kind != expected_kind) {
    throw IoError(
        fmt::format("{}: expected artifact kind \"{}\", found \"{}\"; pass the "
                    "right directory",
                    file.string(), expected_kind, m.kind));
  }
  m.created = field(j, "created", V::string, file, "a string").get<std::string>();
  m.tool = field(j, "tool", V::object, file, "an object");
  m.config = field(j, "config", V::object, file, "an object");
  m.inputs = file_entries_from_json(field(j, "inputs", V::array, file, "an array"), "inputs", file);
  m.outputs =
      file_entries_from_json(field(j, "outputs", V::array, file, "an array"), "outputs", file);
  m.stats = field(j, "stats", V::object, file, "an object");
  return m;
}

}  // namespace ksparse
