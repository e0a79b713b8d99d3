// The stage runner: keys, skip decisions, atomic commits, resources, run log.
#include "ksparse/pipeline/runner.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "ksparse/core/error.h"
#include "ksparse/core/hash.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/version.h"

namespace ksparse::pipeline {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::uint64_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::istringstream ss(line.substr(prefix.size()));
      std::uint64_t kib = 0;
      ss >> kib;
      return kib;
    }
  }
  return 0;
}

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

json read_json_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return json();
  try {
    return json::parse(in);
  } catch (const json::exception&) {
    return json();
  }
}

void write_json_file(const fs::path& p, const json& j) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(p.string() + ": cannot write");
    out << j.dump(2) << "\n";
    if (!out) throw IoError(p.string() + ": write failed");
  }
  fs::rename(tmp, p);
}

// SHA-256 of input files, cached by (absolute path, size, mtime) in OUT/.work/file_hashes.json so
// that a multi-GiB GGUF is hashed once, not on every run.
class FileHashCache {
 public:
  explicit FileHashCache(fs::path path) : path_(std::move(path)) {
    cache_ = read_json_file(path_);
    if (!cache_.is_object()) cache_ = json::object();
  }
  std::string hash(const fs::path& file, std::uint64_t* bytes) {
    std::error_code ec;
    const fs::path abs = fs::absolute(file, ec);
    const auto size = fs::file_size(abs, ec);
    if (ec) throw IoError(file.string() + ": input file is missing or unreadable");
    const auto mtime = fs::last_write_time(abs).time_since_epoch().count();
    const std::string k = abs.string();
    if (cache_.contains(k)) {
      const json& e = cache_[k];
      if (e.value("size", std::uint64_t{0}) == size && e.value("mtime", std::int64_t{0}) == mtime) {
        if (bytes) *bytes = size;
        return e.value("sha256", std::string());
      }
    }
    const std::string h = sha256_file(abs, bytes);
    cache_[k] = {{"size", size}, {"mtime", static_cast<std::int64_t>(mtime)}, {"sha256", h}};
    dirty_ = true;
    return h;
  }
  void save() {
    if (!dirty_) return;
    fs::create_directories(path_.parent_path());
    write_json_file(path_, cache_);
    dirty_ = false;
  }

 private:
  fs::path path_;
  json cache_;
  bool dirty_ = false;
};

// OUT/.lock holding our pid; a lock whose process is gone is taken over.
class RunLock {
 public:
  explicit RunLock(fs::path path) : path_(std::move(path)) {
    std::ifstream in(path_);
    long pid = 0;
    if (in >> pid && pid > 0 && pid != static_cast<long>(::getpid()) &&
        ::kill(static_cast<pid_t>(pid), 0) == 0) {
      throw IoError(path_.parent_path().string() + ": another `ksparse run` (pid " +
                    std::to_string(pid) +
                    ") is using this output directory; wait for it or "
                    "remove " +
                    path_.string() + " if that process is not ksparse");
    }
    std::ofstream out(path_, std::ios::trunc);
    out << ::getpid() << "\n";
  }
  ~RunLock() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  fs::path path_;
};

std::vector<FileEntry> list_outputs(const fs::path& dir) {
  std::vector<FileEntry> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().filename() == "manifest.json") continue;
    out.push_back(describe_file(e.path(), dir));
  }
  std::sort(out.begin(), out.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  return out;
}

bool stage_enabled(const ConfigTable& section) { return section.get("enabled", true); }

struct Planned {
  const StageSpec* spec = nullptr;
  bool enabled = true;
  bool selected = false;  // in the set this invocation may run
  bool forced = false;
  StagePlan plan;
  std::vector<FileEntry> files;  // hashed external inputs
  std::string key;
  fs::path dir;
};

}  // namespace

void RunOptions::validate() const {
  if (out_dir.empty()) throw ConfigError("run: the output directory is empty (set `out` or --out)");
  if (!from.empty() && !only.empty())
    throw ConfigError("run: --from and --only exclude each other");
}

std::size_t RunSummary::ran() const {
  return static_cast<std::size_t>(std::count_if(
      stages.begin(), stages.end(), [](const StageOutcome& s) { return s.status == "ran"; }));
}

json RunSummary::to_json() const {
  json arr = json::array();
  for (const auto& s : stages) {
    arr.push_back({{"name", s.name},
                   {"status", s.status},
                   {"key", s.key},
                   {"seconds", s.seconds},
                   {"dir", s.dir.string()}});
  }
  return {{"stages", arr}, {"seconds", seconds}, {"resources", resources}};
}

void Pipeline::add_stage(StageSpec spec) {
  if (spec.name.empty() || !spec.plan || !spec.run) {
    throw ConfigError("pipeline: a stage needs a name, plan() and run()");
  }
  for (const auto& s : stages_) {
    if (s.name == spec.name) throw ConfigError("pipeline: stage `" + spec.name + "` added twice");
  }
  for (const auto& d : spec.deps) {
    const bool known = std::any_of(stages_.begin(), stages_.end(),
                                   [&](const StageSpec& s) { return s.name == d; });
    if (!known) {
      throw ConfigError("pipeline: stage `" + spec.name + "` depends on `" + d +
                        "`, which is not registered before it");
    }
  }
  stages_.push_back(std::move(spec));
}

void Pipeline::add_resource(std::string name, ResourceFactory factory) {
  resources_[std::move(name)] = std::move(factory);
}

std::optional<json> read_stage_manifest(const fs::path& out_dir, const std::string& stage) {
  const fs::path p = out_dir / stage / "manifest.json";
  if (!fs::exists(p)) return std::nullopt;
  json j = read_json_file(p);
  if (!j.is_object() || j.value("kind", std::string()) != kStageManifestPrefix + stage) {
    return std::nullopt;
  }
  return j;
}

std::uint64_t peak_rss_bytes() { return status_kib("VmHWM") * 1024; }
std::uint64_t current_rss_bytes() { return status_kib("VmRSS") * 1024; }
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

RunSummary Pipeline::run(const ConfigTable& config, const RunOptions& options) const {
  options.validate();
  const auto t_run = Clock::now();

  // Top-level keys: stage sections and the declared shared keys only.
  for (const std::string& k : config.keys()) {
    const bool stage = std::any_of(stages_.begin(), stages_.end(),
                                   [&](const StageSpec& s) { return s.name == k; });
    const bool shared =
        std::find(top_level_keys.begin(), top_level_keys.end(), k) != top_level_keys.end();
    if (!stage && !shared) {
      std::string valid;
      for (const auto& s : stages_) {
        if (!valid.empty()) valid.append(", ");
        valid.append(s.name);
      }
      for (const auto& s : top_level_keys) valid += ", " + s;
      throw ConfigError(config.where(k) + ": unknown key `" + k + "`; valid: " + valid);
    }
  }
  auto is_registered = [&](const std::string& n) {
    return std::any_of(stages_.begin(), stages_.end(),
                       [&](const StageSpec& s) { return s.name == n; });
  };
  for (const std::string* n : {&options.from, &options.only}) {
    if (!n->empty() && !is_registered(*n)) {
      std::string valid;
      for (const auto& s : stages_) {
        if (!valid.empty()) valid.append(", ");
        valid.append(s.name);
      }
      throw ConfigError("run: unknown stage `" + *n + "`; stages: " + valid);
    }
  }
  for (const auto& n : options.stages) {
    if (!is_registered(n)) throw ConfigError("run: unknown stage `" + n + "`");
  }

  const fs::path out = options.out_dir;
  fs::create_directories(out / ".work");
  fs::create_directories(out / ".tmp");
  RunLock lock(out / ".lock");
  FileHashCache hashes(out / ".work" / "file_hashes.json");

  // Plan every stage: resolve configs (errors surface before any work), hash inputs, chain keys.
  std::vector<Planned> planned;
  std::vector<std::string> config_errors;
  std::map<std::string, std::size_t> index;
  bool after_from = false;
  for (const StageSpec& spec : stages_) {
    Planned p;
    p.spec = &spec;
    p.dir = out / spec.name;
    const ConfigTable section = config.table(spec.name);
    p.enabled = stage_enabled(section) &&
                (options.stages.empty() || std::find(options.stages.begin(), options.stages.end(),
                                                     spec.name) != options.stages.end());
    if (spec.name == options.from) after_from = true;
    p.selected = p.enabled && (options.only.empty() || options.only == spec.name);
    p.forced = p.selected && (options.force || after_from);
    index[spec.name] = planned.size();
    if (!p.enabled) {
      planned.push_back(std::move(p));
      continue;
    }
    if (p.selected) {
      // Plan every stage even after an error, so one run reports every config mistake at once.
      try {
        p.plan = spec.plan(section, config);
      } catch (const ConfigError& e) {
        config_errors.push_back(e.what());
        planned.push_back(std::move(p));
        continue;
      }
      if (!config_errors.empty()) {
        planned.push_back(std::move(p));
        continue;
      }
      for (const fs::path& f : p.plan.files) {
        FileEntry e;
        e.path = fs::absolute(f).lexically_normal().string();
        e.sha256 = hashes.hash(f, &e.bytes);
        p.files.push_back(std::move(e));
      }
      json key_input = {{"stage", spec.name},
                        {"stage_version", spec.version},
                        {"ksparse", std::string(version_string())},
                        {"config", p.plan.config}};
      json deps = json::object();
      for (const std::string& d : spec.deps) {
        const Planned& dp = planned[index.at(d)];
        if (!dp.enabled) {
          deps[d] = "disabled";
        } else if (!dp.key.empty()) {
          deps[d] = dp.key;
        } else {
          throw ConfigError("run: stage `" + spec.name + "` needs `" + d +
                            "`, which has not finished yet; run without --only first");
        }
      }
      key_input["deps"] = deps;
      json files = json::array();
      for (const auto& f : p.files) files.push_back({{"path", f.path}, {"sha256", f.sha256}});
      key_input["files"] = files;
      p.key = sha256_hex(key_input.dump());
    } else {
      // Not selected (--only another stage): its key is whatever its finished artifact says.
      if (auto m = read_stage_manifest(out, spec.name)) {
        p.key = (*m)["stats"].value("key", std::string());
      }
    }
    planned.push_back(std::move(p));
  }
  if (config_errors.size() == 1) throw ConfigError(config_errors.front());
  if (!config_errors.empty()) {
    std::string msg = std::to_string(config_errors.size()) + " config errors:";
    for (const auto& e : config_errors) msg.append("\n  ").append(e);
    throw ConfigError(msg);
  }
  hashes.save();

  // Which stages run, and after which one each resource can be released.
  std::vector<bool> will_run(planned.size(), false);
  std::map<std::string, std::size_t> last_use;
  for (std::size_t i = 0; i < planned.size(); ++i) {
    const Planned& p = planned[i];
    if (!p.selected) continue;
    bool up_to_date = false;
    if (!p.forced) {
      if (auto m = read_stage_manifest(out, p.spec->name)) {
        up_to_date = (*m)["stats"].value("key", std::string()) == p.key;
      }
    }
    will_run[i] = !up_to_date;
    if (will_run[i]) {
      for (const auto& r : p.spec->resources) last_use[r] = i;
    }
  }

  std::map<std::string, std::unique_ptr<Resource>> live;
  RunSummary summary;
  auto acquire = [&](const std::string& name) -> Resource& {
    auto it = live.find(name);
    if (it != live.end()) return *it->second;
    auto f = resources_.find(name);
    if (f == resources_.end()) {
      throw ConfigError("run: resource `" + name + "` is not available in this build");
    }
    spdlog::info("run: loading {}", name);
    const auto t0 = Clock::now();
    const std::uint64_t rss0 = current_rss_bytes();
    auto res = f->second(config);
    summary.resources.push_back({{"name", name},
                                 {"event", "load"},
                                 {"seconds", seconds_since(t0)},
                                 {"rss_before_mib", mib(rss0)},
                                 {"rss_after_mib", mib(current_rss_bytes())},
                                 {"memory", res->memory()}});
    return *live.emplace(name, std::move(res)).first->second;
  };
  auto release_after = [&](std::size_t i) {
    for (auto it = live.begin(); it != live.end();) {
      auto lu = last_use.find(it->first);
      if (lu != last_use.end() && lu->second > i) {
        ++it;
        continue;
      }
      const std::uint64_t rss0 = current_rss_bytes();
      const std::string name = it->first;
      it = live.erase(it);
      spdlog::info("run: released {} after `{}` (RSS {:.0f} -> {:.0f} MiB)", name,
                   planned[i].spec->name, mib(rss0), mib(current_rss_bytes()));
      summary.resources.push_back({{"name", name},
                                   {"event", "unload"},
                                   {"after", planned[i].spec->name},
                                   {"rss_before_mib", mib(rss0)},
                                   {"rss_after_mib", mib(current_rss_bytes())}});
    }
  };
  auto write_log = [&] {
    json j = summary.to_json();
    j["finished"] = utc_now_iso8601();
    j["seconds"] = seconds_since(t_run);
    write_json_file(out / "run.json", j);
  };

  for (std::size_t i = 0; i < planned.size(); ++i) {
    const Planned& p = planned[i];
    StageOutcome o;
    o.name = p.spec->name;
    o.key = p.key;
    o.dir = p.dir;
    if (!p.enabled) {
      o.status = "disabled";
      summary.stages.push_back(o);
      continue;
    }
    if (!p.selected) continue;
    if (!will_run[i]) {
      o.status = "skipped";
      spdlog::info("run: {} is up to date ({})", o.name, p.dir.string());
      summary.stages.push_back(o);
      continue;
    }
    spdlog::info("run: {} ...", o.name);
    const auto t0 = Clock::now();
    const std::string started = utc_now_iso8601();
    const bool peak_reset = reset_peak_rss();
    const std::uint64_t rss_start = current_rss_bytes();
    const fs::path tmp = out / ".tmp" / (o.name + "-" + std::to_string(::getpid()));
    const fs::path work = out / ".work" / o.name;
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    fs::create_directories(work);
    std::map<std::string, fs::path> inputs;
    for (const std::string& d : p.spec->deps) {
      const Planned& dp = planned[index.at(d)];
      if (dp.enabled) inputs[d] = dp.dir;
    }
    StageContext ctx(*p.spec, p.plan, config.table(o.name), config, tmp, work, inputs, acquire);
    try {
      p.spec->run(ctx);
    } catch (...) {
      std::error_code ec;
      fs::remove_all(tmp, ec);
      live.clear();
      write_log();
      throw;
    }
    json devices = json::object();
    for (const auto& r : ctx.used_resources()) {
      auto it = live.find(r);
      if (it != live.end()) devices[r] = it->second->memory();
    }
    Manifest m = make_manifest(kStageManifestPrefix + o.name, p.plan.config);
    m.inputs = p.files;
    for (const std::string& d : p.spec->deps) {
      const Planned& dp = planned[index.at(d)];
      if (!dp.enabled) continue;
      FileEntry e;
      e.path = fs::absolute(dp.dir).lexically_normal().string();
      e.sha256 = dp.key;  // an artifact's identity is its key (see stage.h)
      m.inputs.push_back(std::move(e));
    }
    m.outputs = list_outputs(tmp);
    const double secs = seconds_since(t0);
    m.stats = {{"key", p.key},
               {"stage", ctx.stats},
               {"deps", p.spec->deps},
               {"timings", {{"started", started}, {"seconds", secs}}},
               {"memory",
                {{"rss_start_mib", mib(rss_start)},
                 {"rss_end_mib", mib(current_rss_bytes())},
                 {"peak_rss_mib", mib(peak_rss_bytes())},
                 {"peak_is_process_lifetime", !peak_reset}}}};
    if (!devices.empty()) m.stats["devices"] = devices;
    write_manifest(tmp, m);
    // Commit: the old artifact (if any) leaves first, then the new one takes its place.
    const fs::path old = out / ".tmp" / (o.name + "-old-" + std::to_string(::getpid()));
    std::error_code ec;
    fs::remove_all(old, ec);
    if (fs::exists(p.dir)) fs::rename(p.dir, old);
    fs::rename(tmp, p.dir);
    fs::remove_all(old, ec);
    o.status = "ran";
    o.seconds = seconds_since(t0);
    spdlog::info("run: {} done in {:.1f} s (peak RSS {:.0f} MiB)", o.name, o.seconds,
                 mib(peak_rss_bytes()));
    summary.stages.push_back(o);
    release_after(i);
    write_log();
  }
  live.clear();
  summary.seconds = seconds_since(t_run);
  write_log();
  return summary;
}

}  // namespace ksparse::pipeline
