// HTTP backend against a tiny in-test HTTP server: request/response mapping and the fault paths
// (server down, HTTP 500, timeout, malformed body, partial results). The real llama-server runs in
// http_backend_model_test.cpp.
#include "ksparse/llm/http_backend.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "ksparse/core/config.h"
#include "ksparse/core/error.h"

namespace ksparse::llm {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

struct HttpRequest {
  std::string method;
  std::string path;
  std::string headers;  // raw header block, lower-cased names kept as sent
  std::string body;
};

struct HttpAnswer {
  HttpAnswer(int status_, std::string body_, double delay = 0.0, bool hang = false,
             std::string extra = {})
      : status(status_), body(std::move(body_)), delay_s(delay), hang_up(hang),
        extra_headers(std::move(extra)) {}
  int status = 200;
  std::string body;
  double delay_s = 0.0;       // wait before answering (interrupted when the server stops)
  bool hang_up = false;       // close the connection without any answer
  std::string extra_headers;  // e.g. "Retry-After: 1\r\n"
};

// One thread accepts on 127.0.0.1:<ephemeral>; each connection gets its own thread, reads one
// request (Content-Length bodies only), answers with the handler's HttpAnswer and closes.
class FakeServer {
 public:
  using Handler = std::function<HttpAnswer(const HttpRequest&, int call)>;

  explicit FakeServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 64) != 0) {
      throw std::runtime_error("fake server: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~FakeServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    accept_thread_.join();
    for (auto& t : conn_threads_) t.join();
    ::close(fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int calls() const { return calls_.load(); }
  int max_in_flight() const { return max_in_flight_.load(); }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void accept_loop() {
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      conn_threads_.emplace_back([this, c] { serve(c); });
    }
  }

  void serve(int c) {
    std::string buf;
    char tmp[4096];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = buf.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::string lower = buf.substr(0, header_end);
          for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          const auto pos = lower.find("content-length:");
          if (pos != std::string::npos) content_length = std::stoul(lower.substr(pos + 15));
        }
      }
      if (header_end != std::string::npos && buf.size() >= header_end + 4 + content_length) break;
      const ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
      if (n <= 0) {
        ::close(c);
        return;
      }
      buf.append(tmp, static_cast<size_t>(n));
    }
    HttpRequest rq;
    const std::string head = buf.substr(0, header_end);
    const size_t sp1 = head.find(' ');
    const size_t sp2 = head.find(' ', sp1 + 1);
    rq.method = head.substr(0, sp1);
    rq.path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    rq.headers = head;
    rq.body = buf.substr(header_end + 4, content_length);
    const int call = calls_.fetch_add(1);
    const int now = in_flight_.fetch_add(1) + 1;
    int prev = max_in_flight_.load();
    while (now > prev && !max_in_flight_.compare_exchange_weak(prev, now)) {
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(rq);
    }
    const HttpAnswer a = handler_(rq, call);
    if (a.delay_s > 0) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::duration<double>(a.delay_s), [this] { return stop_; });
    }
    in_flight_.fetch_sub(1);
    if (!a.hang_up) {
      const std::string resp = "HTTP/1.1 " + std::to_string(a.status) +
                               " X\r\nContent-Type: application/json\r\nContent-Length: " +
                               std::to_string(a.body.size()) + "\r\n" + a.extra_headers +
                               "Connection: close\r\n\r\n" + a.body;
      size_t off = 0;
      while (off < resp.size()) {
        const ssize_t n = ::send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
    }
    ::shutdown(c, SHUT_RDWR);
    ::close(c);
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  std::vector<std::thread> conn_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<HttpRequest> requests_;
  std::atomic<int> calls_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
};

// A llama-server-shaped completion answer: `text`, finish reason, usage, per-token logprobs.
std::string completion_body(const std::string& text, const std::string& finish = "length",
                            int n_gen = 3, std::vector<double> logprobs = {-0.5, -1.0, -1.5}) {
  json content = json::array();
  for (size_t i = 0; i < logprobs.size(); ++i) {
    content.push_back({{"id", 100 + static_cast<int>(i)}, {"token", "t"}, {"logprob", logprobs[i]}});
  }
  json j = {{"choices",
             {{{"text", text},
               {"index", 0},
               {"logprobs", {{"content", content}}},
               {"finish_reason", finish}}}},
            {"usage", {{"prompt_tokens", 7}, {"completion_tokens", n_gen}}}};
  return j.dump();
}

std::string chat_body(const std::string& text, const std::string& finish = "stop") {
  json j = {{"choices",
             {{{"message", {{"role", "assistant"}, {"content", text}}},
               {"index", 0},
               {"finish_reason", finish}}}},
            {"usage", {{"prompt_tokens", 11}, {"completion_tokens", 2}}}};
  return j.dump();
}

HttpBackendOptions fast_options(const std::string& url) {
  HttpBackendOptions o;
  o.base_url = url;
  o.concurrency = 2;
  o.connect_timeout_s = 2.0;
  o.request_timeout_s = 5.0;
  o.max_retries = 2;
  o.backoff_initial_s = 0.01;
  o.backoff_max_s = 0.05;
  return o;
}

std::vector<GenerationRequest> prompts(int n) {
  std::vector<GenerationRequest> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)].prompt = "prompt " + std::to_string(i);
  return v;
}

// A port nothing listens on: bind an ephemeral port, then close it.
std::string dead_url() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

// ------------------------------------------------------------------------------ options

TEST(HttpBackendOptions, ValidateNamesTheBadSetting) {
  HttpBackendOptions o;
  EXPECT_THAT([&] { o.validate(); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("base_url")));
  o.base_url = "127.0.0.1:8080";
  EXPECT_THAT([&] { o.validate(); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("http://")));
  o.base_url = "http://127.0.0.1:8080";
  EXPECT_NO_THROW(o.validate());
  o.concurrency = 0;
  EXPECT_THAT([&] { o.validate(); },
              ::testing::ThrowsMessage<ConfigError>(HasSubstr("concurrency")));
  o.concurrency = 4;
  o.request_timeout_s = 0;
  EXPECT_THROW(o.validate(), ConfigError);
  o.request_timeout_s = 10;
  o.max_retries = -1;
  EXPECT_THROW(o.validate(), ConfigError);
  o.max_retries = 1;
  o.backoff_initial_s = 5;
  o.backoff_max_s = 1;
  EXPECT_THROW(o.validate(), ConfigError);
  o.backoff_max_s = 10;
  ::unsetenv("KSPARSE_TEST_UNSET_KEY");
  o.api_key_env = "KSPARSE_TEST_UNSET_KEY";
  EXPECT_THAT([&] { o.validate(); },
              ::testing::ThrowsMessage<ConfigError>(HasSubstr("KSPARSE_TEST_UNSET_KEY")));
  ::setenv("KSPARSE_TEST_UNSET_KEY", "k", 1);
  EXPECT_NO_THROW(o.validate());
  ::unsetenv("KSPARSE_TEST_UNSET_KEY");
}

TEST(HttpBackendOptions, FromTomlFieldForField) {
  const auto cfg = parse_config(R"(
[llm.http]
base_url = "http://gpu-box:8080/v1"
model = "qwen3-14b"
api_key_env = "MY_KEY"
dialect = "openai"
concurrency = 16
request_timeout_s = 30
max_retries = 7
max_failures = 0
logprobs = false
base_seed = 99
)",
                                "test.toml");
  const HttpBackendOptions o = http_backend_options_from(cfg.table("llm").table("http"));
  EXPECT_EQ(o.base_url, "http://gpu-box:8080/v1");
  EXPECT_EQ(o.model, "qwen3-14b");
  EXPECT_EQ(o.api_key_env, "MY_KEY");
  EXPECT_EQ(o.dialect, HttpDialect::kOpenAi);
  EXPECT_EQ(o.concurrency, 16);
  EXPECT_DOUBLE_EQ(o.request_timeout_s, 30.0);
  EXPECT_DOUBLE_EQ(o.connect_timeout_s, HttpBackendOptions{}.connect_timeout_s);
  EXPECT_EQ(o.max_retries, 7);
  EXPECT_EQ(o.max_failures, 0);
  EXPECT_FALSE(o.logprobs);
  EXPECT_EQ(o.base_seed, 99u);

  const auto bad = parse_config("[http]\napi_key = \"sk-123\"\n", "bad.toml");
  EXPECT_THAT([&] { http_backend_options_from(bad.table("http")); },
              ::testing::ThrowsMessage<ConfigError>(HasSubstr("api_key_env")));
  const auto bad_dialect = parse_config("[http]\ndialect = \"vllm2\"\n", "d.toml");
  EXPECT_THAT([&] { http_backend_options_from(bad_dialect.table("http")); },
              ::testing::ThrowsMessage<ConfigError>(HasSubstr("d.toml:2")));
}

TEST(HttpBackend, UrlsAcceptRootOrV1Prefix) {
  HttpBackendOptions o;
  o.base_url = "http://h:1/v1/";
  EXPECT_EQ(HttpBackend(o).chat_url(), "http://h:1/v1/chat/completions");
  o.base_url = "https://h:1";
  EXPECT_EQ(HttpBackend(o).completions_url(), "https://h:1/v1/completions");
}

TEST(HttpBackend, InvalidRequestsFailBeforeAnythingIsSent) {
  FakeServer server([](const HttpRequest&, int) { return HttpAnswer{200, completion_body("x")}; });
  HttpBackend b(fast_options(server.url()));
  std::vector<GenerationRequest> r(2);
  r[0].prompt = "ok";
  r[1].prompt = "p";
  r[1].messages = {{"user", "both"}};
  EXPECT_THAT([&] { b.generate(r); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("request 1")));
  r[1].messages.clear();
  r[1].json_schema = "{not json";
  EXPECT_THAT([&] { b.generate(r); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("json_schema")));
  EXPECT_EQ(server.calls(), 0);

  HttpBackendOptions oa = fast_options(server.url());
  oa.dialect = HttpDialect::kOpenAi;
  HttpBackend openai(oa);
  std::vector<GenerationRequest> g(1);
  g[0].prompt = "x";
  g[0].grammar = "root ::= \"a\"";
  EXPECT_THAT([&] { openai.generate(g); },
              ::testing::ThrowsMessage<ConfigError>(HasSubstr("llama-server")));
}

// ------------------------------------------------------------------------------ mapping

TEST(HttpBackend, PromptRequestMapsEveryField) {
  FakeServer server([](const HttpRequest&, int) { return HttpAnswer{200, completion_body("out")}; });
  ::setenv("KSPARSE_TEST_HTTP_KEY", "sk-secret", 1);
  HttpBackendOptions o = fast_options(server.url());
  o.model = "m1";
  o.api_key_env = "KSPARSE_TEST_HTTP_KEY";
  o.base_seed = 100;
  HttpBackend b(o);
  auto reqs = prompts(2);
  reqs[1].max_tokens = 17;
  reqs[1].stop = {"\n", "END"};
  reqs[1].sampling.temperature = 0.0f;
  reqs[1].sampling.top_k = 5;
  reqs[1].sampling.min_p = 0.1f;
  reqs[1].sampling.presence_penalty = 0.5f;
  reqs[1].json_schema = R"({"type":"object"})";
  reqs[0].sampling.seed = 7;
  b.generate(reqs);
  ::unsetenv("KSPARSE_TEST_HTTP_KEY");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  std::sort(seen.begin(), seen.end(),
            [](const HttpRequest& a, const HttpRequest& c) { return a.body < c.body; });
  for (const auto& rq : seen) {
    EXPECT_EQ(rq.method, "POST");
    EXPECT_EQ(rq.path, "/v1/completions");
    EXPECT_THAT(rq.headers, HasSubstr("Authorization: Bearer sk-secret"));
  }
  json j0 = json::parse(seen[0].body);
  json j1 = json::parse(seen[1].body);
  if (j0["prompt"] != "prompt 0") std::swap(j0, j1);
  EXPECT_EQ(j0["prompt"], "prompt 0");
  EXPECT_EQ(j0["seed"], 7);
  EXPECT_EQ(j0["model"], "m1");
  EXPECT_EQ(j0["logprobs"], 1);
  EXPECT_FALSE(j0.contains("stop"));
  EXPECT_FALSE(j0.contains("json_schema"));
  EXPECT_EQ(j1["prompt"], "prompt 1");
  EXPECT_EQ(j1["seed"], 101);  // kSeedFromIndex: base_seed + index
  EXPECT_EQ(j1["max_tokens"], 17);
  EXPECT_EQ(j1["stop"], json::array({"\n", "END"}));
  EXPECT_EQ(j1["temperature"], 0.0);
  EXPECT_EQ(j1["top_k"], 5);
  EXPECT_NEAR(j1["min_p"].get<double>(), 0.1, 1e-6);
  EXPECT_NEAR(j1["presence_penalty"].get<double>(), 0.5, 1e-6);
  EXPECT_EQ(j1["json_schema"], json({{"type", "object"}}));
  EXPECT_FALSE(j1.contains("response_format"));
}

TEST(HttpBackend, ChatRequestUsesResponseFormatAndOpenAiDialectDropsLlamaFields) {
  FakeServer server([](const HttpRequest&, int) { return HttpAnswer{200, chat_body("{\"a\":1}")}; });
  HttpBackendOptions o = fast_options(server.url());
  o.dialect = HttpDialect::kOpenAi;
  HttpBackend b(o);
  std::vector<GenerationRequest> r(1);
  r[0].messages = {{"system", "be brief"}, {"user", "안녕"}};
  r[0].json_schema = R"({"type":"object","properties":{"a":{"type":"integer"}}})";
  const auto res = b.generate(r);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].text, "{\"a\":1}");
  EXPECT_EQ(res[0].prompt_tokens, 11);
  EXPECT_EQ(res[0].generated_tokens, 2);
  EXPECT_EQ(res[0].finish, FinishReason::kEos);  // "stop" without stop strings
  EXPECT_EQ(res[0].mean_logprob, 0.0);           // no logprobs in the answer
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/v1/chat/completions");
  EXPECT_THAT(seen[0].headers, ::testing::Not(HasSubstr("Authorization")));
  const json j = json::parse(seen[0].body);
  EXPECT_EQ(j["messages"][1]["content"], "안녕");
  EXPECT_EQ(j["messages"][0]["role"], "system");
  EXPECT_EQ(j["response_format"]["type"], "json_schema");
  EXPECT_EQ(j["response_format"]["json_schema"]["schema"]["properties"]["a"]["type"], "integer");
  EXPECT_EQ(j["logprobs"], true);
  EXPECT_FALSE(j.contains("top_k"));
  EXPECT_FALSE(j.contains("min_p"));
  EXPECT_FALSE(j.contains("model"));
}

TEST(HttpBackend, ResultMappingFinishReasonsLogprobsTokens) {
  FakeServer server([](const HttpRequest& rq, int) {
    const json j = json::parse(rq.body);
    const std::string p = j["prompt"];
    if (p == "length") return HttpAnswer{200, completion_body("abc", "length", 3)};
    // Stop string matched: llama-server reports fewer logprobs than generated tokens.
    if (p == "stop") return HttpAnswer{200, completion_body("ab", "stop", 4, {-1.0, -3.0})};
    // EOS: the end-of-generation token's logprob is included.
    return HttpAnswer{200, completion_body("abc", "stop", 3, {-1.0, -2.0, -3.0})};
  });
  HttpBackend b(fast_options(server.url()));
  std::vector<GenerationRequest> r(3);
  r[0].prompt = "length";
  r[1].prompt = "stop";
  r[1].stop = {"\n"};
  r[2].prompt = "eos";
  r[2].stop = {"\n"};
  const auto res = b.generate(r);
  EXPECT_EQ(res[0].finish, FinishReason::kLength);
  EXPECT_EQ(res[0].generated_tokens, 3);
  EXPECT_EQ(res[0].prompt_tokens, 7);
  EXPECT_NEAR(res[0].mean_logprob, -1.0, 1e-9);
  EXPECT_EQ(res[0].tokens, (std::vector<int32_t>{100, 101, 102}));
  EXPECT_EQ(res[1].finish, FinishReason::kStop);
  EXPECT_EQ(res[1].text, "ab");
  EXPECT_NEAR(res[1].mean_logprob, -2.0, 1e-9);
  EXPECT_EQ(res[2].finish, FinishReason::kEos);
}

// ------------------------------------------------------------------------------ faults

TEST(HttpBackendFaults, ServerDownRetriesThenNamesUrlAndCause) {
  HttpBackendOptions o = fast_options(dead_url());
  o.max_retries = 2;
  HttpBackend b(o);
  try {
    b.generate(prompts(1));
    FAIL() << "expected HttpGenerationError";
  } catch (const HttpGenerationError& e) {
    EXPECT_THAT(e.what(), HasSubstr(o.base_url + "/v1/completions"));
    EXPECT_THAT(e.what(), HasSubstr("connection failed"));
    EXPECT_THAT(e.what(), HasSubstr("after 3 attempts"));
    ASSERT_EQ(e.partial().errors.size(), 1u);
    EXPECT_EQ(e.partial().errors[0].attempts, 3);
    EXPECT_EQ(e.partial().errors[0].http_status, 0);
    EXPECT_EQ(e.partial().n_ok(), 0u);
  }
}

TEST(HttpBackendFaults, ServerDownStopsAfterMaxFailures) {
  HttpBackendOptions o = fast_options(dead_url());
  o.concurrency = 1;
  o.max_retries = 1;
  o.max_failures = 2;
  HttpBackend b(o);
  const auto p = b.generate_partial(prompts(20));
  ASSERT_EQ(p.errors.size(), 20u);
  int never_sent = 0;
  for (const auto& e : p.errors) never_sent += e.attempts == 0 ? 1 : 0;
  EXPECT_EQ(never_sent, 18);  // two requests used their retries, then nothing was sent
  EXPECT_THAT(p.errors.back().cause, HasSubstr("max_failures"));
}

TEST(HttpBackendFaults, Http500ThenSuccessIsRetried) {
  FakeServer server([](const HttpRequest&, int call) {
    if (call < 2) return HttpAnswer{500, R"({"error":"overloaded"})"};
    return HttpAnswer{200, completion_body("fine")};
  });
  HttpBackend b(fast_options(server.url()));
  const auto res = b.generate(prompts(1));
  EXPECT_EQ(res[0].text, "fine");
  EXPECT_EQ(server.calls(), 3);
}

TEST(HttpBackendFaults, Http429HonoursRetryAfterUpToBackoffMax) {
  FakeServer server([](const HttpRequest&, int call) {
    if (call == 0) return HttpAnswer{429, "{}", 0.0, false, "Retry-After: 1\r\n"};
    return HttpAnswer{200, completion_body("late")};
  });
  HttpBackendOptions o = fast_options(server.url());
  o.backoff_max_s = 0.3;
  HttpBackend b(o);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(b.generate(prompts(1))[0].text, "late");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(s, 0.29);  // waited min(Retry-After 1 s, backoff_max_s 0.3 s), not the 10 ms backoff
}

TEST(HttpBackendFaults, BadRequestIsNotRetried) {
  FakeServer server([](const HttpRequest&, int) {
    return HttpAnswer{400, R"({"error":{"message":"Unsupported param: best_of"}})"};
  });
  HttpBackend b(fast_options(server.url()));
  const auto p = b.generate_partial(prompts(1));
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].attempts, 1);
  EXPECT_EQ(p.errors[0].http_status, 400);
  EXPECT_THAT(p.errors[0].body, HasSubstr("Unsupported param: best_of"));
  EXPECT_EQ(server.calls(), 1);
}

TEST(HttpBackendFaults, TimeoutIsRetriedThenReported) {
  FakeServer slow_once([](const HttpRequest&, int call) {
    if (call == 0) return HttpAnswer{200, completion_body("never"), 3.0};
    return HttpAnswer{200, completion_body("second")};
  });
  HttpBackendOptions o = fast_options(slow_once.url());
  o.request_timeout_s = 0.3;
  HttpBackend b(o);
  EXPECT_EQ(b.generate(prompts(1))[0].text, "second");
  EXPECT_EQ(slow_once.calls(), 2);

  FakeServer always_slow(
      [](const HttpRequest&, int) { return HttpAnswer{200, completion_body("never"), 3.0}; });
  o.base_url = always_slow.url();
  o.max_retries = 1;
  HttpBackend b2(o);
  try {
    b2.generate(prompts(1));
    FAIL() << "expected HttpGenerationError";
  } catch (const HttpGenerationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("timeout"));
    EXPECT_THAT(e.what(), HasSubstr(always_slow.url()));
    EXPECT_EQ(e.partial().errors[0].attempts, 2);
  }
}

TEST(HttpBackendFaults, MalformedBodiesAreRetriedThenReportedWithExcerpt) {
  FakeServer server([](const HttpRequest&, int call) {
    if (call == 0) return HttpAnswer{200, "{\"choices\": [{\"text\": \"cut"};
    if (call == 1) return HttpAnswer{200, R"({"object":"error"})"};
    if (call == 2) return HttpAnswer{0, "", 0.0, true};  // hang up without answering
    return HttpAnswer{200, completion_body("ok")};
  });
  HttpBackendOptions o = fast_options(server.url());
  o.max_retries = 3;
  HttpBackend b(o);
  EXPECT_EQ(b.generate(prompts(1))[0].text, "ok");
  EXPECT_EQ(server.calls(), 4);

  FakeServer garbage([](const HttpRequest&, int) { return HttpAnswer{200, "<html>proxy error</html>"}; });
  o.base_url = garbage.url();
  o.max_retries = 2;
  HttpBackend b2(o);
  try {
    b2.generate(prompts(1));
    FAIL() << "expected HttpGenerationError";
  } catch (const HttpGenerationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("malformed response"));
    EXPECT_THAT(e.what(), HasSubstr("<html>proxy error</html>"));
    EXPECT_THAT(e.what(), HasSubstr(garbage.url() + "/v1/completions"));
    EXPECT_EQ(garbage.calls(), 3);
  }
}

TEST(HttpBackendFaults, ResultsReceivedBeforeFailuresAreKept) {
  FakeServer server([](const HttpRequest& rq, int) {
    const std::string p = json::parse(rq.body)["prompt"];
    if (p == "prompt 3") return HttpAnswer{503, std::string(1000, 'x')};
    return HttpAnswer{200, completion_body("answer to " + p)};
  });
  HttpBackendOptions o = fast_options(server.url());
  o.max_retries = 1;
  std::vector<GenerationProgress> seen;
  o.on_progress = [&](const GenerationProgress& p) { seen.push_back(p); };
  HttpBackend b(o);
  const auto p = b.generate_partial(prompts(6));
  ASSERT_EQ(p.results.size(), 6u);
  EXPECT_EQ(p.n_ok(), 5u);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].index, 3u);
  EXPECT_EQ(p.errors[0].http_status, 503);
  EXPECT_EQ(p.errors[0].attempts, 2);
  EXPECT_LE(p.errors[0].body.size(), 303u);  // excerpt, not the whole body
  for (size_t i = 0; i < 6; ++i) {
    if (i == 3) {
      EXPECT_FALSE(p.results[i].has_value());
    } else {
      ASSERT_TRUE(p.results[i].has_value());
      EXPECT_EQ(p.results[i]->text, "answer to prompt " + std::to_string(i));
    }
  }
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().done, 6u);
  EXPECT_EQ(seen.back().total, 6u);
  EXPECT_EQ(seen.back().generated_tokens, 15u);

  try {
    b.generate(prompts(6));
    FAIL() << "expected HttpGenerationError";
  } catch (const HttpGenerationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("1 of 6 requests failed (5 results kept)"));
    EXPECT_THAT(e.what(), HasSubstr("request 3"));
    EXPECT_THAT(e.what(), HasSubstr("HTTP 503"));
    EXPECT_EQ(e.partial().n_ok(), 5u);
    EXPECT_EQ(e.partial().results[5]->text, "answer to prompt 5");
  }
}

TEST(HttpBackend, KeepsAtMostConcurrencyRequestsInFlight) {
  FakeServer server([](const HttpRequest&, int) {
    return HttpAnswer{200, completion_body("x"), 0.2};
  });
  HttpBackendOptions o = fast_options(server.url());
  o.concurrency = 3;
  HttpBackend b(o);
  const auto res = b.generate(prompts(9));
  EXPECT_EQ(res.size(), 9u);
  EXPECT_EQ(server.calls(), 9);
  EXPECT_EQ(server.max_in_flight(), 3);
}

// ------------------------------------------------------------------------------ CLI

TEST(HttpBackendCli, GenerateWithHttpBackendPrintsResultsThenFailsNamingTheRequest) {
  FakeServer server([](const HttpRequest& rq, int) {
    const json j = json::parse(rq.body);
    if (j["prompt"] == "broken") return HttpAnswer{500, "{\"error\":\"boom\"}"};
    return HttpAnswer{200, completion_body("re: " + j["prompt"].get<std::string>())};
  });
  test::TempDir dir;
  const auto ok_file = test::write_file(dir / "ok.txt", "alpha\nbeta\n");
  auto r = test::run_cli({"llm", "generate", "--backend", "http", "--url", server.url(),
                          "--prompt-file", ok_file.string(), "--json", "--concurrency", "2",
                          "--max-tokens", "5", "--temp", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["text"], "re: alpha");
  EXPECT_EQ(lines[1]["text"], "re: beta");
  EXPECT_EQ(lines[0]["finish"], "length");
  const json sent = json::parse(server.requests().front().body);
  EXPECT_EQ(sent["max_tokens"], 5);
  EXPECT_EQ(sent["temperature"], 0.0);

  const auto mixed = test::write_file(dir / "mixed.txt", "alpha\nbroken\ngamma\n");
  r = test::run_cli({"llm", "generate", "--backend", "http", "--url", server.url(),
                     "--prompt-file", mixed.string(), "--json", "--retries", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("re: alpha"));
  EXPECT_THAT(r.out, HasSubstr("re: gamma"));
  EXPECT_THAT(r.err, HasSubstr("request 1"));
  EXPECT_THAT(r.err, HasSubstr("HTTP 500"));
  EXPECT_THAT(r.err, HasSubstr(server.url() + "/v1/completions"));

  r = test::run_cli({"llm", "generate", "--backend", "http", "--prompt-file", ok_file.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--url"));
}

}  // namespace
}  // namespace ksparse::llm
