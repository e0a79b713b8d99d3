// JSON Schema -> GBNF. Every schema node becomes one rule named after its path ("root",
// "root-queries", "root-queries-item", ...); JSON primitives are shared rules emitted once, after
// the schema's rules. Whitespace and number lengths are bounded so that a grammar-constrained model
// always reaches the end of the value (unbounded whitespace lets it emit blanks forever).
#include "ksparse/llm/json_schema_grammar.h"

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "ksparse/core/error.h"

namespace ksparse::llm {
namespace {

using ojson = nlohmann::ordered_json;

// Keywords that change nothing about which values are valid.
const std::set<std::string, std::less<>> kAnnotations = {
    "title",    "description", "default", "examples", "$schema",
    "$id",      "$comment",    "deprecated", "readOnly", "writeOnly",
};

const std::set<std::string, std::less<>> kSupported = {
    "type",     "properties", "required", "additionalProperties",
    "items",    "minItems",   "maxItems", "minLength",
    "maxLength", "enum",      "const",    "anyOf",
    "oneOf",
};

// A GBNF string literal matching exactly `text` (UTF-8 passes through; quotes, backslashes and
// control characters are escaped).
std::string gbnf_literal(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\x{:02X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

// "{lo,hi}" / "{n}" / "{lo,}" / "*" repetition suffix; hi < 0 means unbounded.
std::string repetition(int64_t lo, int64_t hi) {
  if (hi < 0) return lo == 0 ? "*" : lo == 1 ? "+" : fmt::format("{{{},}}", lo);
  if (lo == hi) return fmt::format("{{{}}}", lo);
  if (lo == 0 && hi == 1) return "?";
  return fmt::format("{{{},{}}}", lo, hi);
}

std::string pointer_child(const std::string& ptr, std::string_view key) {
  std::string k;
  for (const char c : key) {
    if (c == '~') {
      k += "~0";
    } else if (c == '/') {
      k += "~1";
    } else {
      k += c;
    }
  }
  return ptr + "/" + k;
}

class Converter {
 public:
  explicit Converter(const JsonSchemaGrammarOptions& o) : opts_(o) {}

  std::string run(const ojson& schema) {
    visit(schema, "root", "");
    std::string out;
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    // Shared primitives (GBNF rules may refer to rules defined later).
    if (used_.count("json-value") != 0) {
      used_.insert({"string", "number", "boolean", "null", "ws"});
    }
    if (used_.count("number") != 0) used_.insert("integer");
    if (used_.count("string") != 0) used_.insert("char");
    if (used_.count("json-value") != 0) {
      out +=
          "json-value ::= json-object | json-array | string | number | boolean | null\n"
          "json-object ::= \"{\" ws ( string ws \":\" ws json-value ( ws \",\" ws string ws "
          "\":\" ws json-value )* ws )? \"}\"\n"
          "json-array ::= \"[\" ws ( json-value ( ws \",\" ws json-value )* ws )? \"]\"\n";
    }
    if (used_.count("string") != 0) out += "string ::= \"\\\"\" char* \"\\\"\"\n";
    if (used_.count("char") != 0) {
      out +=
          "char ::= [^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" "
          "[0-9a-fA-F]{4})\n";
    }
    if (used_.count("number") != 0) {
      out += "number ::= integer (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?\n";
    }
    if (used_.count("integer") != 0) out += "integer ::= \"-\"? (\"0\" | [1-9] [0-9]{0,15})\n";
    if (used_.count("boolean") != 0) out += "boolean ::= \"true\" | \"false\"\n";
    if (used_.count("null") != 0) out += "null ::= \"null\"\n";
    if (used_.count("ws") != 0) {
      out += fmt::format("ws ::= | \" \" | \"\\n\" [ \\t]{{0,{}}}\n", opts_.max_ws_indent);
    }
    return out;
  }

 private:
  // Defines rule `name` (made unique) for `schema` at JSON pointer `ptr`; returns the rule name.
  std::string visit(const ojson& schema, const std::string& hint, const std::string& ptr) {
    const std::string name = unique_name(hint);
    const size_t slot = rules_.size();
    rules_.emplace_back(name, "");  // reserve the position so rules read top-down
    rules_[slot].second = body(schema, name, ptr);
    return name;
  }

  std::string body(const ojson& schema, const std::string& name, const std::string& ptr) {
    const std::string where = ptr.empty() ? "/" : ptr;
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) {
        throw ConfigError(fmt::format("json_schema: schema 'false' at {} accepts no value", where));
      }
      return use("json-value");
    }
    if (!schema.is_object()) {
      throw ConfigError(
          fmt::format("json_schema: at {}: a schema must be an object or a boolean", where));
    }
    for (const auto& [key, value] : schema.items()) {
      if (kAnnotations.count(key) != 0 || kSupported.count(key) != 0) continue;
      throw ConfigError(fmt::format(
          "json_schema: unsupported keyword '{}' at {} (supported: type, properties, required, "
          "additionalProperties, items, minItems, maxItems, minLength, maxLength, enum, const, "
          "anyOf, oneOf)",
          key, where));
    }
    if (schema.contains("const")) return gbnf_literal(schema["const"].dump());
    if (schema.contains("enum")) {
      const auto& e = schema["enum"];
      if (!e.is_array() || e.empty()) {
        throw ConfigError(
            fmt::format("json_schema: 'enum' at {} must be a non-empty array", where));
      }
      std::string alts;
      for (const auto& v : e) {
        if (!alts.empty()) alts += " | ";
        alts += gbnf_literal(v.dump());
      }
      return alts;
    }
    for (const char* kw : {"anyOf", "oneOf"}) {
      if (!schema.contains(kw)) continue;
      const auto& list = schema[kw];
      if (!list.is_array() || list.empty()) {
        throw ConfigError(
            fmt::format("json_schema: '{}' at {} must be a non-empty array", kw, where));
      }
      if (schema.contains("type")) {
        throw ConfigError(fmt::format(
            "json_schema: '{}' together with 'type' at {} is unsupported; put the type into each "
            "alternative",
            kw, where));
      }
      std::string alts;
      for (size_t i = 0; i < list.size(); ++i) {
        if (!alts.empty()) alts += " | ";
        alts += visit(list[i], fmt::format("{}-{}", name, i),
                      pointer_child(pointer_child(ptr, kw), std::to_string(i)));
      }
      return alts;
    }

    std::vector<std::string> types;
    if (schema.contains("type")) {
      const auto& t = schema["type"];
      if (t.is_string()) {
        types.push_back(t.get<std::string>());
      } else if (t.is_array() && !t.empty()) {
        for (const auto& x : t) {
          if (!x.is_string()) {
            throw ConfigError(fmt::format("json_schema: 'type' at {} lists a non-string", where));
          }
          types.push_back(x.get<std::string>());
        }
      } else {
        throw ConfigError(fmt::format(
            "json_schema: 'type' at {} must be a string or a non-empty array of strings", where));
      }
    } else if (schema.contains("properties")) {
      types.push_back("object");
    } else if (schema.contains("items")) {
      types.push_back("array");
    } else if (schema.contains("minLength") || schema.contains("maxLength")) {
      types.push_back("string");
    } else {
      return use("json-value");
    }
    std::string alts;
    for (const auto& t : types) {
      if (!alts.empty()) alts += " | ";
      alts += typed(schema, t, name, ptr, where);
    }
    return alts;
  }

  std::string typed(const ojson& schema, const std::string& type, const std::string& name,
                    const std::string& ptr, const std::string& where) {
    if (type == "object") return object(schema, name, ptr, where);
    if (type == "array") return array(schema, name, ptr, where);
    if (type == "string") return string(schema, where);
    if (type == "integer") return use("integer");
    if (type == "number") return use("number");
    if (type == "boolean") return use("boolean");
    if (type == "null") return use("null");
    throw ConfigError(fmt::format(
        "json_schema: 'type' at {}: '{}' (must be object, array, string, integer, number, "
        "boolean or null)",
        where, type));
  }

  std::string object(const ojson& schema, const std::string& name, const std::string& ptr,
                     const std::string& where) {
    use("ws");
    if (schema.contains("additionalProperties") && !schema["additionalProperties"].is_boolean()) {
      throw ConfigError(fmt::format(
          "json_schema: unsupported keyword 'additionalProperties' with a schema value at {} "
          "(only true/false)",
          where));
    }
    std::set<std::string, std::less<>> required;
    if (schema.contains("required")) {
      const auto& r = schema["required"];
      if (!r.is_array()) {
        throw ConfigError(fmt::format("json_schema: 'required' at {} must be an array", where));
      }
      for (const auto& x : r) {
        if (!x.is_string()) {
          throw ConfigError(fmt::format("json_schema: 'required' at {} lists a non-string", where));
        }
        required.insert(x.get<std::string>());
      }
    }
    struct Member {
      std::string rule;  // the key-value rule
      bool required;
    };
    std::vector<Member> members;
    if (schema.contains("properties")) {
      const auto& props = schema["properties"];
      if (!props.is_object()) {
        throw ConfigError(fmt::format("json_schema: 'properties' at {} must be an object", where));
      }
      const std::string props_ptr = pointer_child(ptr, "properties");
      for (const auto& [key, sub] : props.items()) {
        const std::string kv = unique_name(name + "-" + sanitize(key) + "-kv");
        const size_t slot = rules_.size();
        rules_.emplace_back(kv, "");
        const std::string value = visit(sub, name + "-" + sanitize(key), pointer_child(props_ptr, key));
        rules_[slot].second = gbnf_literal(ojson(key).dump()) + " ws \":\" ws " + value;
        members.push_back({kv, required.count(key) != 0});
      }
    }
    for (const auto& r : required) {
      bool found = false;
      if (schema.contains("properties")) found = schema["properties"].contains(r);
      if (!found) {
        throw ConfigError(fmt::format(
            "json_schema: required property '{}' at {} has no schema under 'properties'", r,
            where));
      }
    }
    if (members.empty()) return "\"{\" ws \"}\"";
    // Members keep declaration order; the first one present has no comma before it, so the body
    // is a choice over which member comes first (every optional member before it is absent).
    const std::string sep = "ws \",\" ws ";
    std::vector<std::string> alts;
    bool all_optional = true;
    for (size_t first = 0; first < members.size(); ++first) {
      std::string alt = members[first].rule;
      for (size_t j = first + 1; j < members.size(); ++j) {
        alt += members[j].required ? " " + sep + members[j].rule
                                   : " ( " + sep + members[j].rule + " )?";
      }
      alts.push_back(alt);
      if (members[first].required) {
        all_optional = false;
        break;
      }
    }
    std::string choice;
    for (const auto& a : alts) choice += (choice.empty() ? "" : " | ") + a;
    if (alts.size() > 1) choice = "( " + choice + " )";
    if (all_optional) return "\"{\" ws ( " + choice + " ws )? \"}\"";
    return "\"{\" ws " + choice + " ws \"}\"";
  }

  std::string array(const ojson& schema, const std::string& name, const std::string& ptr,
                    const std::string& where) {
    use("ws");
    const int64_t lo = count(schema, "minItems", 0, where);
    const int64_t hi = count(schema, "maxItems", -1, where);
    if (hi >= 0 && lo > hi) {
      throw ConfigError(
          fmt::format("json_schema: minItems {} > maxItems {} at {}", lo, hi, where));
    }
    if (hi == 0) return "\"[\" ws \"]\"";
    std::string item;
    if (schema.contains("items")) {
      item = visit(schema["items"], name + "-item", pointer_child(ptr, "items"));
    } else {
      item = use("json-value");
    }
    const std::string tail =
        "( ws \",\" ws " + item + " )" + repetition(std::max<int64_t>(lo - 1, 0), hi < 0 ? -1 : hi - 1);
    const std::string list = item + " " + tail + " ws";
    if (lo == 0) return "\"[\" ws ( " + list + " )? \"]\"";
    return "\"[\" ws " + list + " \"]\"";
  }

  std::string string(const ojson& schema, const std::string& where) {
    const int64_t lo = count(schema, "minLength", 0, where);
    const int64_t hi = count(schema, "maxLength", -1, where);
    if (hi >= 0 && lo > hi) {
      throw ConfigError(
          fmt::format("json_schema: minLength {} > maxLength {} at {}", lo, hi, where));
    }
    if (lo == 0 && hi < 0) return use("string");
    use("char");
    if (hi == 0) return "\"\\\"\\\"\"";
    return "\"\\\"\" char" + repetition(lo, hi) + " \"\\\"\"";
  }

  static int64_t count(const ojson& schema, const char* key, int64_t absent,
                       const std::string& where) {
    if (!schema.contains(key)) return absent;
    const auto& v = schema[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      throw ConfigError(fmt::format("json_schema: '{}' at {} must be a non-negative integer: {}",
                                    key, where, v.dump()));
    }
    return v.get<int64_t>();
  }

  std::string use(const std::string& primitive) {
    used_.insert(primitive);
    return primitive;
  }

  static std::string sanitize(std::string_view key) {
    std::string out;
    for (const char c : key) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      out += ok ? c : '-';
    }
    return out.empty() ? "p" : out;
  }

  std::string unique_name(const std::string& hint) {
    std::string name = hint;
    for (int i = 2; taken_.count(name) != 0 || kReserved.count(name) != 0; ++i) {
      name = fmt::format("{}{}", hint, i);
    }
    taken_.insert(name);
    return name;
  }

  inline static const std::set<std::string, std::less<>> kReserved = {
      "ws",     "char",       "string",      "integer",    "number",
      "boolean", "null",      "json-value",  "json-object", "json-array",
  };

  JsonSchemaGrammarOptions opts_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::set<std::string, std::less<>> taken_;
  std::set<std::string, std::less<>> used_;
};

}  // namespace

std::string json_schema_to_gbnf(const std::string& schema_json,
                                const JsonSchemaGrammarOptions& options) {
  if (options.max_ws_indent < 0) {
    throw ConfigError(
        fmt::format("max_ws_indent: {} (must be >= 0)", options.max_ws_indent));
  }
  ojson schema;
  try {
    schema = ojson::parse(schema_json);
  } catch (const ojson::parse_error& e) {
    throw ConfigError(fmt::format("json_schema: not valid JSON ({})", e.what()));
  }
  return Converter(options).run(schema);
}

}  // namespace ksparse::llm
