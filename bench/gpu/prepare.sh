#!/usr/bin/env bash
# bench/gpu/prepare.sh: run on the development machine (Debian/Ubuntu x86-64, the
# project's dependencies installed) before bench/gpu/run.sh goes to the GPU machine.
#
#  1. Packs the build dependencies the GPU machine's image lacks (Abseil, GoogleTest,
#     Google Benchmark, nlohmann_json, zlib's headers: headers, libraries and their CMake
#     package files, with their relative layout) into build-gpudeps/prefix (ignored by
#     git through /build*/). run.sh finds it there and builds against it.
#  2. Splits models/SmolLM2-135M-Instruct.Q4_1.gguf (94 MiB, over the device tool's
#     64 MiB per call) into parts of at most --part_mib MiB (default 40) plus a .sha256,
#     in models/ (git-ignored). run.sh joins and checks them there.
# Then it prints the device-tool calls that bring everything over (bench/gpu/README.md).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PART_MIB=40
while [[ $# -gt 0 ]]; do
  case "$1" in
    --part_mib) PART_MIB=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "prepare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
MULTIARCH=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
LIB=/usr/lib/$MULTIARCH
PREFIX=$ROOT/build-gpudeps/prefix

echo "== packing dependencies into ${PREFIX#"$ROOT"/}"
rm -rf "$ROOT/build-gpudeps"
mkdir -p "$PREFIX/include" "$PREFIX/lib/$MULTIARCH/cmake" "$PREFIX/share/cmake"
need() { [[ -e "$1" ]] || { echo "prepare.sh: $1 is missing on this machine" >&2; exit 1; }; }
for d in absl gtest gmock benchmark nlohmann; do
  need "/usr/include/$d"; cp -a "/usr/include/$d" "$PREFIX/include/"
done
for h in zlib.h zconf.h; do need "/usr/include/$h"; cp -a "/usr/include/$h" "$PREFIX/include/"; done
for d in absl GTest benchmark; do
  need "$LIB/cmake/$d"; cp -a "$LIB/cmake/$d" "$PREFIX/lib/$MULTIARCH/cmake/"
done
need /usr/share/cmake/nlohmann_json
cp -a /usr/share/cmake/nlohmann_json "$PREFIX/share/cmake/"
# Shared libraries with their links, static archives the CMake files name.
cp -a "$LIB"/libabsl_*.so* "$LIB"/libbenchmark*.so* "$LIB"/libbenchmark_main.a \
      "$LIB"/libgtest*.a "$LIB"/libgmock*.a "$LIB"/libz.so* "$PREFIX/lib/$MULTIARCH/"
# A copy of the libraries under prefix/lib too, for FindZLIB and plain -L searches.
ln -s "$MULTIARCH/libz.so" "$PREFIX/lib/libz.so"
du -sh "$ROOT/build-gpudeps"

if [[ -f "$ROOT/$MODEL" ]]; then
  echo "== splitting $MODEL into parts of ${PART_MIB} MiB"
  rm -f "$ROOT/$MODEL".part-* "$ROOT/$MODEL.sha256"
  (cd "$ROOT/models" && split -d -b "${PART_MIB}M" "$(basename "$MODEL")" "$(basename "$MODEL").part-" &&
     sha256sum "$(basename "$MODEL")" > "$(basename "$MODEL").sha256")
  ls -l "$ROOT/$MODEL".part-* "$ROOT/$MODEL.sha256"
else
  echo "== $MODEL is not here (scripts/setup.sh fetches it): serving figures will be n/a"
fi

tree_bytes=$(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
             xargs -0 du -bc 2>/dev/null | awk 'END {print $1}')
deps_bytes=$(du -sb "$ROOT/build-gpudeps" | cut -f1)
echo "== sizes: working tree $((tree_bytes >> 20)) MiB, build-gpudeps $((deps_bytes >> 20)) MiB" \
     "(the device tool takes 64 MiB per call, tree and carry together)"
parts=()
for p in "$ROOT/$MODEL".part-*; do [[ -e "$p" ]] && parts+=("${p#"$ROOT"/}"); done
echo "== device-tool calls (each within 30 s of the last, while the machine is warm):"
n=${#parts[@]}
if (( n == 0 )); then
  echo "  run carry=[\"build-gpudeps\"] command=\"bash bench/gpu/run.sh\" timeout_s=600"
else
  for ((i = 0; i < n - 1; i++)); do
    extra=""; (( i == 0 )) && extra=", \"$MODEL.sha256\""
    echo "  run carry=[\"${parts[i]}\"$extra] command=\"ls -l models\" timeout_s=60"
  done
  extra=""; (( n == 1 )) && extra=", \"$MODEL.sha256\""
  echo "  run carry=[\"build-gpudeps\", \"${parts[n-1]}\"$extra] command=\"bash bench/gpu/run.sh\" timeout_s=600"
fi
