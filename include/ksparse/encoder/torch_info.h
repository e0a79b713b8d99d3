// What the linked libtorch is and how it will run: version, intra-op threads, which BLAS/LAPACK
// backs its CPU kernels, and whether CUDA is usable. No torch type crosses this header.
#pragma once

#include <string>
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
  std::string build_config;  // full at::show_config() text
};

// Queries the libtorch runtime. Cheap after the first call (the first call initialises the thread
// pool). Thread-safe.
TorchInfo torch_info();

// Multi-line human-readable summary of `info` (the output of `ksparse encoder info`).
std::string format_torch_info(const TorchInfo& info);

}  // namespace ksparse
