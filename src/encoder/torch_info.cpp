#include "ksparse/encoder/torch_info.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#include <unistd.h>
#endif

namespace ksparse {
namespace {

// The build configuration carries a line such as "  - BLAS_INFO=open"; Debian's libtorch links the
// generic libblas.so.3, so this names what it was configured with, not what the dynamic loader
// picked at run time. That is why torch_info() also lists the mapped libraries.
std::string blas_from_config(const std::string& config) {
  const std::string key = "BLAS_INFO=";
  auto pos = config.find(key);
  if (pos == std::string::npos) return "";
  pos += key.size();
  auto end = config.find_first_of(",\n", pos);
  return config.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

std::vector<std::string> loaded_blas_libraries() {
  std::set<std::string> found;
#if defined(__linux__)
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* out = static_cast<std::set<std::string>*>(data);
        if (info->dlpi_name == nullptr || info->dlpi_name[0] == '\0') return 0;
        std::string name = std::filesystem::path(info->dlpi_name).filename().string();
        for (const char* needle : {"blas", "lapack", "mkl", "blis", "accelerate"}) {
          if (name.find(needle) != std::string::npos) {
            std::error_code ec;
            auto real = std::filesystem::canonical(info->dlpi_name, ec);
            out->insert(ec ? std::string(info->dlpi_name) : real.string());
            break;
          }
        }
        return 0;
      },
      &found);
#endif
  return {found.begin(), found.end()};
}

// openblas_get_corename() of the OpenBLAS mapped into the process (through libtorch), or "".
std::string openblas_core() {
#if defined(__linux__)
  using CoreName = char* (*)();
  if (auto fn = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) {
    const char* name = fn();
    return name ? name : "";
  }
#endif
  return "";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> cpu_runtime_env_fixes(bool passive_omp) {
  std::vector<std::pair<std::string, std::string>> fixes;
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
  if (std::getenv("OPENBLAS_CORETYPE") == nullptr) {
    std::string core = openblas_core();
    for (char& c : core) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool generic = core == "prescott" || core == "core2" || core == "nehalem" ||
                         core == "dunnington" || core == "penryn" || core == "atom";
    if (generic) {
      if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        fixes.emplace_back("OPENBLAS_CORETYPE", "SkylakeX");
      } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        fixes.emplace_back("OPENBLAS_CORETYPE", "Haswell");
      }
    }
  }
#endif
  if (passive_omp && std::getenv("OMP_WAIT_POLICY") == nullptr && at::globalContext().hasOpenMP())
    fixes.emplace_back("OMP_WAIT_POLICY", "PASSIVE");
  return fixes;
}

void apply_cpu_runtime_env(char** argv, bool passive_omp) {
#if defined(__linux__)
  if (std::getenv("KSPARSE_NO_ENV_FIX") != nullptr) return;
  const auto fixes = cpu_runtime_env_fixes(passive_omp);
  if (fixes.empty()) return;
  for (const auto& [name, value] : fixes) ::setenv(name.c_str(), value.c_str(), 0);
  ::setenv("KSPARSE_NO_ENV_FIX", "1", 1);
  ::execv("/proc/self/exe", argv);
  // exec failed: carry on in this process with the settings it has.
#else
  (void)argv;
  (void)passive_omp;
#endif
}

TorchInfo torch_info() {
  TorchInfo info;
  info.version = TORCH_VERSION;
  info.num_threads = at::get_num_threads();
  info.has_openmp = at::globalContext().hasOpenMP();
  info.has_mkl = at::globalContext().hasMKL();
  info.has_lapack = at::globalContext().hasLAPACK();
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  info.build_config = at::show_config();
  info.blas_build = blas_from_config(info.build_config);
  info.blas_loaded = loaded_blas_libraries();
  info.blas_core = openblas_core();
  return info;
}

std::string format_torch_info(const TorchInfo& info) {
  std::ostringstream out;
  auto yes_no = [](bool b) { return b ? "yes" : "no"; };
  out << "libtorch:      " << info.version << '\n'
      << "threads:       " << info.num_threads << '\n'
      << "openmp:        " << yes_no(info.has_openmp) << '\n'
      << "mkl:           " << yes_no(info.has_mkl) << '\n'
      << "lapack:        " << yes_no(info.has_lapack) << '\n'
      << "blas (build):  " << (info.blas_build.empty() ? "unknown" : info.blas_build) << '\n'
      << "blas (loaded):";
  if (info.blas_loaded.empty()) out << " none found";
  for (const auto& lib : info.blas_loaded) out << ' ' << lib;
  out << '\n' << "blas (core):   " << (info.blas_core.empty() ? "unknown" : info.blas_core) << '\n';
  out << "cuda:          " << yes_no(info.cuda_available);
  if (info.cuda_available) out << " (" << info.cuda_device_count << " devices)";
  out << '\n';
  return out.str();
}

SgemmTiming measure_sgemm(std::int64_t n, int threads, int reps, int warmup) {
  if (n < 1 || reps < 1 || warmup < 1 || threads < 0) {
    throw std::invalid_argument("measure_sgemm: n, reps, warmup must be >= 1 and threads >= 0");
  }
  const int t = threads > 0 ? threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(t);
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(0x5eedULL);
  const auto a = torch::randn({n, n}, gen, torch::kFloat);
  const auto b = torch::randn({n, n}, gen, torch::kFloat);
  auto c = torch::empty({n, n}, torch::kFloat);
  for (int i = 0; i < warmup; ++i) torch::mm_out(c, a, b);
  std::vector<double> secs;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::mm_out(c, a, b);
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(secs.begin(), secs.end());
  const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  SgemmTiming r;
  r.n = n;
  r.threads = t;
  r.reps = reps;
  r.best_seconds = secs.front();
  r.best_gflops = flops / secs.front() / 1e9;
  r.median_gflops = flops / secs[secs.size() / 2] / 1e9;
  return r;
}

}  // namespace ksparse
