#!/usr/bin/env bash
# Sets up, builds and runs every test hearth has: warnings as errors, ctest, pytest, the
# Python package installed by pip into a clean virtual environment and its pytest suite,
# the installed-package consumer, an AddressSanitizer + UndefinedBehaviorSanitizer build of
# the unit tests, a ThreadSanitizer build of the tests labelled `concurrency`, and a
# bounded libFuzzer run. CI runs exactly this.
#   FUZZ_SECONDS=60 (default) bounds the fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)
fuzz_seconds=${FUZZ_SECONDS:-60}

echo "== release build (warnings are errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHEARTH_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== pytest"
python3 -m pytest -q tests/python

echo "== pip install . into a clean virtual environment, then the package's tests"
rm -rf build/venv
python3 -m venv build/venv
CMAKE_BUILD_PARALLEL_LEVEL="$jobs" build/venv/bin/pip install -q --disable-pip-version-check . pytest mypy
build/venv/bin/python -m pytest -q tests/python_package
# The type stubs against the compiled module: every name, signature and attribute.
build/venv/bin/python -m mypy.stubtest hearth._hearth --allowlist python/stubtest-allowlist.txt

echo "== find_package(hearth) from an installed tree"
cmake --install build --prefix build/install >/dev/null
cmake -S tests/consumer -B build/consumer -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
cmake --build build/consumer -j "$jobs"
build/consumer/consumer tests/data/models/stories260K.gguf

echo "== AddressSanitizer + UndefinedBehaviorSanitizer (clang)"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHEARTH_SANITIZE=address,undefined -DHEARTH_WERROR=ON -DHEARTH_CUDA=OFF \
  -DHEARTH_BUILD_BENCH=OFF -DHEARTH_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

# Everything is built (tests not labelled too): simpler than tracking which targets carry
# the label, and a test gains it without touching this script.
echo "== ThreadSanitizer (clang): concurrency tests"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHEARTH_SANITIZE=thread -DHEARTH_WERROR=ON -DHEARTH_CUDA=OFF \
  -DHEARTH_BUILD_BENCH=OFF -DHEARTH_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-tsan -j "$jobs"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan -L concurrency --output-on-failure -j "$jobs"

echo "== libFuzzer: GGUF reader, .hearth snapshots, the control plane's text inputs, ${fuzz_seconds}s each"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHEARTH_FUZZ=ON -DHEARTH_CUDA=OFF -DHEARTH_BUILD_TESTS=OFF -DHEARTH_BUILD_BENCH=OFF \
  -DHEARTH_BUILD_EXAMPLES=OFF -DHEARTH_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
cmake --build build-fuzz -j "$jobs" --target gguf_fuzz snapshot_fuzz control_fuzz
mkdir -p build-fuzz/corpus build-fuzz/snapshot_corpus build-fuzz/control_corpus
build-fuzz/tests/fuzz/gguf_fuzz -max_total_time="$fuzz_seconds" -max_len=65536 \
  -dict=tests/fuzz/gguf.dict build-fuzz/corpus tests/fuzz/seeds
build-fuzz/tests/fuzz/snapshot_fuzz -max_total_time="$fuzz_seconds" -max_len=65536 \
  build-fuzz/snapshot_corpus tests/fuzz/snapshot_seeds
build-fuzz/tests/fuzz/control_fuzz -max_total_time="$fuzz_seconds" -max_len=16384 \
  build-fuzz/control_corpus tests/fuzz/control_seeds
echo "== all tests passed"
