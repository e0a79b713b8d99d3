// OpenAI-compatible HTTP backend: one curl multi handle drives up to `concurrency` transfers; a
// failed attempt goes to the retry list with a ready time (exponential backoff with jitter), so
// waiting for a retry never blocks the other requests.
#include "ksparse/llm/http_backend.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "ksparse/core/config.h"
#include "ksparse/core/utf8.h"

namespace ksparse::llm {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBodyExcerptBytes = 300;
constexpr std::size_t kMaxErrorsInMessage = 5;

void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw ModelError("http backend: curl_global_init failed");
    }
  });
}

std::string excerpt(const std::string& body) {
  // A character cut in half at the end becomes U+FFFD, so the message stays valid UTF-8.
  std::string cut = utf8_sanitize(std::string_view(body).substr(0, kBodyExcerptBytes));
  if (body.size() > kBodyExcerptBytes) cut += "...";
  return cut;
}

// The answer's JSON did not have the shape of an OpenAI response.
struct MalformedResponse {
  std::string what;
};

bool retryable_http(long status) { return status == 408 || status == 429 || status >= 500; }

bool retryable_curl(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_OUT_OF_MEMORY:
      return false;
    default:
      return true;
  }
}

std::string curl_cause(CURLcode code, const char* errbuf, double timeout_s) {
  const std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return fmt::format("connection failed (server down?): {}", detail);
    case CURLE_OPERATION_TIMEDOUT:
      return fmt::format("timeout (request_timeout_s {}): {}", timeout_s, detail);
    case CURLE_COULDNT_RESOLVE_HOST:
      return fmt::format("cannot resolve host: {}", detail);
    case CURLE_GOT_NOTHING:
      return fmt::format("server closed the connection without an answer: {}", detail);
    default:
      return fmt::format("transfer error: {}", detail);
  }
}

size_t write_cb(char* data, size_t size, size_t nmemb, void* user) {
  static_cast<std::string*>(user)->append(data, size * nmemb);
  return size * nmemb;
}

// log-probabilities and token ids of the generated tokens, in either of the two formats servers
// use: {"content": [{"id", "logprob"}, ...]} (chat; llama-server for both endpoints) or the legacy
// completions format {"token_logprobs": [...]}.
void read_logprobs(const json& lp, std::vector<double>& logprobs, std::vector<int32_t>& ids) {
  if (!lp.is_object()) return;
  if (lp.contains("content") && lp["content"].is_array()) {
    bool all_ids = true;
    for (const auto& t : lp["content"]) {
      if (!t.is_object() || !t.contains("logprob") || !t["logprob"].is_number()) {
        throw MalformedResponse{"logprobs.content entry without a numeric logprob"};
      }
      logprobs.push_back(t["logprob"].get<double>());
      if (t.contains("id") && t["id"].is_number_integer()) {
        ids.push_back(t["id"].get<int32_t>());
      } else {
        all_ids = false;
      }
    }
    if (!all_ids) ids.clear();
  } else if (lp.contains("token_logprobs") && lp["token_logprobs"].is_array()) {
    for (const auto& v : lp["token_logprobs"]) {
      if (v.is_number()) logprobs.push_back(v.get<double>());
    }
  }
}

int usage_count(const json& j, const char* key) {
  if (!j.contains("usage") || !j["usage"].is_object()) return -1;
  const auto& u = j["usage"];
  if (!u.contains(key) || !u[key].is_number_integer()) return -1;
  return u[key].get<int>();
}

GenerationResult parse_response(const std::string& body, const GenerationRequest& req,
                                bool chat) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    throw MalformedResponse{fmt::format("body is not JSON ({})", e.what())};
  }
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() ||
      j["choices"].empty() || !j["choices"][0].is_object()) {
    throw MalformedResponse{"no choices[0] object in the response"};
  }
  const json& c = j["choices"][0];
  GenerationResult r;
  if (chat) {
    if (!c.contains("message") || !c["message"].is_object()) {
      throw MalformedResponse{"choices[0] has no message object"};
    }
    const json& m = c["message"];
    if (m.contains("content") && m["content"].is_string()) {
      r.text = m["content"].get<std::string>();
    } else if (m.contains("content") && !m["content"].is_null()) {
      throw MalformedResponse{"choices[0].message.content is not a string"};
    }
  } else {
    if (!c.contains("text") || !c["text"].is_string()) {
      throw MalformedResponse{"choices[0] has no string text"};
    }
    r.text = c["text"].get<std::string>();
  }
  std::vector<double> logprobs;
  if (c.contains("logprobs")) read_logprobs(c["logprobs"], logprobs, r.tokens);

  const int n_prompt = usage_count(j, "prompt_tokens");
  const int n_gen = usage_count(j, "completion_tokens");
  r.prompt_tokens = std::max(n_prompt, 0);
  r.generated_tokens = n_gen >= 0 ? n_gen : static_cast<int>(logprobs.size());
  if (!logprobs.empty()) {
    double sum = 0.0;
    for (double v : logprobs) sum += v;
    r.mean_logprob = sum / static_cast<double>(logprobs.size());
  }

  const std::string finish =
      c.contains("finish_reason") && c["finish_reason"].is_string() ? c["finish_reason"].get<std::string>()
                                                                    : std::string();
  if (finish == "length" || finish.empty()) {
    r.finish = FinishReason::kLength;
  } else if (finish == "stop") {
    // OpenAI folds end-of-generation and stop strings into "stop". llama-server drops the stop
    // string's tokens from the log-probabilities but keeps an end-of-generation token, so full
    // coverage means EOS.
    const bool covers_all = !logprobs.empty() && n_gen >= 0 &&
                            logprobs.size() == static_cast<std::size_t>(n_gen);
    r.finish = (req.stop.empty() || covers_all) ? FinishReason::kEos : FinishReason::kStop;
  } else {
    r.finish = FinishReason::kStop;  // tool_calls, content_filter, ...: the server ended it
  }
  return r;
}

}  // namespace

HttpDialect parse_http_dialect(const std::string& text, const std::string& setting) {
  if (text == "llama-server") return HttpDialect::kLlamaServer;
  if (text == "openai") return HttpDialect::kOpenAi;
  throw ConfigError(fmt::format("{}: '{}' (expected llama-server or openai)", setting, text));
}

const char* http_dialect_name(HttpDialect dialect) {
  return dialect == HttpDialect::kLlamaServer ? "llama-server" : "openai";
}

void HttpBackendOptions::validate() const {
  if (base_url.empty()) throw ConfigError("http backend: base_url is empty (e.g. http://127.0.0.1:8080)");
  if (base_url.rfind("http://", 0) != 0 && base_url.rfind("https://", 0) != 0) {
    throw ConfigError(
        fmt::format("http backend: base_url '{}' must start with http:// or https://", base_url));
  }
  if (concurrency < 1) {
    throw ConfigError(fmt::format("http backend: concurrency {} (must be >= 1)", concurrency));
  }
  if (!(connect_timeout_s > 0) || !(request_timeout_s > 0)) {
    throw ConfigError(fmt::format(
        "http backend: connect_timeout_s {} / request_timeout_s {} (both must be > 0)",
        connect_timeout_s, request_timeout_s));
  }
  if (max_retries < 0) {
    throw ConfigError(fmt::format("http backend: max_retries {} (must be >= 0)", max_retries));
  }
  if (!(backoff_initial_s >= 0) || !(backoff_max_s >= backoff_initial_s)) {
    throw ConfigError(
        fmt::format("http backend: backoff_initial_s {} / backoff_max_s {} (need 0 <= initial <= max)",
                    backoff_initial_s, backoff_max_s));
  }
  if (max_failures < 0) {
    throw ConfigError(
        fmt::format("http backend: max_failures {} (must be >= 0; 0 = never stop)", max_failures));
  }
  if (!(progress_every_s > 0)) {
    throw ConfigError(
        fmt::format("http backend: progress_every_s {} (must be > 0)", progress_every_s));
  }
  if (!api_key_env.empty()) {
    const char* v = std::getenv(api_key_env.c_str());
    if (v == nullptr || *v == '\0') {
      throw ConfigError(fmt::format(
          "http backend: api_key_env names ${}, which is unset or empty (export it, or leave "
          "api_key_env empty for servers without a key)",
          api_key_env));
    }
  }
}

HttpBackendOptions http_backend_options_from(const ConfigTable& t) {
  t.expect_keys({"base_url", "model", "api_key_env", "dialect", "concurrency", "connect_timeout_s",
                 "request_timeout_s", "max_retries", "backoff_initial_s", "backoff_max_s",
                 "max_failures", "logprobs", "base_seed"});
  HttpBackendOptions o;
  o.base_url = t.get("base_url", o.base_url);
  o.model = t.get("model", o.model);
  o.api_key_env = t.get("api_key_env", o.api_key_env);
  if (t.contains("dialect")) {
    o.dialect = parse_http_dialect(t.get<std::string>("dialect", ""), t.where("dialect") + ": dialect");
  }
  o.concurrency = t.get("concurrency", o.concurrency);
  o.connect_timeout_s = t.get("connect_timeout_s", o.connect_timeout_s);
  o.request_timeout_s = t.get("request_timeout_s", o.request_timeout_s);
  o.max_retries = t.get("max_retries", o.max_retries);
  o.backoff_initial_s = t.get("backoff_initial_s", o.backoff_initial_s);
  o.backoff_max_s = t.get("backoff_max_s", o.backoff_max_s);
  o.max_failures = t.get("max_failures", o.max_failures);
  o.logprobs = t.get("logprobs", o.logprobs);
  const std::int64_t seed = t.get<std::int64_t>("base_seed", o.base_seed);
  if (seed < 0 || seed >= static_cast<std::int64_t>(kSeedFromIndex)) {
    throw ConfigError(fmt::format("{}: base_seed {} out of range [0, 2^32 - 1)",
                                  t.where("base_seed"), seed));
  }
  o.base_seed = static_cast<uint32_t>(seed);
  return o;
}

std::string HttpRequestError::describe() const {
  std::string s = fmt::format("request {} ({}): {}", index, url, cause);
  if (attempts > 1) s += fmt::format(" after {} attempts", attempts);
  if (!body.empty()) s += fmt::format("; body: {}", body);
  return s;
}

namespace {

std::string error_message(const HttpPartialResult& p) {
  std::string msg = fmt::format("http backend: {} of {} requests failed ({} results kept)",
                                p.errors.size(), p.results.size(), p.n_ok());
  for (std::size_t i = 0; i < p.errors.size() && i < kMaxErrorsInMessage; ++i) {
    msg += "\n  " + p.errors[i].describe();
  }
  if (p.errors.size() > kMaxErrorsInMessage) {
    msg += fmt::format("\n  ... and {} more", p.errors.size() - kMaxErrorsInMessage);
  }
  return msg;
}

}  // namespace

HttpGenerationError::HttpGenerationError(HttpPartialResult partial)
    : ModelError(error_message(partial)),
      partial_(std::make_shared<const HttpPartialResult>(std::move(partial))) {}

struct HttpBackend::Impl {
  HttpBackendOptions opts;
  std::string auth_header;  // "Authorization: Bearer ..." or empty
  std::string root;         // base_url without a trailing "/" or "/v1"
  std::mt19937_64 rng;

  std::string url(bool chat) const {
    return root + (chat ? "/v1/chat/completions" : "/v1/completions");
  }

  // The request body; ConfigError for settings the dialect cannot express.
  std::string body(const GenerationRequest& rq, std::size_t index) const {
    const bool chat = !rq.messages.empty();
    const bool llama = opts.dialect == HttpDialect::kLlamaServer;
    json j;
    if (!opts.model.empty()) j["model"] = opts.model;
    if (chat) {
      j["messages"] = json::array();
      for (const auto& m : rq.messages) {
        j["messages"].push_back({{"role", m.role}, {"content", m.content}});
      }
    } else {
      j["prompt"] = rq.prompt;
    }
    j["max_tokens"] = rq.max_tokens;
    j["stream"] = false;
    if (!rq.stop.empty()) j["stop"] = rq.stop;
    const SamplingOptions& s = rq.sampling;
    j["temperature"] = s.temperature;
    j["top_p"] = s.top_p;
    j["seed"] = s.seed == kSeedFromIndex ? opts.base_seed + static_cast<uint32_t>(index) : s.seed;
    if (s.presence_penalty != 0.0f) j["presence_penalty"] = s.presence_penalty;
    if (llama) {
      j["top_k"] = s.top_k;
      j["min_p"] = s.min_p;
      j["repeat_penalty"] = s.repeat_penalty;
      j["repeat_last_n"] = s.penalty_last_n;
      if (rq.ignore_eos) j["ignore_eos"] = true;
    }
    if (opts.logprobs) {
      if (chat) {
        j["logprobs"] = true;
        j["top_logprobs"] = 1;
      } else {
        j["logprobs"] = 1;
      }
    }
    if (!rq.json_schema.empty()) {
      json schema = json::parse(rq.json_schema);  // checked in validate_requests
      if (chat || !llama) {
        j["response_format"] = {
            {"type", "json_schema"},
            {"json_schema", {{"name", "output"}, {"schema", schema}, {"strict", true}}}};
      } else {
        j["json_schema"] = schema;
      }
    }
    if (!rq.grammar.empty()) j["grammar"] = rq.grammar;
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  void validate_requests(const std::vector<GenerationRequest>& requests) const {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const auto& rq = requests[i];
      try {
        rq.validate();
        if (rq.prompt.empty() == rq.messages.empty()) {
          throw ConfigError("exactly one of prompt and messages must be non-empty");
        }
        if (!rq.grammar.empty() && !rq.json_schema.empty()) {
          throw ConfigError("grammar and json_schema are exclusive");
        }
        if (!rq.grammar.empty() && opts.dialect != HttpDialect::kLlamaServer) {
          throw ConfigError(
              "grammar (GBNF) needs dialect llama-server; use json_schema with dialect openai");
        }
        if (!rq.json_schema.empty()) {
          json schema;
          try {
            schema = json::parse(rq.json_schema);
          } catch (const json::parse_error& e) {
            throw ConfigError(fmt::format("json_schema is not JSON ({})", e.what()));
          }
          if (!schema.is_object()) throw ConfigError("json_schema is not a JSON object");
        }
      } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("http backend: request {}: {}", i, e.what()));
      }
    }
  }

  double backoff_s(int retry) {
    const double d =
        std::min(opts.backoff_max_s, opts.backoff_initial_s * std::ldexp(1.0, std::min(retry, 30)));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    return d * jitter(rng);
  }

  HttpPartialResult run(const std::vector<GenerationRequest>& requests);
};

namespace {

// One request's state across attempts.
struct Item {
  std::size_t index = 0;
  bool chat = false;
  std::string url;
  std::string body;
  int attempts = 0;
  Clock::time_point ready_at{};
  // last failure
  int http_status = 0;
  std::string cause;
  std::string last_body;
  double retry_after_s = 0.0;  // the server's Retry-After, 0 if none
};

// One attempt in flight.
struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  Item* item = nullptr;
  std::string response;
  char errbuf[CURL_ERROR_SIZE] = {0};

  ~Transfer() {
    if (headers != nullptr) curl_slist_free_all(headers);
    if (easy != nullptr) curl_easy_cleanup(easy);
  }
};

struct MultiHandle {
  CURLM* m = curl_multi_init();
  ~MultiHandle() {
    if (m != nullptr) curl_multi_cleanup(m);
  }
};

}  // namespace

HttpPartialResult HttpBackend::Impl::run(const std::vector<GenerationRequest>& requests) {
  validate_requests(requests);
  HttpPartialResult out;
  out.results.resize(requests.size());
  if (requests.empty()) return out;

  std::vector<Item> items(requests.size());
  std::deque<Item*> fresh;    // not sent yet, in request order
  std::vector<Item*> retries;  // waiting for their next attempt, sorted by ready_at
  for (std::size_t i = 0; i < requests.size(); ++i) {
    items[i].index = i;
    items[i].chat = !requests[i].messages.empty();
    items[i].url = url(items[i].chat);
    items[i].body = body(requests[i], i);
    fresh.push_back(&items[i]);
  }

  MultiHandle multi;
  if (multi.m == nullptr) throw ModelError("http backend: curl_multi_init failed");
  curl_multi_setopt(multi.m, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(opts.concurrency));

  const auto t0 = Clock::now();
  auto last_report = t0;
  GenerationProgress progress;
  progress.total = requests.size();
  std::vector<std::unique_ptr<Transfer>> active;
  int n_failed = 0;
  bool stopped = false;
  // Failed attempts since the last success. Once a whole window of `concurrency` attempts failed,
  // fresh requests wait (one probe at a time when nothing else is pending), so a dead server costs
  // max_failures requests their retry schedule instead of every request.
  int failed_streak = 0;

  auto report = [&](bool force) {
    if (!opts.on_progress) return;
    const auto now = Clock::now();
    if (!force && std::chrono::duration<double>(now - last_report).count() < opts.progress_every_s) {
      return;
    }
    last_report = now;
    progress.elapsed_s = std::chrono::duration<double>(now - t0).count();
    opts.on_progress(progress);
  };

  auto fail = [&](Item& it) {
    out.errors.push_back({it.index, it.url, it.http_status, it.cause, excerpt(it.last_body),
                          it.attempts});
    ++progress.done;
    ++n_failed;
    if (opts.max_failures > 0 && n_failed >= opts.max_failures && !stopped) {
      stopped = true;
      for (Item* q : retries) {
        q->cause += fmt::format(" (no more retries: {} requests had failed, max_failures)", n_failed);
        out.errors.push_back({q->index, q->url, q->http_status, q->cause, excerpt(q->last_body),
                              q->attempts});
        ++progress.done;
      }
      for (Item* q : fresh) {
        q->cause = fmt::format("not sent: {} requests had failed (max_failures)", n_failed);
        out.errors.push_back({q->index, q->url, 0, q->cause, "", 0});
        ++progress.done;
      }
      retries.clear();
      fresh.clear();
    }
    report(true);
  };

  // After a failed attempt: retry later, or give up.
  auto retry_or_fail = [&](Item& it, bool retryable) {
    ++failed_streak;
    if (retryable && it.attempts <= opts.max_retries && !stopped) {
      const double delay =
          std::max(backoff_s(it.attempts - 1), std::min(it.retry_after_s, opts.backoff_max_s));
      it.ready_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(delay));
      spdlog::debug("http backend: request {} attempt {} failed ({}); retry in {:.2f}s", it.index,
                    it.attempts, it.cause, delay);
      retries.insert(std::upper_bound(retries.begin(), retries.end(), &it,
                                      [](const Item* a, const Item* b) {
                                        return a->ready_at < b->ready_at;
                                      }),
                     &it);
    } else {
      fail(it);
    }
  };

  auto start = [&](Item& it) {
    auto tr = std::make_unique<Transfer>();
    tr->item = &it;
    tr->easy = curl_easy_init();
    if (tr->easy == nullptr) throw ModelError("http backend: curl_easy_init failed");
    tr->headers = curl_slist_append(tr->headers, "Content-Type: application/json");
    tr->headers = curl_slist_append(tr->headers, "Expect:");
    if (!auth_header.empty()) tr->headers = curl_slist_append(tr->headers, auth_header.c_str());
    CURL* e = tr->easy;
    curl_easy_setopt(e, CURLOPT_URL, it.url.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, tr->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, it.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(it.body.size()));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &tr->response);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, tr->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::ceil(opts.connect_timeout_s * 1000.0)));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::ceil(opts.request_timeout_s * 1000.0)));
    curl_easy_setopt(e, CURLOPT_PRIVATE, tr.get());
    ++it.attempts;
    if (curl_multi_add_handle(multi.m, e) != CURLM_OK) {
      throw ModelError("http backend: curl_multi_add_handle failed");
    }
    active.push_back(std::move(tr));
  };

  auto finish = [&](Transfer* tr, CURLcode code) {
    Item& it = *tr->item;
    if (code != CURLE_OK) {
      it.http_status = 0;
      it.cause = curl_cause(code, tr->errbuf, opts.request_timeout_s);
      it.last_body.clear();
      retry_or_fail(it, retryable_curl(code));
      return;
    }
    long status = 0;
    curl_easy_getinfo(tr->easy, CURLINFO_RESPONSE_CODE, &status);
    it.http_status = static_cast<int>(status);
    it.last_body = tr->response;
    it.retry_after_s = 0.0;
    if (status < 200 || status >= 300) {
      it.cause = fmt::format("HTTP {}", status);
      const bool retryable = retryable_http(status);
      if (retryable) {
        curl_off_t retry_after = 0;
        if (curl_easy_getinfo(tr->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
            retry_after > 0) {
          it.cause += fmt::format(" (Retry-After {}s)", static_cast<long long>(retry_after));
          it.retry_after_s = static_cast<double>(retry_after);
        }
      }
      retry_or_fail(it, retryable);
      return;
    }
    try {
      GenerationResult r = parse_response(tr->response, requests[it.index], it.chat);
      progress.prompt_tokens += static_cast<uint64_t>(r.prompt_tokens);
      progress.generated_tokens += static_cast<uint64_t>(r.generated_tokens);
      out.results[it.index] = std::move(r);
      failed_streak = 0;
      ++progress.done;
      report(true);
    } catch (const MalformedResponse& m) {
      it.cause = "malformed response: " + m.what;
      retry_or_fail(it, true);
    }
  };

  const auto slots = static_cast<std::size_t>(opts.concurrency);
  while (!fresh.empty() || !retries.empty() || !active.empty()) {
    const auto now = Clock::now();
    // Fill free slots: due retries first (the oldest requests finish first), then fresh requests
    // unless the server has been failing.
    while (active.size() < slots) {
      if (!retries.empty() && retries.front()->ready_at <= now) {
        Item* it = retries.front();
        retries.erase(retries.begin());
        start(*it);
      } else if (!fresh.empty() && (failed_streak < opts.concurrency ||
                                    (active.empty() && retries.empty()))) {
        Item* it = fresh.front();
        fresh.pop_front();
        start(*it);
      } else {
        break;
      }
    }
    int running = 0;
    curl_multi_perform(multi.m, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.m, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* tr = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &tr);
      const CURLcode code = msg->data.result;
      curl_multi_remove_handle(multi.m, msg->easy_handle);
      finish(tr, code);
      active.erase(std::find_if(active.begin(), active.end(),
                                [tr](const auto& p) { return p.get() == tr; }));
    }
    // Sleep until a socket is ready, the next retry is due, or a progress report is due.
    int wait_ms = 200;
    if (!retries.empty() && active.size() < slots) {
      const auto due = std::chrono::duration_cast<std::chrono::milliseconds>(
                           retries.front()->ready_at - Clock::now())
                           .count();
      wait_ms = static_cast<int>(std::clamp<long long>(due, 0, wait_ms));
    }
    if (!active.empty() || wait_ms > 0) curl_multi_poll(multi.m, nullptr, 0, wait_ms, nullptr);
    report(false);
  }
  std::sort(out.errors.begin(), out.errors.end(),
            [](const HttpRequestError& a, const HttpRequestError& b) { return a.index < b.index; });
  return out;
}

HttpBackend::HttpBackend(HttpBackendOptions options) : impl_(std::make_unique<Impl>()) {
  options.validate();
  init_curl();
  impl_->opts = std::move(options);
  impl_->rng.seed(impl_->opts.base_seed);
  if (!impl_->opts.api_key_env.empty()) {
    impl_->auth_header =
        std::string("Authorization: Bearer ") + std::getenv(impl_->opts.api_key_env.c_str());
  }
  std::string root = impl_->opts.base_url;
  while (!root.empty() && root.back() == '/') root.pop_back();
  if (root.size() >= 3 && root.compare(root.size() - 3, 3, "/v1") == 0) root.resize(root.size() - 3);
  impl_->root = root;
}

HttpBackend::~HttpBackend() = default;

std::vector<GenerationResult> HttpBackend::generate(const std::vector<GenerationRequest>& requests) {
  HttpPartialResult p = impl_->run(requests);
  if (!p.ok()) throw HttpGenerationError(std::move(p));
  std::vector<GenerationResult> out;
  out.reserve(p.results.size());
  for (auto& r : p.results) out.push_back(std::move(*r));
  return out;
}

HttpPartialResult HttpBackend::generate_partial(const std::vector<GenerationRequest>& requests) {
  return impl_->run(requests);
}

const HttpBackendOptions& HttpBackend::options() const { return impl_->opts; }
std::string HttpBackend::chat_url() const { return impl_->url(true); }
std::string HttpBackend::completions_url() const { return impl_->url(false); }

}  // namespace ksparse::llm
