// JSON Schema -> GBNF (llama.cpp's grammar format, start rule "root"), so that constrained
// generation can only produce JSON that the schema accepts.
//
// Supported (a subset of JSON Schema draft 2020-12; enough for structured prompts):
//   type: object | array | string | integer | number | boolean | null, or a list of these
//   object: properties (emitted in declaration order), required, additionalProperties (a boolean;
//           the grammar never produces extra properties, which both values allow)
//   array:  items (one schema), minItems, maxItems
//   string: minLength, maxLength (in code points); JSON escapes; raw control characters (so raw
//           newlines) are never produced
//   enum, const (any JSON values), anyOf / oneOf (alternatives; oneOf's exclusivity is not
//           enforced), {} / true (any JSON value)
//   annotations are ignored: title, description, default, examples, $schema, $id, $comment
// Anything else (pattern, format, minimum, $ref, ...) is a ConfigError naming the keyword and where
// it is (a JSON pointer), rather than a grammar that silently accepts more than the schema.
//
// Whitespace between tokens is bounded (`ws ::= | " " | "\n" [ \t]{0,20}`): unbounded whitespace
// lets a model emit whitespace forever. Integers have at most 16 digits and numbers at most 16
// fraction and 3 exponent digits, for the same reason. The root value has no surrounding
// whitespace, so generation ends right after the closing bracket.
#pragma once

#include <string>

namespace ksparse::llm {

struct JsonSchemaGrammarOptions {
  int max_ws_indent = 20;  // spaces/tabs after a newline in `ws` (>= 0)
};

// Converts a JSON schema (JSON text) into GBNF text with root rule "root". Pure, thread-safe.
// Throws ConfigError for invalid JSON, invalid keyword values (e.g. minItems > maxItems), and
// unsupported keywords.
std::string json_schema_to_gbnf(const std::string& schema_json,
                                const JsonSchemaGrammarOptions& options = {});

// Checks GBNF text with llama.cpp's own grammar parser (start rule "root"); throws ConfigError
// naming `setting` when it is rejected (undefined rule, syntax error). Thread-safe.
void check_gbnf(const std::string& gbnf, const std::string& setting = "grammar");

}  // namespace ksparse::llm
