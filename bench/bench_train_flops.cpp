// Training throughput vs the SGEMM ceiling, measured in one run on one machine (issue 6,
// acceptance 3: achieved FLOP/s of a training step >= 50% of SGEMM).
//
// 1. SGEMM ceiling: torch::mm on n x n float32 matrices (measure_sgemm) for each --gemm-sizes n,
//    with the same intra-op threads as training; 2 n^3 FLOPs per call, best of --gemm-reps calls.
// 2. Training: real optimizer steps of train_encoder (the code path of `ksparse train`: BERT
//    forward, sparse pooling, InfoNCE + FLOPS losses, backward, clipping, AdamW) on KorQuAD 1.0 dev
//    (961 passages, every question a real triple, doc-only mode, vocabulary trained by our
//    WordPiece trainer). A first train_encoder call runs --warmup-steps steps (and trains the
//    vocabulary); each later block resumes from the checkpoint and runs --steps more. The time of a
//    block is TrainResult::step_seconds: the steps alone, no data loading or checkpoints.
//    Blocks and SGEMM measurements alternate, so both see the same machine load.
// 3. FLOPs of one optimizer step are counted analytically from the shapes the model really
//    computes (matrix products only; element-wise work, softmax, LayerNorm, GELU, dropout and
//    AdamW are not counted). For D = batch * (1 + hard_negatives) documents of T tokens (every
//    passage has >= T tokens after truncation: checked, so no batch is shorter), hidden H, FFN
//    size I, L layers, vocabulary V, per document:
//      forward = L * (2T*H*3H  [Q,K,V] + 2T*T*H [Q K^T] + 2T*T*H [probs V] + 2T*H*H [attn out]
//                     + 2 * 2T*H*I [FFN])  + 2T*H*H [MLM transform] + 2T*H*V [tied decoder]
//    Every one of these products has inputs that need gradients on both sides (hidden states
//    and weights), so backward costs 2x forward: train = 3 * D * forward.
//    Scoring (doc-only): scores = q [B,V] x doc_w^T [V,D], 2*B*V*D; the query side is a constant
//    IDF vector, so backward only computes d doc_w: 2x. Step FLOPs = 3 D forward + 2 (2 B V D).
//
// Usage: bench_train_flops [--korquad PATH] [--work DIR] [--threads N] [--hidden H] [--layers L]
//          [--heads A] [--intermediate I] [--max-length T] [--batch B] [--hard-negatives K]
//          [--vocab V] [--warmup-steps W] [--lr X] [--steps N] [--blocks R] [--gemm-sizes 512,1024,2048]
//          [--gemm-reps N] [--sgemm-only 1] [--compare-retain 1]
// Prints a table and one JSON line (prefixed "json: ") with the config, machine, date and numbers.
#include <sys/utsname.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/encoder/torch_info.h"
#include "ksparse/encoder/trainer.h"
#include "ksparse/encoder/wordpiece.h"
#include "ksparse/synth/triples.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Args {
  fs::path korquad;
  fs::path work;
  int threads = 0;  // 0 = hardware concurrency
  std::int64_t hidden = 256;
  std::int64_t layers = 4;
  std::int64_t heads = 4;
  std::int64_t intermediate = 1024;
  std::size_t max_length = 128;
  std::size_t batch = 16;
  std::size_t hard_negatives = 1;
  std::size_t vocab = 8000;
  std::int64_t warmup_steps = 3;
  double lr = 5e-4;  // peak AdamW learning rate (no schedule warm-up; TrainOptions' default)
  std::int64_t steps = 8;
  int blocks = 3;
  std::vector<std::int64_t> gemm_sizes = {512, 1024, 2048};
  int gemm_reps = 5;
  bool sgemm_only = false;  // --sgemm-only 1: measure the ceiling and stop
  // --compare-retain 1: each block also runs its steps with TrainOptions::retain_freed_memory off
  // (order alternating per block), for a side-by-side ratio in one run.
  bool compare_retain = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "bench_train_flops: " << why
            << "\nusage: bench_train_flops [--korquad PATH] [--work DIR] [--threads N] [--hidden H]"
               " [--layers L] [--heads A] [--intermediate I] [--max-length T] [--batch B]"
               " [--hard-negatives K] [--vocab V] [--warmup-steps W] [--lr X] [--steps N] [--blocks R]"
               " [--gemm-sizes 512,1024,2048] [--gemm-reps N] [--sgemm-only 1] [--compare-retain 1]\n";
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  const char* data_dir = std::getenv("KSPARSE_SHARED_DATA_DIR");
  a.korquad = fs::path(data_dir ? data_dir : KSPARSE_SOURCE_DIR "/../shared/data") / "korquad-v1" /
              "KorQuAD_v1.0_dev.json";
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) usage("missing value for " + k);
    const std::string v = argv[++i];
    auto num = [&]() {
      try {
        std::size_t used = 0;
        const long long n = std::stoll(v, &used);
        if (used != v.size() || n < 0) throw std::invalid_argument(v);
        return n;
      } catch (const std::exception&) {
        usage(k + " needs a non-negative integer, got '" + v + "'");
      }
    };
    if (k == "--korquad") a.korquad = v;
    else if (k == "--work") a.work = v;
    else if (k == "--threads") a.threads = static_cast<int>(num());
    else if (k == "--hidden") a.hidden = num();
    else if (k == "--layers") a.layers = num();
    else if (k == "--heads") a.heads = num();
    else if (k == "--intermediate") a.intermediate = num();
    else if (k == "--max-length") a.max_length = static_cast<std::size_t>(num());
    else if (k == "--batch") a.batch = static_cast<std::size_t>(num());
    else if (k == "--hard-negatives") a.hard_negatives = static_cast<std::size_t>(num());
    else if (k == "--vocab") a.vocab = static_cast<std::size_t>(num());
    else if (k == "--warmup-steps") a.warmup_steps = num();
    else if (k == "--lr") {
      try {
        std::size_t used = 0;
        a.lr = std::stod(v, &used);
        if (used != v.size() || !(a.lr > 0.0)) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        usage("--lr needs a positive number, got '" + v + "'");
      }
    }
    else if (k == "--steps") a.steps = num();
    else if (k == "--blocks") a.blocks = static_cast<int>(num());
    else if (k == "--gemm-reps") a.gemm_reps = static_cast<int>(num());
    else if (k == "--sgemm-only") a.sgemm_only = num() != 0;
    else if (k == "--compare-retain") a.compare_retain = num() != 0;
    else if (k == "--gemm-sizes") {
      a.gemm_sizes.clear();
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');) {
        try {
          a.gemm_sizes.push_back(std::stoll(part));
        } catch (const std::exception&) {
          usage("--gemm-sizes needs comma-separated integers, got '" + v + "'");
        }
      }
    } else {
      usage("unknown option " + k);
    }
  }
  if (a.steps < 1 || a.warmup_steps < 1 || a.blocks < 1 || a.gemm_reps < 1 || a.gemm_sizes.empty())
    usage("--steps, --warmup-steps, --blocks, --gemm-reps must be >= 1, --gemm-sizes non-empty");
  if (a.threads == 0) a.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return a;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string env_or_unset(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "(unset)";
}

double load_average() {
  double l[1] = {0};
  return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// KorQuAD dev -> corpus.jsonl (unique contexts, title + text) and triples.jsonl (every question a
// real triple, positive = its passage). Returns the number of passages.
std::size_t write_korquad(const fs::path& in_path, const fs::path& dir) {
  std::ifstream in(in_path);
  if (!in) {
    throw ksparse::IoError("cannot read " + in_path.string() +
                           "; pass --korquad or set KSPARSE_SHARED_DATA_DIR");
  }
  const json doc = json::parse(in);
  std::unordered_map<std::string, std::string> passage_id;
  ksparse::JsonlWriter corpus(dir / "corpus.jsonl");
  std::vector<ksparse::synth::Triple> triples;
  for (const json& article : doc.at("data")) {
    const std::string title = article.at("title").get<std::string>();
    for (const json& p : article.at("paragraphs")) {
      const std::string context = p.at("context").get<std::string>();
      auto [it, fresh] = passage_id.emplace(context, "");
      if (fresh) {
        it->second = "p";
        it->second += std::to_string(passage_id.size());
        corpus.write(ksparse::Document{it->second, title, context, nullptr});
      }
      for (const json& qa : p.at("qas")) {
        ksparse::synth::Triple t;
        t.query = qa.at("question").get<std::string>();
        t.query_id = qa.at("id").get<std::string>();
        t.positive_id = it->second;
        triples.push_back(std::move(t));
      }
    }
  }
  corpus.close();
  ksparse::synth::write_triples(dir / "triples.jsonl", triples);
  return passage_id.size();
}

struct StepFlops {
  double forward_per_doc = 0;  // matmul FLOPs of one document's forward pass
  double step = 0;             // forward + backward of a whole optimizer step
};

// See the header comment for the formula.
StepFlops count_flops(const Args& a, double vocab) {
  const double t = static_cast<double>(a.max_length), h = static_cast<double>(a.hidden);
  const double i = static_cast<double>(a.intermediate), l = static_cast<double>(a.layers);
  const double b = static_cast<double>(a.batch);
  const double d = b * static_cast<double>(1 + a.hard_negatives);
  const double layer = 2 * t * h * 3 * h + 2 * t * t * h + 2 * t * t * h + 2 * t * h * h +
                       2 * (2 * t * h * i);
  StepFlops f;
  f.forward_per_doc = l * layer + 2 * t * h * h + 2 * t * h * vocab;
  f.step = 3 * d * f.forward_per_doc + 2 * (2 * b * vocab * d);
  return f;
}

ksparse::TrainOptions train_options(const Args& a, std::int64_t max_steps, bool resume,
                                    bool retain = true) {
  ksparse::TrainOptions o;
  o.retain_freed_memory = retain;
  o.synthetic_per_real = 0.0;
  o.validation_fraction = 0.0;  // no validation: every step is a training step
  o.vocab_size = a.vocab;
  o.hidden_size = a.hidden;
  o.num_layers = a.layers;
  o.num_heads = a.heads;
  o.intermediate_size = a.intermediate;
  o.max_length = a.max_length;
  o.batch_size = a.batch;
  o.hard_negatives = a.hard_negatives;
  o.warmup_steps = 0;
  o.lr = a.lr;
  o.max_steps = max_steps;
  o.threads = a.threads;
  o.checkpoint_every = 0;  // one checkpoint at the end of each call, outside step_seconds
  o.eval_every = 0;
  o.log_every = max_steps;
  o.resume = resume;
  return o;
}

int run(const Args& a) {
  if (a.sgemm_only) {
    for (std::int64_t n : a.gemm_sizes) {
      const ksparse::SgemmTiming g = ksparse::measure_sgemm(n, a.threads, a.gemm_reps);
      std::printf("sgemm n=%lld threads=%d: best %.1f GFLOP/s, median %.1f GFLOP/s\n",
                  static_cast<long long>(n), g.threads, g.best_gflops, g.median_gflops);
    }
    return 0;
  }
  const fs::path work = a.work.empty() ? fs::temp_directory_path() / "bench_train_flops" : a.work;
  fs::remove_all(work);
  fs::create_directories(work);
  const std::size_t passages = write_korquad(a.korquad, work);
  const fs::path model = work / "model";

  // Warm-up call: trains the vocabulary, first-touches the allocator, writes a checkpoint.
  ksparse::TrainResult warm = ksparse::train_encoder(
      work / "triples.jsonl", work / "corpus.jsonl", model, train_options(a, a.warmup_steps, false));

  // Every passage must fill max_length tokens, so every batch has T = max_length exactly.
  const auto tok =
      ksparse::WordPieceTokenizer::from_file(model / "checkpoints" / "tokenizer" / "tokenizer.json");
  ksparse::EncodeOptions eo;
  eo.max_length = a.max_length;
  std::size_t short_docs = 0;
  for (const ksparse::Document& d : ksparse::read_corpus(work / "corpus.jsonl"))
    if (tok.encode(d.title + " " + d.text, eo).ids.size() < a.max_length) ++short_docs;
  if (short_docs > 0) {
    std::cerr << "bench_train_flops: " << short_docs << " passages are shorter than "
              << a.max_length << " tokens, so batch lengths vary; lower --max-length\n";
    return 1;
  }
  const double vocab = static_cast<double>(tok.vocab_size());
  const StepFlops flops = count_flops(a, vocab);

  // Per block: SGEMM best and median call (largest over sizes) and the training steps' fastest
  // and mean time. "best" ratios compare the fastest unit of work on both sides (one GEMM call,
  // one optimizer step), which is what a loaded shared machine lets through least distorted;
  // "typical" ratios compare the median GEMM call with the mean step.
  json gemm_rows = json::array();
  std::vector<double> sgemm_best, sgemm_median, step_mean, step_fastest, ratio_best, ratio_typical;
  std::vector<double> unretained_mean, unretained_fastest;  // --compare-retain only
  std::int64_t done = a.warmup_steps;
  const double load_start = load_average();
  for (int r = 0; r < a.blocks; ++r) {
    double best = 0, med = 0;
    for (std::int64_t n : a.gemm_sizes) {
      const ksparse::SgemmTiming g = ksparse::measure_sgemm(n, a.threads, a.gemm_reps);
      gemm_rows.push_back({{"block", r}, {"n", n}, {"best_gflops", g.best_gflops},
                           {"median_gflops", g.median_gflops}});
      best = std::max(best, g.best_gflops);
      med = std::max(med, g.median_gflops);
    }
    // The steps with the default settings, and with --compare-retain the same number of steps
    // with freed memory returned to the kernel (before them in odd blocks, after in even ones).
    auto steps = [&](bool retain) {
      done += a.steps;
      ksparse::TrainResult res = ksparse::train_encoder(
          work / "triples.jsonl", work / "corpus.jsonl", model, train_options(a, done, true, retain));
      if (res.resumed_from != done - a.steps) {
        throw std::runtime_error("block " + std::to_string(r) + " resumed from step " +
                                 std::to_string(res.resumed_from) + ", expected " +
                                 std::to_string(done - a.steps));
      }
      return res;
    };
    std::optional<ksparse::TrainResult> unretained;
    if (a.compare_retain && r % 2 == 1) unretained = steps(false);
    const ksparse::TrainResult res = steps(true);
    if (a.compare_retain && r % 2 == 0) unretained = steps(false);
    if (unretained) {
      const double mean_off = unretained->step_seconds / static_cast<double>(a.steps);
      const double mean_on = res.step_seconds / static_cast<double>(a.steps);
      unretained_mean.push_back(mean_off);
      unretained_fastest.push_back(unretained->fastest_step_seconds);
      std::printf("block %d: retain_freed_memory off: fastest %.3f s, mean %.3f s | on: fastest "
                  "%.3f s, mean %.3f s | mean off/on %.3f\n",
                  r, unretained->fastest_step_seconds, mean_off, res.fastest_step_seconds, mean_on,
                  mean_off / mean_on);
    }
    sgemm_best.push_back(best);
    sgemm_median.push_back(med);
    step_mean.push_back(res.step_seconds / static_cast<double>(a.steps));
    step_fastest.push_back(res.fastest_step_seconds);
    ratio_best.push_back(flops.step / step_fastest.back() / 1e9 / best);
    ratio_typical.push_back(flops.step / step_mean.back() / 1e9 / med);
    std::printf("block %d: sgemm best %.1f median %.1f GFLOP/s | train fastest %.3f s = %.1f GFLOP/s,"
                " mean %.3f s = %.1f GFLOP/s | ratio best %.3f typical %.3f (loss %.4f)\n",
                r, best, med, step_fastest.back(), flops.step / step_fastest.back() / 1e9,
                step_mean.back(), flops.step / step_mean.back() / 1e9, ratio_best.back(),
                ratio_typical.back(), res.final_loss);
    std::fflush(stdout);
  }
  const double sgemm_top = *std::max_element(sgemm_best.begin(), sgemm_best.end());
  const double train_top =
      flops.step / *std::min_element(step_fastest.begin(), step_fastest.end()) / 1e9;

  utsname un{};
  uname(&un);
  const ksparse::TorchInfo ti = ksparse::torch_info();
  const json out = {
      {"bench", "bench_train_flops"},
      {"date", utc_now()},
      {"machine",
       {{"nproc", std::thread::hardware_concurrency()},
        {"cpu", cpu_model()},
        {"kernel", std::string(un.release)},
        {"load_average_start", load_start},
        {"load_average_end", load_average()}}},
      {"torch",
       {{"version", ti.version},
        {"threads", ti.num_threads},
        {"blas_loaded", ti.blas_loaded},
        {"blas_core", ti.blas_core},
        {"OPENBLAS_CORETYPE", env_or_unset("OPENBLAS_CORETYPE")},
        {"OMP_WAIT_POLICY", env_or_unset("OMP_WAIT_POLICY")}}},
      {"config",
       {{"data", "KorQuAD 1.0 dev"},
        {"passages", passages},
        {"vocab_size", tok.vocab_size()},
        {"hidden", a.hidden},
        {"layers", a.layers},
        {"heads", a.heads},
        {"intermediate", a.intermediate},
        {"seq_len", a.max_length},
        {"lr", a.lr},
        {"queries_per_step", a.batch},
        {"docs_per_step", a.batch * (1 + a.hard_negatives)},
        {"mode", "doc-only"},
        {"threads", a.threads},
        {"warmup_steps", a.warmup_steps},
        {"timed_steps_per_block", a.steps},
        {"blocks", a.blocks},
        {"warmup_call_step_seconds", warm.step_seconds}}},
      {"flops_per_step", flops.step},
      {"forward_flops_per_doc", flops.forward_per_doc},
      {"sgemm", gemm_rows},
      {"sgemm_best_gflops", sgemm_best},
      {"sgemm_median_gflops", sgemm_median},
      {"step_seconds_fastest", step_fastest},
      {"step_seconds_mean", step_mean},
      {"ratio_best", ratio_best},
      {"ratio_typical", ratio_typical},
      {"unretained_step_seconds_mean", unretained_mean},
      {"unretained_step_seconds_fastest", unretained_fastest},
      {"sgemm_gflops", sgemm_top},
      {"train_gflops", train_top},
      {"ratio", train_top / sgemm_top}};
  std::printf("\nvocab %zu, H=%lld L=%lld A=%lld I=%lld T=%zu, %zu docs/step, %d threads\n",
              tok.vocab_size(), static_cast<long long>(a.hidden), static_cast<long long>(a.layers),
              static_cast<long long>(a.heads), static_cast<long long>(a.intermediate), a.max_length,
              a.batch * (1 + a.hard_negatives), a.threads);
  std::printf("FLOPs per step %.1f GFLOP; run: sgemm_gflops %.1f, train_gflops %.1f, ratio %.3f"
              " (target >= 0.5); median over blocks: ratio best %.3f, typical %.3f\n",
              flops.step / 1e9, sgemm_top, train_top, train_top / sgemm_top, median(ratio_best),
              median(ratio_typical));
  std::printf("blas core %s, OPENBLAS_CORETYPE=%s, OMP_WAIT_POLICY=%s\n", ti.blas_core.c_str(),
              env_or_unset("OPENBLAS_CORETYPE").c_str(), env_or_unset("OMP_WAIT_POLICY").c_str());
  std::printf("json: %s\n", out.dump().c_str());
  fs::remove_all(work);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Same process-start BLAS/OpenMP settings as the ksparse CLI (see torch_info.h); the report
  // records which were in effect.
  ksparse::apply_cpu_runtime_env(argv);
  try {
    return run(parse_args(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "bench_train_flops: " << e.what() << '\n';
    return 1;
  }
}
