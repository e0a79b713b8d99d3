#include "ksparse/encoder/torch_info.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <filesystem>
#include <set>
#include <sstream>

#if defined(__linux__)
#include <link.h>
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

}  // namespace

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
  out << '\n' << "cuda:          " << yes_no(info.cuda_available);
  if (info.cuda_available) out << " (" << info.cuda_device_count << " devices)";
  out << '\n';
  return out.str();
}

}  // namespace ksparse
