#!/usr/bin/env bash
# Runs the benchmarks built next to the given ksparse CLI (`make bench` calls this).
# Usage: bash bench/run.sh <path-to-ksparse> [extra args for bench_index]
# Record the output, command, machine and date in bench/RESULTS.md.
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: bash bench/run.sh <path-to-ksparse> [bench_index args]" >&2
  exit 2
fi
ksparse="$1"
shift
bench_dir="$(cd "$(dirname "$ksparse")" && pwd)/bench"
if [[ ! -x "$bench_dir/bench_index" ]]; then
  echo "bench/run.sh: $bench_dir/bench_index not found; configure with -DKSPARSE_BUILD_BENCH=ON and build" >&2
  exit 1
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$bench_dir/bench_index" "$@"
# Any other bench programs added to bench/CMakeLists.txt (bench_*), with default arguments.
for prog in "$bench_dir"/bench_*; do
  [[ -x "$prog" && -f "$prog" && "$(basename "$prog")" != bench_index ]] || continue
  echo
  echo "== $(basename "$prog")"
  "$prog"
done
