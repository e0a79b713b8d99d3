// What the linked libtorch is and how it will run: version, intra-op threads, which BLAS/LAPACK
// backs its CPU kernels, and whether CUDA is usable. No torch type crosses this header.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ksparse {

struct TorchInfo {
  std::string version;      // libtorch version, e.g. "1.13.0" (from TORCH_VERSION at build time)
  int num_threads = 0;      // intra-op threads at::get_num_threads() will use
  bool has_openmp = false;  // libtorch was built with OpenMP
  bool has_mkl = false;     // libtorch was built against Intel MKL
  bool has_lapack = false;  // libtorch has LAPACK kernels (linalg)
  bool cuda_available = false;
  int cuda_device_count = 0;  // 0 when CUDA is not available
  std::string
      blas_build;  // BLAS named by the build configuration (at::show_config()), "" if absent
  // BLAS/LAPACK shared objects mapped into this process right now, resolved through symlinks
  // (e.g. Debian's libblas.so.3 alternative). Empty where the platform gives no way to list them.
  std::vector<std::string> blas_loaded;
  // Kernel set the loaded OpenBLAS picked for this CPU (openblas_get_corename(), e.g. "SkylakeX",
  // "Haswell", "Prescott"); "" when the BLAS is not OpenBLAS.
  std::string blas_core;
  std::string build_config;  // full at::show_config() text
};

// Queries the libtorch runtime. Cheap after the first call (the first call initialises the thread
// pool). Thread-safe.
TorchInfo torch_info();

// Multi-line human-readable summary of `info` (the output of `ksparse encoder info`).
std::string format_torch_info(const TorchInfo& info);

// CPU runtime settings that libtorch's BLAS and OpenMP read only from the environment when they
// load, i.e. before main():
//   OPENBLAS_CORETYPE  Debian's OpenBLAS 0.3.21 does not recognise recent Xeons (family 6 model
//                      207 here) and falls back to its Prescott (SSE3) kernels: ~5x slower SGEMM
//                      than its SkylakeX (AVX-512) kernels on the same CPU. Proposed (SkylakeX with
//                      AVX-512F/BW/DQ/VL, else Haswell with AVX2+FMA) only when the loaded OpenBLAS
//                      reports Prescott, Core2, Nehalem, Dunnington, Penryn or Atom.
//   OMP_WAIT_POLICY    PASSIVE: libtorch's OpenMP threads otherwise spin after every parallel op
//                      while OpenBLAS's own pthreads need the same cores for the next GEMM (with 2
//                      cores: 30% of a training step spent spinning in libgomp). Only when
//                      `passive_omp`: llama.cpp's CPU backend (built with OpenMP) meets at an
//                      OpenMP barrier after every graph node, and a passive wait puts its threads
//                      to sleep at each one, so commands that only run llama.cpp keep libgomp's
//                      default, as llama.cpp's own tools do.
// Returns (name, value) pairs to set; variables already present in the environment are never
// proposed, so the user's choice wins.
std::vector<std::pair<std::string, std::string>> cpu_runtime_env_fixes(bool passive_omp = true);
// When cpu_runtime_env_fixes() is non-empty and KSPARSE_NO_ENV_FIX is unset: sets the variables
// (plus KSPARSE_NO_ENV_FIX=1 so it happens once) and re-executes /proc/self/exe with `argv`; does
// not return then. Returns normally when nothing is to fix or exec fails (the run continues with
// the slower settings). Call first thing in main(), before any thread exists.
void apply_cpu_runtime_env(char** argv, bool passive_omp = true);

// SGEMM throughput of the linked libtorch: torch::mm of two n x n float32 matrices (random values)
// on the CPU, the ceiling a float32 training step can approach. One GEMM is 2 n^3 FLOPs.
struct SgemmTiming {
  std::int64_t n = 0;
  int threads = 0;             // intra-op threads used
  int reps = 0;                // timed calls
  double best_seconds = 0.0;   // fastest call
  double best_gflops = 0.0;    // 2 n^3 / best_seconds / 1e9
  double median_gflops = 0.0;  // 2 n^3 / median call time / 1e9
};
// Sets torch's intra-op threads to `threads` (0 = hardware concurrency; the setting stays, as
// train_encoder's does), runs `warmup` untimed calls, then `reps` timed ones (>= 1 each, n >= 1;
// std::invalid_argument otherwise).
SgemmTiming measure_sgemm(std::int64_t n, int threads = 0, int reps = 5, int warmup = 2);

}  // namespace ksparse
