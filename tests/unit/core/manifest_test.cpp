#include "ksparse/core/manifest.h"

#include <gtest/gtest.h>

#include <functional>
#include <regex>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"
#include "ksparse/core/version.h"

namespace ksparse {
namespace {

using test::TempDir;
using test::write_file;

std::string io_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IoError";
  return {};
}

TEST(Manifest, MakeFillsToolAndUtcTimestamp) {
  Manifest m = make_manifest("index", {{"k1", 0.9}});
  EXPECT_EQ(m.format_version, kManifestFormatVersion);
  EXPECT_EQ(m.kind, "index");
  EXPECT_TRUE(std::regex_match(m.created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")))
      << m.created;
  EXPECT_EQ(m.tool["name"], "ksparse");
  EXPECT_EQ(m.tool["version"], std::string(version_string()));
  EXPECT_EQ(m.tool["git_commit"], std::string(git_commit()));
  EXPECT_EQ(m.tool["build_features"], std::string(build_features()));
  EXPECT_EQ(m.config["k1"], 0.9);
}

TEST(Manifest, DescribeFileHashesAndRelativizes) {
  TempDir tmp;
  auto p = write_file(tmp / "art/sub/data.txt", "abc");
  FileEntry rel = describe_file(p, tmp / "art");
  EXPECT_EQ(rel.path, "sub/data.txt");
  EXPECT_EQ(rel.sha256, sha256_hex("abc"));
  EXPECT_EQ(rel.bytes, 3u);
  FileEntry abs = describe_file(p);
  EXPECT_EQ(abs.path, std::filesystem::absolute(p).lexically_normal().string());
}

TEST(Manifest, WriteReadRoundTrip) {
  TempDir tmp;
  write_file(tmp / "art/corpus.jsonl", "{}\n");
  Manifest m = make_manifest("dataset", {{"seed", 13}, {"name", "한국어"}});
  m.inputs.push_back({"/abs/in.json", std::string(64, 'a'), 123});
  m.outputs.push_back(describe_file(tmp / "art/corpus.jsonl", tmp / "art"));
  m.stats = {{"passages", 961}};
  write_manifest(tmp / "art", m);

  Manifest back = read_manifest(tmp / "art", "dataset");
  EXPECT_EQ(back.to_json(), m.to_json());
  // Also accepts the file path itself.
  EXPECT_EQ(read_manifest(tmp / "art/manifest.json", "").kind, "dataset");
  auto j = nlohmann::json::parse(test::read_file(tmp / "art/manifest.json"));
  for (const char* key :
       {"format_version", "kind", "created", "tool", "config", "inputs", "outputs", "stats"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["outputs"][0]["path"], "corpus.jsonl");
}

TEST(Manifest, WrongKindNamesFileAndBothKinds) {
  TempDir tmp;
  write_manifest(tmp / "art", make_manifest("dataset"));
  auto msg = io_error_of([&] { read_manifest(tmp / "art", "index"); });
  EXPECT_EQ(msg, (tmp / "art/manifest.json").string() +
                     ": expected artifact kind \"index\", found \"dataset\"; pass the right "
                     "directory");
}

TEST(Manifest, NewerFormatVersionNamesFileAndBothVersions) {
  TempDir tmp;
  Manifest m = make_manifest("dataset");
  m.format_version = kManifestFormatVersion + 1;
  write_manifest(tmp / "art", m);
  auto msg = io_error_of([&] { read_manifest(tmp / "art", "dataset"); });
  EXPECT_EQ(msg, (tmp / "art/manifest.json").string() + ": manifest format_version " +
                     std::to_string(kManifestFormatVersion + 1) +
                     " is newer than this build supports (" +
                     std::to_string(kManifestFormatVersion) +
                     "); upgrade ksparse or rebuild the artifact");
  // An older version than supported is fine.
  EXPECT_NO_THROW(read_manifest(tmp / "art", "dataset", kManifestFormatVersion + 1));
}

TEST(Manifest, MissingOrDamagedFiles) {
  TempDir tmp;
  EXPECT_EQ(io_error_of([&] { read_manifest(tmp.path(), "dataset"); }),
            (tmp / "manifest.json").string() +
                ": manifest not found; is this a ksparse artifact directory?");
  write_file(tmp / "manifest.json", "{\"format_version\": 1, \"kind\": \"dataset\"}");
  EXPECT_EQ(io_error_of([&] { read_manifest(tmp.path(), "dataset"); }),
            (tmp / "manifest.json").string() +
                ": manifest field `created` is missing; the artifact is damaged or was not "
                "written by ksparse");
  write_file(tmp / "manifest.json", "{\"format_version\": \"1\"}");
  EXPECT_EQ(io_error_of([&] { read_manifest(tmp.path(), "dataset"); }),
            (tmp / "manifest.json").string() +
                ": manifest field `format_version` must be an integer, got string");
  write_file(tmp / "manifest.json", "{not json");
  EXPECT_NE(io_error_of([&] {
              read_manifest(tmp.path(), "dataset");
            }).find(": manifest is not valid JSON"),
            std::string::npos);
}

}  // namespace
}  // namespace ksparse
