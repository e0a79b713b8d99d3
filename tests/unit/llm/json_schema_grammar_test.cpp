// JSON schema -> GBNF: the exact grammar text for the structured-prompt schema, that llama.cpp's
// parser accepts every produced grammar, and errors naming unsupported keywords.
#include "ksparse/llm/json_schema_grammar.h"

#include <gtest/gtest.h>

#include <string>

#include "ksparse/core/error.h"
#include "ksparse/llm/backend.h"

namespace ksparse::llm {
namespace {

const char* kQueriesSchema = R"({
  "type": "object",
  "properties": {
    "queries": {
      "type": "array",
      "minItems": 3,
      "maxItems": 3,
      "items": {"type": "string", "minLength": 1, "maxLength": 40}
    }
  },
  "required": ["queries"],
  "additionalProperties": false
})";

TEST(JsonSchemaGrammar, QueriesSchemaExactGrammar) {
  const std::string g = json_schema_to_gbnf(kQueriesSchema);
  EXPECT_EQ(g,
            "root ::= \"{\" ws root-queries-kv ws \"}\"\n"
            "root-queries-kv ::= \"\\\"queries\\\"\" ws \":\" ws root-queries\n"
            "root-queries ::= \"[\" ws root-queries-item ( ws \",\" ws root-queries-item ){2} ws "
            "\"]\"\n"
            "root-queries-item ::= \"\\\"\" char{1,40} \"\\\"\"\n"
            "char ::= [^\"\\\\\\x7F\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" "
            "[0-9a-fA-F]{4})\n"
            "ws ::= | \" \" | \"\\n\" [ \\t]{0,20}\n");
  EXPECT_NO_THROW(check_gbnf(g));
}

TEST(JsonSchemaGrammar, OptionalPropertiesKeepOrderAndCommas) {
  const std::string g = json_schema_to_gbnf(R"({
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "boolean"}, "c": {"type": "null"}},
    "required": ["b"]})");
  // "a" may be absent; "b" is required, so the first member is a or b; "c" optional after b.
  EXPECT_NE(g.find("root ::= \"{\" ws ( root-a-kv ws \",\" ws root-b-kv ( ws \",\" ws "
                   "root-c-kv )? | root-b-kv ( ws \",\" ws root-c-kv )? ) ws \"}\"\n"),
            std::string::npos)
      << g;
  EXPECT_NE(g.find("integer ::= \"-\"? (\"0\" | [1-9] [0-9]{0,15})\n"), std::string::npos);
  EXPECT_NO_THROW(check_gbnf(g));

  // All optional: the empty object is allowed too.
  const std::string h = json_schema_to_gbnf(
      R"({"properties": {"x": {"type": "number"}, "y": {"type": "string"}}})");
  EXPECT_NE(h.find("root ::= \"{\" ws ( ( root-x-kv ( ws \",\" ws root-y-kv )? | root-y-kv ) "
                   "ws )? \"}\"\n"),
            std::string::npos)
      << h;
  EXPECT_NO_THROW(check_gbnf(h));
}

TEST(JsonSchemaGrammar, ArraysEnumsConstsAndAnyOf) {
  EXPECT_NE(json_schema_to_gbnf(R"({"type": "array", "items": {"type": "integer"}})")
                .find("root ::= \"[\" ws ( root-item ( ws \",\" ws root-item )* ws )? \"]\""),
            std::string::npos);
  EXPECT_NE(json_schema_to_gbnf(R"({"type": "array", "maxItems": 0})").find("root ::= \"[\" ws \"]\""),
            std::string::npos);
  EXPECT_NE(json_schema_to_gbnf(R"({"type": "array", "minItems": 2, "maxItems": 5})")
                .find("( ws \",\" ws json-value ){1,4}"),
            std::string::npos);
  EXPECT_EQ(json_schema_to_gbnf(R"({"enum": ["긍정", "부정", 3, null]})"),
            "root ::= \"\\\"긍정\\\"\" | \"\\\"부정\\\"\" | \"3\" | \"null\"\n");
  EXPECT_EQ(json_schema_to_gbnf(R"({"const": "a\"b"})"), "root ::= \"\\\"a\\\\\\\"b\\\"\"\n");
  const std::string any =
      json_schema_to_gbnf(R"({"anyOf": [{"type": "string"}, {"type": "null"}]})");
  EXPECT_NE(any.find("root ::= root-0 | root-1\n"), std::string::npos) << any;
  EXPECT_NE(json_schema_to_gbnf(R"({"type": ["string", "null"]})").find("root ::= string | null"),
            std::string::npos);
  for (const char* s :
       {R"({"type": "array", "items": {"type": "integer"}})", R"({"enum": ["a", 1]})",
        R"({"anyOf": [{"type": "string"}, {"type": "null"}]})", R"({})", R"(true)",
        R"({"type": "object"})", R"({"type": "string", "maxLength": 0})",
        R"({"type": "object", "properties": {"k-1 x": {"type": "array", "items": {}}}})"}) {
    EXPECT_NO_THROW(check_gbnf(json_schema_to_gbnf(s))) << s;
  }
}

TEST(JsonSchemaGrammar, WhitespaceBoundIsConfigurable) {
  JsonSchemaGrammarOptions o;
  o.max_ws_indent = 4;
  EXPECT_NE(json_schema_to_gbnf(R"({"type": "object"})", o).find("[ \\t]{0,4}"),
            std::string::npos);
  o.max_ws_indent = -1;
  EXPECT_THROW(json_schema_to_gbnf(R"({"type": "object"})", o), ConfigError);
}

void expect_config_error(const std::string& schema, const std::string& needle) {
  try {
    json_schema_to_gbnf(schema);
    ADD_FAILURE() << "no error for " << schema;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(JsonSchemaGrammar, UnsupportedAndInvalidSchemasNameTheProblem) {
  expect_config_error(R"({"type": "string", "pattern": "^a"})", "'pattern' at /");
  expect_config_error(R"({"properties": {"n": {"type": "integer", "minimum": 0}}})",
                      "'minimum' at /properties/n");
  expect_config_error(R"({"$ref": "#/defs/x"})", "'$ref'");
  expect_config_error(R"({"type": "array", "items": {"format": "date"}})",
                      "'format' at /items");
  expect_config_error(R"({"type": "array", "minItems": 3, "maxItems": 2})", "minItems 3 > maxItems 2");
  expect_config_error(R"({"type": "string", "minLength": -1})", "'minLength'");
  expect_config_error(R"({"type": "date"})", "'date'");
  expect_config_error(R"({"type": "object", "required": ["x"]})", "required property 'x'");
  expect_config_error(R"({"additionalProperties": {"type": "string"}, "type": "object"})",
                      "additionalProperties");
  expect_config_error(R"(false)", "accepts no value");
  expect_config_error(R"({"type": )", "not valid JSON");
}

TEST(CheckGbnf, RejectsBadGrammarsNamingTheSetting) {
  EXPECT_NO_THROW(check_gbnf("root ::= \"yes\" | \"no\""));
  try {
    check_gbnf("root ::= undefined-rule", "--grammar");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--grammar"), std::string::npos) << e.what();
  }
  EXPECT_THROW(check_gbnf("root ::= ("), ConfigError);
  EXPECT_THROW(check_gbnf("start ::= \"x\""), ConfigError);  // no root rule
}

TEST(GenerationRequest, PromptOrMessagesAndAtMostOneConstraint) {
  GenerationRequest r;
  EXPECT_THROW(r.validate(), ConfigError);  // neither
  r.prompt = "x";
  EXPECT_NO_THROW(r.validate());
  r.messages = {{"user", "x"}};
  EXPECT_THROW(r.validate(), ConfigError);  // both
  r.prompt.clear();
  EXPECT_NO_THROW(r.validate());
  r.messages = {{"robot", "x"}};
  EXPECT_THROW(r.validate(), ConfigError);
  r.messages = {{"user", "x"}};
  r.grammar = "root ::= \"a\"";
  EXPECT_NO_THROW(r.validate());
  r.json_schema = kQueriesSchema;
  EXPECT_THROW(r.validate(), ConfigError);  // both constraints
  r.grammar.clear();
  EXPECT_NO_THROW(r.validate());
  r.json_schema = R"({"type": "string", "pattern": "x"})";
  EXPECT_THROW(r.validate(), ConfigError);
  r.json_schema.clear();
  r.grammar = "root ::= nothing-here";
  try {
    r.validate();
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("grammar"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ksparse::llm
