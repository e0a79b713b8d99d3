// OpenAI-compatible HTTP backend (libcurl): llama-server, vLLM, Ollama or any server that speaks
// /v1/chat/completions and /v1/completions. This is how generation scales beyond one machine: run
// llama-server on each GPU box and point this backend at it.
//
// Routing: a request with `messages` goes to <base>/v1/chat/completions (the server renders its
// chat template); a request with `prompt` goes to <base>/v1/completions.
//
// Concurrency: up to `concurrency` requests are in flight at once (one curl multi handle, no extra
// threads). Retries: a connection error, a timeout, HTTP 408/429/5xx, or a body that is not the
// expected JSON is retried up to `max_retries` times with exponential backoff and jitter (a
// server's Retry-After is honoured when larger). Other 4xx answers (bad request, bad key) fail at
// once. Results already received are never lost: generate_partial() returns them with per-request
// errors, and generate() throws HttpGenerationError, which carries them too.
//
// Field mapping (dialect kLlamaServer, the default; kOpenAi sends only fields the OpenAI API
// documents, which vLLM and Ollama accept as well):
//   max_tokens, stop, temperature, top_p, seed (kSeedFromIndex -> base_seed + request index)
//   top_k, min_p, repeat_penalty, repeat_last_n, ignore_eos          llama-server only
//   presence_penalty                                                  both
//   json_schema -> chat: response_format {type: json_schema, json_schema: {name, schema, strict}}
//                  completions: "json_schema" (llama-server) / response_format (kOpenAi)
//   grammar     -> "grammar" (GBNF; llama-server only, ConfigError under kOpenAi)
//   logprobs    -> chat: logprobs=true, top_logprobs=1; completions: logprobs=1
// Result mapping:
//   text <- choices[0].message.content | choices[0].text; prompt_tokens/generated_tokens <- usage
//   mean_logprob <- mean of the returned token log-probabilities (llama-server reports log-softmax
//     of the raw logits, the same quantity as the in-process backend; it omits the tokens of a
//     matched stop string), 0 when the server returns none
//   tokens <- logprobs[].id where the server reports ids (llama-server does), else empty
//   finish: "length" -> kLength; "stop" -> kEos when the request had no stop strings, or when the
//     server's per-token log-probabilities cover every generated token (llama-server drops the stop
//     string's tokens from them but keeps an end-of-generation token); otherwise kStop.
//
// Thread-safety: one generate()/generate_partial() at a time per backend object.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ksparse/core/error.h"
#include "ksparse/llm/backend.h"

namespace ksparse {
class ConfigTable;
}

namespace ksparse::llm {

enum class HttpDialect {
  kLlamaServer,  // llama.cpp's llama-server: all fields of the mapping above
  kOpenAi,       // only OpenAI-documented fields (api.openai.com, vLLM, Ollama, ...)
};
// "llama-server" | "openai"; ConfigError naming `setting` otherwise.
HttpDialect parse_http_dialect(const std::string& text, const std::string& setting);
const char* http_dialect_name(HttpDialect dialect);

struct HttpBackendOptions {
  // Server root ("http://127.0.0.1:8080") or its OpenAI prefix ("https://host/v1"); the endpoint
  // paths /v1/chat/completions and /v1/completions are appended (without a second /v1).
  std::string base_url;
  std::string model;        // the "model" field; "" = not sent (llama-server serves its one model)
  std::string api_key_env;  // environment variable holding the API key, sent as "Authorization:
                            // Bearer"; "" = no key. Never put the key itself in a config file.
  HttpDialect dialect = HttpDialect::kLlamaServer;
  int concurrency = 4;               // requests in flight at once (match the server's slots, -np)
  double connect_timeout_s = 10.0;   // TCP/TLS connect, per attempt
  double request_timeout_s = 600.0;  // whole attempt, generation included
  int max_retries = 4;               // further attempts after the first; 0 = no retries
  double backoff_initial_s = 0.5;    // delay before retry k: min(backoff_max_s, initial * 2^k),
  double backoff_max_s = 30.0;       //   times a uniform jitter factor in [0.5, 1]
  // Stop sending new requests once this many have failed for good (a dead server should not cost
  // every request its full retry schedule); the rest are reported as not sent. 0 = never stop.
  // Independently, after `concurrency` failed attempts in a row, fresh requests wait until a
  // retry succeeds (one fresh probe at a time when nothing else is pending).
  int max_failures = 8;
  bool logprobs = true;       // ask for per-token log-probabilities (fills mean_logprob, tokens)
  uint32_t base_seed = 1234;  // see kSeedFromIndex
  // Called after each finished request and at least every `progress_every_s` while waiting.
  std::function<void(const GenerationProgress&)> on_progress;
  double progress_every_s = 2.0;

  // ConfigError naming the field: empty or non-http(s) base_url, concurrency < 1, timeouts <= 0,
  // max_retries < 0, backoff < 0 or initial > max, max_failures < 0, progress_every_s <= 0,
  // api_key_env naming an unset or empty variable.
  void validate() const;
};

// [llm.http] table of a config file, field for field (api_key_env holds a variable *name*):
//   base_url, model, api_key_env, dialect, concurrency, connect_timeout_s, request_timeout_s,
//   max_retries, backoff_initial_s, backoff_max_s, max_failures, logprobs, base_seed
// Unknown keys and wrong types are ConfigErrors with file:line. Does not call validate().
HttpBackendOptions http_backend_options_from(const ConfigTable& table);

// Why one request failed for good.
struct HttpRequestError {
  std::size_t index = 0;  // position in the generate() input
  std::string url;
  int http_status = 0;    // 0 when no HTTP answer arrived (connection error, timeout, not sent)
  std::string cause;      // e.g. "connection refused: Couldn't connect to server", "HTTP 500",
                          //   "malformed response: ...", "not sent: 8 requests had failed"
  std::string body;       // first 300 bytes of the last response body ("" if none)
  int attempts = 0;       // attempts made (0 = never sent)

  std::string describe() const;  // "request 3 (http://.../v1/completions): HTTP 500 after 5
                                 //  attempts; body: ..."
};

struct HttpPartialResult {
  // One slot per request, in request order; empty where the request failed.
  std::vector<std::optional<GenerationResult>> results;
  std::vector<HttpRequestError> errors;  // sorted by index

  bool ok() const { return errors.empty(); }
  std::size_t n_ok() const { return results.size() - errors.size(); }
};

// Thrown by HttpBackend::generate() when any request failed for good. what() names the URL and
// cause of the first failures; partial() holds every result that did arrive.
class HttpGenerationError : public ModelError {
 public:
  explicit HttpGenerationError(HttpPartialResult partial);
  const HttpPartialResult& partial() const { return *partial_; }

 private:
  std::shared_ptr<const HttpPartialResult> partial_;
};

class HttpBackend final : public Backend {
 public:
  // Validates the options and reads the API key from the environment; no network traffic.
  explicit HttpBackend(HttpBackendOptions options);
  ~HttpBackend() override;
  HttpBackend(const HttpBackend&) = delete;
  HttpBackend& operator=(const HttpBackend&) = delete;

  // All results in request order, or HttpGenerationError (a ModelError) carrying the results that
  // arrived. ConfigError for invalid requests before anything is sent.
  std::vector<GenerationResult> generate(const std::vector<GenerationRequest>& requests) override;
  // Never throws for per-request failures; ConfigError for invalid requests before anything is
  // sent.
  HttpPartialResult generate_partial(const std::vector<GenerationRequest>& requests);
  std::string name() const override { return "http"; }

  const HttpBackendOptions& options() const;
  std::string chat_url() const;        // <base>/v1/chat/completions
  std::string completions_url() const;  // <base>/v1/completions

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ksparse::llm
