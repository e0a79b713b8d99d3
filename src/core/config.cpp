#include "ksparse/core/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "ksparse/core/error.h"

namespace ksparse {
namespace fs = std::filesystem;

struct ConfigTable::Impl {
  std::shared_ptr<const toml::table> root;  // owns the parsed document
  const toml::table* table = nullptr;       // this table, inside root
  std::string name;                         // dotted path, "" for the root
  fs::path source;
};

namespace {

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

std::string position(const fs::path& source, const toml::source_region& region) {
  std::string file = source.empty() ? std::string("<config>") : source.string();
  if (region.begin.line == 0) return file;
  return fmt::format("{}:{}:{}", file, region.begin.line, region.begin.column);
}

// Everything a conversion needs to write a good message.
struct Ctx {
  const ConfigTable::Impl& impl;
  std::string_view key;

  std::string dotted() const {
    return impl.name.empty() ? std::string(key) : impl.name + "." + std::string(key);
  }
  [[noreturn]] void wrong_type(const toml::node& n, std::string_view expected) const {
    throw ConfigError(fmt::format("{}: `{}` must be {}, got {}", position(impl.source, n.source()),
                                  dotted(), expected, type_name(n)));
  }
};

void convert(const toml::node& n, const Ctx& ctx, std::string& out) {
  if (!n.is_string()) ctx.wrong_type(n, "a string");
  out = n.as_string()->get();
}

void convert(const toml::node& n, const Ctx& ctx, bool& out) {
  if (!n.is_boolean()) ctx.wrong_type(n, "a boolean (true or false)");
  out = n.as_boolean()->get();
}

template <typename Int>
void convert_int(const toml::node& n, const Ctx& ctx, Int& out, std::string_view expected) {
  if (!n.is_integer()) ctx.wrong_type(n, expected);
  const std::int64_t v = n.as_integer()->get();
  bool fits;
  if constexpr (std::is_unsigned_v<Int>) {
    fits = v >= 0;
  } else {
    fits = v >= static_cast<std::int64_t>(std::numeric_limits<Int>::min()) &&
           v <= static_cast<std::int64_t>(std::numeric_limits<Int>::max());
  }
  if (!fits) {
    throw ConfigError(fmt::format("{}: `{}` = {} is out of range for {}",
                                  position(ctx.impl.source, n.source()), ctx.dotted(), v,
                                  expected));
  }
  out = static_cast<Int>(v);
}

void convert(const toml::node& n, const Ctx& ctx, int& out) {
  convert_int(n, ctx, out, "an integer");
}
void convert(const toml::node& n, const Ctx& ctx, std::int64_t& out) {
  convert_int(n, ctx, out, "an integer");
}
void convert(const toml::node& n, const Ctx& ctx, std::uint64_t& out) {
  convert_int(n, ctx, out, "a non-negative integer");
}

void convert(const toml::node& n, const Ctx& ctx, double& out) {
  if (n.is_floating_point()) {
    out = n.as_floating_point()->get();
  } else if (n.is_integer()) {
    out = static_cast<double>(n.as_integer()->get());
  } else {
    ctx.wrong_type(n, "a number");
  }
}

void convert(const toml::node& n, const Ctx& ctx, float& out) {
  double d = 0;
  convert(n, ctx, d);
  out = static_cast<float>(d);
}

void convert(const toml::node& n, const Ctx& ctx, fs::path& out) {
  std::string s;
  convert(n, ctx, s);
  out = fs::path(s);
  if (out.is_relative() && !ctx.impl.source.empty()) out = ctx.impl.source.parent_path() / out;
}

template <typename Elem>
void convert(const toml::node& n, const Ctx& ctx, std::vector<Elem>& out) {
  if (!n.is_array()) ctx.wrong_type(n, "an array");
  out.clear();
  for (const toml::node& e : *n.as_array()) {
    Elem v{};
    convert(e, ctx, v);
    out.push_back(std::move(v));
  }
}

nlohmann::json node_to_json(const toml::node& n) {
  if (auto t = n.as_table()) {
    nlohmann::json obj = nlohmann::json::object();
    for (auto&& [k, v] : *t) obj[std::string(k.str())] = node_to_json(v);
    return obj;
  }
  if (auto a = n.as_array()) {
    nlohmann::json arr = nlohmann::json::array();
    for (const toml::node& e : *a) arr.push_back(node_to_json(e));
    return arr;
  }
  if (auto s = n.as_string()) return s->get();
  if (auto i = n.as_integer()) return i->get();
  if (auto f = n.as_floating_point()) return f->get();
  if (auto b = n.as_boolean()) return b->get();
  // Dates and times: TOML's own text form is ISO-8601.
  std::ostringstream os;
  if (auto d = n.as_date()) os << *d;
  if (auto t = n.as_time()) os << *t;
  if (auto dt = n.as_date_time()) os << *dt;
  return os.str();
}

}  // namespace

ConfigTable::ConfigTable() {
  auto impl = std::make_shared<Impl>();
  auto root = std::make_shared<toml::table>();
  impl->table = root.get();
  impl->root = std::move(root);
  impl_ = std::move(impl);
}

ConfigTable::ConfigTable(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

template <typename T>
T ConfigTable::get(std::string_view key, const T& default_value) const {
  const toml::node* n = impl_->table->get(key);
  if (!n) return default_value;
  T out{};
  convert(*n, Ctx{*impl_, key}, out);
  return out;
}

template <typename T>
T ConfigTable::require(std::string_view key) const {
  const toml::node* n = impl_->table->get(key);
  if (!n) {
    throw ConfigError(fmt::format("{}: missing required key `{}`{}", where(),
                                  Ctx{*impl_, key}.dotted(),
                                  impl_->name.empty() ? "" : " in [" + impl_->name + "]"));
  }
  T out{};
  convert(*n, Ctx{*impl_, key}, out);
  return out;
}

#define KSPARSE_CONFIG_INSTANTIATE(T)                               \
  template T ConfigTable::get<T>(std::string_view, const T&) const; \
  template T ConfigTable::require<T>(std::string_view) const;
KSPARSE_CONFIG_INSTANTIATE(bool)
KSPARSE_CONFIG_INSTANTIATE(int)
KSPARSE_CONFIG_INSTANTIATE(std::int64_t)
KSPARSE_CONFIG_INSTANTIATE(std::uint64_t)
KSPARSE_CONFIG_INSTANTIATE(float)
KSPARSE_CONFIG_INSTANTIATE(double)
KSPARSE_CONFIG_INSTANTIATE(std::string)
KSPARSE_CONFIG_INSTANTIATE(fs::path)
KSPARSE_CONFIG_INSTANTIATE(std::vector<std::string>)
KSPARSE_CONFIG_INSTANTIATE(std::vector<std::int64_t>)
KSPARSE_CONFIG_INSTANTIATE(std::vector<double>)
#undef KSPARSE_CONFIG_INSTANTIATE

ConfigTable ConfigTable::table(std::string_view key) const {
  auto impl = std::make_shared<Impl>();
  impl->root = impl_->root;
  impl->source = impl_->source;
  impl->name = Ctx{*impl_, key}.dotted();
  const toml::node* n = impl_->table->get(key);
  if (!n) {
    // Absent: an empty table that still names its place, so defaults apply everywhere.
    static const toml::table kEmpty;
    impl->table = &kEmpty;
  } else if (!n->is_table()) {
    Ctx{*impl_, key}.wrong_type(*n, "a table");
  } else {
    impl->table = n->as_table();
  }
  return ConfigTable(std::move(impl));
}

bool ConfigTable::contains(std::string_view key) const { return impl_->table->contains(key); }
bool ConfigTable::empty() const { return impl_->table->empty(); }

std::vector<std::string> ConfigTable::keys() const {
  std::vector<std::string> out;
  for (auto&& [k, v] : *impl_->table) out.emplace_back(k.str());
  return out;
}

void ConfigTable::expect_keys(std::initializer_list<std::string_view> valid) const {
  for (auto&& [k, v] : *impl_->table) {
    if (std::find(valid.begin(), valid.end(), k.str()) != valid.end()) continue;
    std::vector<std::string> names(valid.begin(), valid.end());
    std::sort(names.begin(), names.end());
    std::string list;
    for (const auto& s : names) list += (list.empty() ? "" : ", ") + s;
    throw ConfigError(fmt::format("{}: unknown key `{}`{}; valid keys: {}",
                                  position(impl_->source, k.source()),
                                  Ctx{*impl_, k.str()}.dotted(),
                                  impl_->name.empty() ? "" : " in [" + impl_->name + "]", list));
  }
}

std::string ConfigTable::where(std::string_view key) const {
  if (!key.empty()) {
    if (const toml::node* n = impl_->table->get(key)) return position(impl_->source, n->source());
  }
  return position(impl_->source, impl_->table->source());
}

const std::string& ConfigTable::name() const { return impl_->name; }
const fs::path& ConfigTable::source() const { return impl_->source; }

nlohmann::json ConfigTable::to_json() const { return node_to_json(*impl_->table); }

ConfigTable parse_config(std::string_view text, const fs::path& source_name) {
  auto impl = std::make_shared<ConfigTable::Impl>();
  impl->source = source_name;
  try {
    auto root = std::make_shared<toml::table>(toml::parse(text, source_name.string()));
    impl->table = root.get();
    impl->root = std::move(root);
  } catch (const toml::parse_error& e) {
    throw ConfigError(
        fmt::format("{}: invalid TOML: {}", position(source_name, e.source()), e.description()));
  }
  return ConfigTable(std::move(impl));
}

ConfigTable load_config(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open config file", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path);
}

}  // namespace ksparse
