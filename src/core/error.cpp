#include "ksparse/core/error.h"

namespace ksparse {

std::string where(const std::filesystem::path& file, std::size_t line) {
  std::string s = file.string();
  if (line > 0) {
    s += ':';
    s += std::to_string(line);
  }
  return s;
}

}  // namespace ksparse
