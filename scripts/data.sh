#!/usr/bin/env bash
# Prints the directory that holds ksparse's demo and test data (the layout of shared/data:
# korquad-v1/, wikinews-ko/, lexicon/), making it available first if needed:
#   1. the directory given as $1 or $KSPARSE_DATA_DIR, if set;
#   2. ../shared/data beside the checkout, when present;
#   3. otherwise ~/.cache/ksparse/data, downloaded from each dataset's public location and checked
#      against a pinned sha256 (a mismatch is an error, never silently used).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

# path | sha256 | url
files=(
  "korquad-v1/KorQuAD_v1.0_dev.json|25ffeb51e6c51ec02c071b60a10188e10005c144110f0d876b26079d80a35bdf|https://korquad.github.io/dataset/KorQuAD_v1.0_dev.json"
  "wikinews-ko/wikinews.csv|bc099013ad5a5ff57f35a574007fd17030f987fd507b7802c4dd8c04b8b7b86b|https://raw.githubusercontent.com/yiunsr/boddari/master/boddari/csv/wikinews.csv"
  "lexicon/muse-ko-en.0-5000.txt|d092de1e3e1d8273a3713e2447955c1b569d877fe96c373d714a6b02a8271acd|https://dl.fbaipublicfiles.com/arrival/dictionaries/ko-en.0-5000.txt"
  "lexicon/wiktionary-en-ko.txt|a06152ccce6028570e09195c09522c23ae01a7c3b7283ebdc6fd6fb5e8f89688|https://raw.githubusercontent.com/open-dsl-dict/wiktionary-dict/master/src/en-ko-enwiktionary.txt"
)

dir="${1:-${KSPARSE_DATA_DIR:-}}"
if [ -z "$dir" ] && [ -d "$root/../shared/data" ]; then
  dir="$(cd "$root/../shared/data" && pwd)"
fi
if [ -z "$dir" ]; then
  dir="${HOME}/.cache/ksparse/data"
  for entry in "${files[@]}"; do
    IFS='|' read -r rel sum url <<<"$entry"
    target="$dir/$rel"
    if [ -f "$target" ] && echo "$sum  $target" | sha256sum -c --status; then continue; fi
    mkdir -p "$(dirname "$target")"
    echo "[data] downloading $url" >&2
    curl -fsSL --retry 3 -o "$target.tmp" "$url" \
      || { echo "data.sh: download failed: $url (give a data directory as argument or KSPARSE_DATA_DIR)" >&2; exit 1; }
    echo "$sum  $target.tmp" | sha256sum -c --status \
      || { echo "data.sh: $url does not match the pinned sha256 $sum; refusing to use it" >&2; rm -f "$target.tmp"; exit 1; }
    mv "$target.tmp" "$target"
  done
fi
for entry in "${files[@]}"; do
  IFS='|' read -r rel _ _ <<<"$entry"
  [ -f "$dir/$rel" ] || { echo "data.sh: $dir/$rel is missing" >&2; exit 1; }
done
echo "$dir"
