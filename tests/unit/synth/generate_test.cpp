#include "ksparse/synth/generate.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "common/test_util.h"
#include "fake_backend.h"
#include "ksparse/core/error.h"

namespace ksparse::synth {
namespace {

const char* kKeyword = R"toml(
style = "keyword"
language = "ko"
num_examples = 1
stop = ["\n"]
response_prefix = '{"query": "'
example = '''문서: {passage}
검색어: {"query": "{query}"}'''
prompt = '''{examples}

문서: {document}
검색어: '''
[[examples]]
passage = "제주 올레길은 모두 27개 코스로 이루어져 있다."
query = "제주 올레길 코스 개수"
)toml";

const char* kPassages[] = {
    "세종대왕은 1443년 훈민정음을 창제하고 1446년에 반포하였다",
    "서울 지하철 9호선은 급행열차와 일반열차를 함께 운영한다",
    "김장 문화는 2013년 유네스코 인류무형문화유산으로 등재되었다",
    "한국은행 금융통화위원회는 물가와 경기를 보고 기준금리를 정한다",
    "트랜스포머는 어텐션만으로 문장을 처리하는 신경망 구조이다",
    "부산 국제영화제는 매년 가을 해운대 일대에서 열린다",
    "백두대간은 백두산에서 지리산까지 이어지는 큰 산줄기이다",
    "경주 불국사와 석굴암은 1995년 세계유산으로 지정되었다",
};

struct Fixture {
  ksparse::test::TempDir dir;
  std::vector<Document> docs;
  std::vector<PromptBuilder> builders;
  std::unique_ptr<Bm25Retriever> bm25;

  explicit Fixture(std::size_t n_docs = 16) {
    std::string corpus;
    for (std::size_t i = 0; i < n_docs; ++i) {
      Document d{"doc" + std::to_string(i),
                 "",
                 std::string(kPassages[i % 8]) + " 기록" + std::to_string(i) + " 항목" +
                     std::to_string(i * 7),
                 {}};
      corpus += nlohmann::json{{"_id", d.id}, {"text", d.text}}.dump() + "\n";
      docs.push_back(d);
    }
    ksparse::test::write_file(dir / "corpus.jsonl", corpus);
    bm25 = Bm25Retriever::from_corpus(dir / "corpus.jsonl");
    std::string mixed = kKeyword;
    mixed.replace(mixed.find("\"keyword\""), 9, "\"mixed\"");
    mixed.replace(mixed.find("\"ko\""), 4, "\"mixed\"");
    builders.emplace_back(parse_prompt_template(kKeyword, "kw.toml"),
                          std::vector<FewShotExample>{});
    builders.emplace_back(parse_prompt_template(mixed, "mixed.toml"),
                          std::vector<FewShotExample>{});
  }

  QueryGenerationOptions options(std::size_t batch = 4) const {
    QueryGenerationOptions o;
    o.model = "fake-model sha256:0";
    o.per_doc = 3;
    o.batch_size = batch;
    o.seed = 11;
    o.show_progress = false;
    return o;
  }

  SynthesisResult synthesize(GenerationCache& cache, const QueryGenerationOptions& o) {
    fakes::FakeBackend backend;
    FilterOptions fo;
    fo.round_trip.k = 3;
    Funnel funnel = make_default_funnel(fo, bm25.get());
    return synthesize_queries(docs, builders, backend, cache, funnel, o);
  }
};

std::string dump(const std::vector<Triple>& triples) {
  std::string s;
  for (const Triple& t : triples) s += t.to_json().dump() + "\n";
  return s;
}

TEST(RunGeneration, BatchedAndIndependentOfBatchSize) {
  Fixture fx;
  GenerationCache c1(fx.dir / "a.sqlite"), c2(fx.dir / "b.sqlite");
  fakes::FakeBackend b1, b2;
  GenerationStats s1, s2;
  const auto r1 = run_generation(fx.docs, fx.builders, b1, c1, fx.options(4), &s1);
  const auto r2 = run_generation(fx.docs, fx.builders, b2, c2, fx.options(7), &s2);
  ASSERT_EQ(r1.size(), 48u);
  EXPECT_EQ(b1.calls, 12);  // 48 requests in batches of 4, never one at a time
  EXPECT_EQ(b2.calls, 7);   // ceil(48 / 7)
  for (std::size_t n : b2.batch_sizes) EXPECT_LE(n, 7u);
  EXPECT_EQ(s1.generated, 48u);
  EXPECT_EQ(s1.batches, 12u);
  for (std::size_t i = 0; i < r1.size(); ++i) {
    EXPECT_EQ(r1[i].generation, r2[i].generation) << i;
    EXPECT_EQ(r1[i].template_index, template_for(r1[i].doc_id, r1[i].item, 2));
    EXPECT_EQ(r1[i].template_index, (r1[i].item + template_for(r1[i].doc_id, 0, 2)) % 2);
  }
  // Items of one document differ (their seeds differ).
  EXPECT_NE(r1[0].generation.text, r1[1].generation.text);
}

// A template's grammar rides on each of its requests, and only on its own.
TEST(RunGeneration, RequestsCarryTheirTemplatesGrammar) {
  Fixture fx(4);
  const std::string constrained = "grammar = 'root ::= [a-z]+ \"\\\"}\"'\n" + std::string(kKeyword);
  fx.builders[1] =
      PromptBuilder(parse_prompt_template(constrained, "g.toml"), std::vector<FewShotExample>{});
  ASSERT_EQ(fx.builders[1].prompt_template().grammar, R"(root ::= [a-z]+ "\"}")");
  GenerationCache cache(fx.dir / "g.sqlite");
  fakes::FakeBackend backend;
  const auto records = run_generation(fx.docs, fx.builders, backend, cache, fx.options(5));
  ASSERT_EQ(backend.grammars.size(), records.size());
  std::size_t with_grammar = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const bool second = records[i].template_index == 1;
    EXPECT_EQ(backend.grammars[i], second ? fx.builders[1].prompt_template().grammar : "") << i;
    with_grammar += second ? 1 : 0;
  }
  EXPECT_GT(with_grammar, 0u);
  EXPECT_LT(with_grammar, records.size());
}

TEST(RunGeneration, RerunReusesEverything) {
  Fixture fx;
  GenerationCache cache(fx.dir / "c.sqlite");
  fakes::FakeBackend first, second;
  run_generation(fx.docs, fx.builders, first, cache, fx.options());
  GenerationStats st;
  const auto again = run_generation(fx.docs, fx.builders, second, cache, fx.options(), &st);
  EXPECT_EQ(second.calls, 0);
  EXPECT_EQ(st.cached, 48u);
  EXPECT_TRUE(again[5].from_cache);
  // Another seed is another key: nothing reused.
  QueryGenerationOptions o = fx.options();
  o.seed = 12;
  fakes::FakeBackend third;
  run_generation(fx.docs, fx.builders, third, cache, o, &st);
  EXPECT_EQ(st.cached, 0u);
  EXPECT_EQ(cache.size(), 96u);
}

TEST(RunGeneration, PartialFillReopenContinueEqualsOneShot) {
  Fixture fx;
  const SynthesisResult one_shot = [&] {
    GenerationCache cache(fx.dir / "oneshot.sqlite");
    return fx.synthesize(cache, fx.options());
  }();
  ASSERT_GT(one_shot.triples.size(), 5u);
  {
    GenerationCache cache(fx.dir / "partial.sqlite");
    QueryGenerationOptions o = fx.options();
    o.limit = 5;  // the first 5 documents only, then "stop"
    GenerationStats st;
    fakes::FakeBackend backend;
    run_generation(fx.docs, fx.builders, backend, cache, o, &st);
    EXPECT_EQ(st.generated, 15u);
  }
  GenerationCache reopened(fx.dir / "partial.sqlite");
  const SynthesisResult resumed = fx.synthesize(reopened, fx.options());
  EXPECT_EQ(resumed.stats.cached, 15u);
  EXPECT_EQ(resumed.stats.generated, 33u);
  EXPECT_EQ(dump(resumed.triples), dump(one_shot.triples));
  EXPECT_EQ(resumed.funnel.to_json(), one_shot.funnel.to_json());
}

TEST(RunGeneration, KilledChildResumesToTheSameFinalSet) {
  Fixture fx(24);  // 72 requests in batches of 2, 25 ms each: about 0.9 s of work
  const auto path = fx.dir / "killed.sqlite";
  QueryGenerationOptions o = fx.options(2);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: generate until killed. Never returns into the test framework.
    try {
      GenerationCache cache(path);
      fakes::FakeBackend slow(25);
      run_generation(fx.docs, fx.builders, slow, cache, o);
    } catch (...) {
      _exit(3);
    }
    _exit(0);
  }
  std::size_t at_kill = 0;
  {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::filesystem::exists(path)) {
        try {
          GenerationCache probe(path);
          if (probe.size() >= 10) break;
        } catch (const IoError&) {
          // The child may still be creating the schema.
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child finished before it was killed";
  {
    GenerationCache after(path);
    at_kill = after.size();
  }
  EXPECT_GE(at_kill, 10u);
  EXPECT_LT(at_kill, 72u);
  EXPECT_EQ(at_kill % 2, 0u) << "a batch was committed in part";

  GenerationCache cache(path);
  const SynthesisResult resumed = fx.synthesize(cache, o);
  EXPECT_EQ(resumed.stats.cached, at_kill);
  EXPECT_EQ(resumed.stats.generated, 72u - at_kill);
  GenerationCache fresh(fx.dir / "fresh.sqlite");
  const SynthesisResult one_shot = fx.synthesize(fresh, o);
  EXPECT_EQ(dump(resumed.triples), dump(one_shot.triples));
  EXPECT_EQ(resumed.funnel.to_json(), one_shot.funnel.to_json());
}

class GarbageBackend : public llm::Backend {
 public:
  std::vector<llm::GenerationResult> generate(
      const std::vector<llm::GenerationRequest>& requests) override {
    std::vector<llm::GenerationResult> out;
    const char* junk[] = {"", "}{", "\xEB\x8B", "{\"query\": 3}", "<unk><unk><unk>", "\"}"};
    for (std::size_t i = 0; i < requests.size(); ++i) {
      llm::GenerationResult r;
      r.text = junk[(requests[i].sampling.seed + i) % 6];
      r.mean_logprob = -9.0;
      r.finish = llm::FinishReason::kLength;
      out.push_back(r);
    }
    return out;
  }
  std::string name() const override { return "garbage"; }
};

TEST(SynthesizeQueries, GarbageIsRejectedWithReasonsAndTheRunCompletes) {
  Fixture fx(6);
  GenerationCache cache(fx.dir / "g.sqlite");
  GarbageBackend backend;
  FilterOptions fo;
  Funnel funnel = make_default_funnel(fo, fx.bm25.get());
  const SynthesisResult r =
      synthesize_queries(fx.docs, fx.builders, backend, cache, funnel, fx.options());
  EXPECT_TRUE(r.triples.empty());
  EXPECT_EQ(r.funnel.input, 18u);
  EXPECT_EQ(r.funnel.rejections.size(), 18u);
  for (const Rejection& rej : r.funnel.rejections) {
    EXPECT_FALSE(rej.reason.empty());
    EXPECT_EQ(rej.filter, "structure") << rej.reason;
  }
  write_synthesis(fx.dir / "out", r, {{"test", true}});
  EXPECT_EQ(ksparse::test::read_file(fx.dir / "out" / "triples.jsonl"), "");
  const auto funnel_json =
      nlohmann::json::parse(ksparse::test::read_file(fx.dir / "out" / "funnel.json"));
  EXPECT_EQ(funnel_json["by_filter"]["structure"], 18);
}

TEST(SynthesizeQueries, TriplesCarryProvenance) {
  Fixture fx;
  GenerationCache cache(fx.dir / "p.sqlite");
  const SynthesisResult r = fx.synthesize(cache, fx.options());
  ASSERT_FALSE(r.triples.empty());
  // Fake outputs with seed % 7 == 0 are garbage: the structure filter must have seen some.
  EXPECT_GT(r.funnel.rejected_by.at("structure"), 0u);
  for (const Triple& t : r.triples) {
    EXPECT_EQ(t.source, TripleSource::kSynthetic);
    ASSERT_TRUE(t.provenance);
    EXPECT_EQ(t.provenance->model, "fake-model sha256:0");
    EXPECT_EQ(t.provenance->filters.size(), 9u);
    EXPECT_TRUE(t.provenance->logprob);
    EXPECT_GE(*t.provenance->logprob, -3.0);
    EXPECT_EQ(t.query_id.rfind("syn-" + t.positive_id + "-", 0), 0u) << t.query_id;
  }
  write_synthesis(fx.dir / "out", r, {{"test", true}});
  EXPECT_EQ(read_triples(fx.dir / "out" / "triples.jsonl").size(), r.triples.size());
  EXPECT_TRUE(std::filesystem::exists(fx.dir / "out" / "manifest.json"));
  EXPECT_TRUE(std::filesystem::exists(fx.dir / "out" / "rejections.jsonl"));
}

TEST(TemplateFor, EveryTemplateIsUsedAcrossDocuments) {
  std::set<std::size_t> used;
  for (int d = 0; d < 20; ++d) used.insert(template_for("doc" + std::to_string(d), 0, 4));
  EXPECT_EQ(used.size(), 4u);
  EXPECT_EQ(template_for("x", 1, 4), (template_for("x", 0, 4) + 1) % 4);
}

TEST(RequestSeed, StableAndNeverTheSentinel) {
  EXPECT_EQ(request_seed(1, "d", 0), request_seed(1, "d", 0));
  EXPECT_NE(request_seed(1, "d", 0), request_seed(1, "d", 1));
  EXPECT_NE(request_seed(1, "d", 0), request_seed(2, "d", 0));
  EXPECT_NE(request_seed(1, "d", 0), llm::kSeedFromIndex);
}

}  // namespace
}  // namespace ksparse::synth
