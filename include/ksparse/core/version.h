// Version and build information, recorded in every artifact manifest.
#pragma once

#include <string_view>

namespace ksparse {

// "0.1.0" etc.
std::string_view version_string();
// Git commit the binary was built from ("unknown" outside a checkout).
std::string_view git_commit();
// Components the binary was built with, e.g. "llama.cpp b1234 cpu; libtorch 1.13.1".
std::string_view build_features();

}  // namespace ksparse
