# Locates third-party dependencies. scripts/setup.sh writes ${KSPARSE_DEPS_DIR}/env.cmake (CPU
# llama.cpp) or env-cuda.cmake (KSPARSE_CUDA=1) with the llama.cpp prefix and the test model; any of
# those cache variables can be overridden with -D.
set(_ksparse_deps_dir "$ENV{KSPARSE_DEPS_DIR}")
if(NOT _ksparse_deps_dir)
  set(_ksparse_deps_dir "$ENV{HOME}/.cache/ksparse/deps")
endif()
set(_ksparse_env "${_ksparse_deps_dir}/env.cmake")
if(KSPARSE_CUDA)
  set(_ksparse_env "${_ksparse_deps_dir}/env-cuda.cmake")
endif()
if(EXISTS "${_ksparse_env}")
  include("${_ksparse_env}")
elseif(KSPARSE_CUDA AND NOT KSPARSE_LLAMA_PREFIX)
  message(FATAL_ERROR "KSPARSE_CUDA=ON but ${_ksparse_env} does not exist: run "
                      "`KSPARSE_CUDA=1 scripts/setup.sh` (builds llama.cpp with CUDA) or pass "
                      "-DKSPARSE_LLAMA_PREFIX=<a CUDA build of llama.cpp>.")
endif()

find_package(Threads REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n data)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CURL REQUIRED)

if(KSPARSE_WITH_LLAMA)
  if(KSPARSE_LLAMA_PREFIX)
    list(PREPEND CMAKE_PREFIX_PATH "${KSPARSE_LLAMA_PREFIX}")
  endif()
  find_package(llama CONFIG)
  if(KSPARSE_CUDA)
    # llama.cpp's CUDA backend needs the driver's libcuda.so.1. Without a driver (a build-only
    # machine) executables cannot resolve it at link time: let them link; they run where a driver is.
    find_library(KSPARSE_LIBCUDA_SO1 NAMES libcuda.so.1)
    if(NOT KSPARSE_LIBCUDA_SO1)
      message(STATUS "ksparse: no CUDA driver (libcuda.so.1) on this machine: executables link "
                     "with --allow-shlib-undefined and run only where a driver is installed")
      add_link_options(LINKER:--allow-shlib-undefined)
    endif()
  endif()
  if(NOT llama_FOUND)
    message(FATAL_ERROR
      "llama.cpp not found. Run scripts/setup.sh (builds it into ~/.cache/ksparse/deps), pass "
      "-DKSPARSE_LLAMA_PREFIX=<your llama.cpp install prefix>, or configure with -DKSPARSE_WITH_LLAMA=OFF.")
  endif()
  # llama-server from the same prefix: the HTTP backend's tests start it.
  if(KSPARSE_LLAMA_PREFIX)
    set(_ksparse_llama_bin "${KSPARSE_LLAMA_PREFIX}/bin")
  else()
    get_filename_component(_ksparse_llama_bin "${llama_DIR}/../../../bin" ABSOLUTE)
  endif()
  set(KSPARSE_LLAMA_SERVER "${_ksparse_llama_bin}/llama-server" CACHE FILEPATH
      "llama-server built from the same llama.cpp source (HTTP backend tests)")
endif()

if(KSPARSE_WITH_TORCH)
  find_package(Torch CONFIG)
  if(NOT Torch_FOUND)
    message(FATAL_ERROR
      "libtorch not found. Install libtorch-dev (Debian) or pass -DTorch_DIR=<libtorch>/share/cmake/Torch, "
      "or configure with -DKSPARSE_WITH_TORCH=OFF.")
  endif()
endif()

if(KSPARSE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(KSPARSE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
