#!/usr/bin/env bash
# bench/gpu/run.sh: the CUDA backend's verification and benchmark, one command on a GPU
# machine (bench/gpu/README.md says how to get it there through the device tool).
#
#   bench/gpu/run.sh [--out DIR] [--budget SECONDS] [--build-dir DIR] [--no-build] [--jobs N]
#
#   --out DIR        results (default $OUT when set, else bench/results/gpu)
#   --budget S       wall-clock seconds for the whole script (default 570); each step is
#                    cut to what is left, later steps are skipped when it runs out
#   --build-dir DIR  build tree (default build-gpu, configured afresh)
#   --no-build       use DIR as it is (a build with -DHEARTH_CUDA=ON and the benchmarks)
#   --jobs N         build jobs (default: all cores)
#
# Steps: versions; the model (joined from models/*.part-* if prepare.sh split it);
# configure (CUDA on, sm_90, Release, tests and benchmarks); build; ctest -L gpu;
# ctest -L cuda_host; bench_cuda_kernels; bench_serving on SmolLM2 (CUDA at concurrency
# 1, 64, 256; CPU at 1); compute-sanitizer memcheck on the GPU test binaries; a Markdown
# summary. A failed step is recorded and the next ones run where they can; the exit
# status is 1 if any step failed (no GPU counts as a failure), else 0.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

OUT_DIR=${OUT:-$ROOT/bench/results/gpu}
BUDGET=570
BUILD_DIR=build-gpu
DO_BUILD=1
JOBS=$(nproc 2>/dev/null || echo 4)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT_DIR=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --no-build) DO_BUILD=0; shift ;;
    --jobs) JOBS=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
[[ "$BUILD_DIR" = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# At most 8 files come back from the device tool's $OUT: these are all.
LOG=$OUT_DIR/run.log                 # everything this script prints
BUILD_LOG=$OUT_DIR/build.log         # configure and build
TESTS_LOG=$OUT_DIR/tests.log         # ctest runs
SANITIZER_LOG=$OUT_DIR/sanitizer.log # compute-sanitizer runs
KERNELS_JSON=$OUT_DIR/kernels.json   # bench_cuda_kernels, Google Benchmark JSON
SERVING_JSONL=$OUT_DIR/serving.jsonl # one bench_serving object per line, with "label"
STEPS=$OUT_DIR/steps.tsv             # step <TAB> ok|FAILED|skipped <TAB> detail
SUMMARY=$OUT_DIR/summary.md          # the final table
: >"$LOG"; : >"$BUILD_LOG"; : >"$TESTS_LOG"; : >"$SANITIZER_LOG"; : >"$SERVING_JSONL"; : >"$STEPS"
rm -f "$KERNELS_JSON" "$SUMMARY"
exec > >(tee -a "$LOG") 2>&1
TEE_PID=$!
# At exit: close the pipe to tee and let it write the last lines before the script ends.
trap 'rm -rf "$WORK"; exec >&- 2>&-; wait "$TEE_PID" 2>/dev/null || true' EXIT

START=$SECONDS
FAILED=0
banner() { printf '\n==== [%4ds] %s ====\n' "$((SECONDS - START))" "$*"; }
record() {  # record STEP STATUS DETAIL
  printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$STEPS"
  printf -- '---- %s: %s%s\n' "$1" "$2" "${3:+ ($3)}"
  if [[ "$2" == FAILED ]]; then FAILED=1; fi
  return 0
}
remaining() { echo $((BUDGET - (SECONDS - START))); }
# limit CAP: seconds a step may take, CAP or what the budget leaves (15 s kept for the
# summary); 0 when too little is left to start.
limit() {
  local left=$(( $(remaining) - 15 ))
  if (( left < 10 )); then echo 0; elif (( left < $1 )); then echo "$left"; else echo "$1"; fi
}
# run_step NAME CAP LOGFILE CMD...: runs CMD under a time limit, output to the terminal
# and LOGFILE; records ok / FAILED (exit status, or timeout) / skipped (no time left).
run_step() {
  local name=$1 cap=$2 logfile=$3; shift 3
  local t; t=$(limit "$cap")
  if (( t == 0 )); then record "$name" skipped "time budget spent"; return 1; fi
  local rc=0
  set +e
  timeout --kill-after=10 "$t" "$@" 2>&1 | tee -a "$logfile"
  rc=${PIPESTATUS[0]}
  set -e
  if (( rc == 0 )); then record "$name" ok; return 0; fi
  if (( rc == 124 || rc == 137 )); then record "$name" FAILED "timed out after ${t}s"
  else record "$name" FAILED "exit $rc"; fi
  return 1
}

banner "hearth GPU verification and benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(hostname)"
echo "root $ROOT; out $OUT_DIR; build $BUILD_DIR; budget ${BUDGET}s; jobs $JOBS"
echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"

# ---- a. versions -----------------------------------------------------------------------
banner "a. GPU, driver and toolkit"
HAVE_GPU=0
GPU_NAME="n/a"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >"$WORK/smi.txt" 2>&1; then
  cat "$WORK/smi.txt"
  GPU_NAME=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null |
             head -n1 || echo "unknown")
  if nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then HAVE_GPU=1; fi
else
  [[ -f "$WORK/smi.txt" ]] && cat "$WORK/smi.txt"
fi
if (( HAVE_GPU )); then
  record gpu ok "$GPU_NAME"
else
  echo "NO GPU: nvidia-smi is missing or lists no device. The build and the host-only tests"
  echo "still run; every GPU figure below is n/a and the script exits 1."
  record gpu FAILED "no GPU (nvidia-smi missing or no device)"
fi
if ! command -v nvcc >/dev/null 2>&1; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    if [[ -x "$d/nvcc" ]]; then export PATH=$d:$PATH; break; fi
  done
fi
NVCC_VERSION=n/a
if command -v nvcc >/dev/null 2>&1; then
  nvcc --version
  NVCC_VERSION=$(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p' | head -n1)
  export CUDACXX=${CUDACXX:-$(command -v nvcc)}
else
  echo "nvcc not found (PATH, /usr/local/cuda/bin)"
fi
for tool in cmake ninja c++ python3 compute-sanitizer; do
  printf '%-18s %s\n' "$tool" "$(command -v "$tool" 2>/dev/null || echo 'not found')"
done
cmake --version 2>/dev/null | head -n1 || true

# ---- b. what must already be here: dependencies and the model ----------------------
banner "b. dependencies and model (nothing is downloaded: the GPU machine has no network)"
DEPS=$ROOT/build-gpudeps/prefix
CMAKE_DEP_ARGS=()
if [[ -d "$DEPS" ]]; then
  echo "using the dependencies carried in ${DEPS#"$ROOT"/} (bench/gpu/prepare.sh)"
  MA=x86_64-linux-gnu
  for d in "$DEPS"/lib/*-linux-gnu; do [[ -d "$d" ]] && MA=$(basename "$d"); done
  CMAKE_DEP_ARGS=("-DCMAKE_PREFIX_PATH=$DEPS"
                  "-Dabsl_DIR=$DEPS/lib/$MA/cmake/absl"
                  "-DGTest_DIR=$DEPS/lib/$MA/cmake/GTest"
                  "-Dbenchmark_DIR=$DEPS/lib/$MA/cmake/benchmark"
                  "-Dnlohmann_json_DIR=$DEPS/share/cmake/nlohmann_json"
                  "-DZLIB_INCLUDE_DIR=$DEPS/include"
                  "-DZLIB_LIBRARY=$DEPS/lib/$MA/libz.so")
  export LD_LIBRARY_PATH=$DEPS/lib/$MA${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  echo "no build-gpudeps/: Abseil, GoogleTest, Google Benchmark, nlohmann_json and zlib must be"
  echo "installed system-wide (if configure fails below, run bench/gpu/prepare.sh on the"
  echo "development machine and carry build-gpudeps)"
fi
MODEL=$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf
HAVE_MODEL=0
if [[ ! -f "$MODEL" ]] && compgen -G "$MODEL.part-*" >/dev/null; then
  echo "joining $(compgen -G "$MODEL.part-*" | wc -l) parts of ${MODEL#"$ROOT"/}:"
  ls -l "$MODEL".part-*
  cat "$MODEL".part-* >"$MODEL.joining"
  if [[ -f "$MODEL.sha256" ]] &&
     (cd "$(dirname "$MODEL")" && sed 's/$/.joining/' "$MODEL.sha256" | sha256sum --check --status); then
    mv "$MODEL.joining" "$MODEL"
    echo "joined; sha256 matches $(cut -c1-16 "$MODEL.sha256")..."
  else
    rm -f "$MODEL.joining"
    echo "the parts do not make the model (a part missing, or no .sha256 to check them by)"
  fi
fi
if [[ -f "$MODEL" ]]; then
  HAVE_MODEL=1
  record model ok "$(du -h "$MODEL" | cut -f1) ${MODEL#"$ROOT"/}"
else
  echo "${MODEL#"$ROOT"/} is not on this machine: the serving figures and the SmolLM2 GPU test"
  echo "will be n/a/skipped. It is 94 MiB, over the device tool's 64 MiB per call: see"
  echo "bench/gpu/README.md (bench/gpu/prepare.sh splits it; carry the parts)."
  record model FAILED "models/SmolLM2-135M-Instruct.Q4_1.gguf missing"
fi

# ---- c. configure and build ------------------------------------------------------------
BUILT=0
if (( DO_BUILD )); then
  banner "c. configure and build (fresh ${BUILD_DIR#"$ROOT"/}, CUDA on, sm_90, Release, -j$JOBS)"
  rm -rf "$BUILD_DIR"
  GEN=()
  if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
  if run_step configure 150 "$BUILD_LOG" cmake -S "$ROOT" -B "$BUILD_DIR" "${GEN[@]}" \
       -DHEARTH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_BUILD_TYPE=Release \
       -DHEARTH_BUILD_TESTS=ON -DHEARTH_BUILD_BENCH=ON -DHEARTH_BUILD_EXAMPLES=OFF \
       "${CMAKE_DEP_ARGS[@]}"; then
    # The targets the steps below use (the whole project would cost minutes more).
    if run_step build 360 "$BUILD_LOG" cmake --build "$BUILD_DIR" -j "$JOBS" --target \
         cuda_test cuda_matmul_q_test cuda_ops_test cuda_attention_test cuda_backend_test \
         cuda_backend_gpu_test bench_cuda_kernels bench_serving; then
      BUILT=1
    else
      echo "build failed: the last lines of ${BUILD_LOG#"$ROOT"/}:"; tail -n 40 "$BUILD_LOG"
    fi
  else
    echo "configure failed: see above (missing dependencies? bench/gpu/prepare.sh)"
    record build skipped "configure failed"
  fi
else
  banner "c. build: --no-build, using ${BUILD_DIR#"$ROOT"/} as it is"
  if [[ -x "$BUILD_DIR/bench/bench_serving" ]]; then BUILT=1; record build ok "reused"
  else record build FAILED "no bench/bench_serving in ${BUILD_DIR#"$ROOT"/}"; fi
fi

# ---- d. tests --------------------------------------------------------------------------
banner "d. ctest -L gpu, then ctest -L cuda_host"
if (( BUILT )); then
  (( HAVE_GPU )) || echo "(no GPU: the gpu-labelled tests skip themselves)"
  run_step "ctest gpu" 180 "$TESTS_LOG" \
    ctest --test-dir "$BUILD_DIR" -L gpu --output-on-failure -j 8 || true
  grep -E 'tests passed|Skipped|\*\*\*Skipped' "$TESTS_LOG" | tail -n 3 || true
  run_step "ctest cuda_host" 90 "$TESTS_LOG" \
    ctest --test-dir "$BUILD_DIR" -L cuda_host --output-on-failure -j 8 || true
else
  record "ctest gpu" skipped "no build"; record "ctest cuda_host" skipped "no build"
fi

# ---- f. kernel benchmarks --------------------------------------------------------------
banner "f. bench_cuda_kernels (CUDA events; GB/s against a device-to-device copy)"
if (( BUILT && HAVE_GPU )); then
  run_step bench_cuda_kernels 150 "$WORK/kernels.txt" "$BUILD_DIR/bench/bench_cuda_kernels" \
    --benchmark_out="$KERNELS_JSON" --benchmark_out_format=json || true
elif (( BUILT )); then
  "$BUILD_DIR/bench/bench_cuda_kernels" || true  # prints why it measures nothing
  record bench_cuda_kernels skipped "no GPU"
else
  record bench_cuda_kernels skipped "no build"
fi

# ---- g. serving ------------------------------------------------------------------------
banner "g. bench_serving on SmolLM2-135M Q4_1 (closed loop, greedy, EOS ignored)"
# SmolLM2-135M keeps 30 layers x (K + V) x 3 kv heads x 64 x 4 bytes = 46,080 bytes of KV
# per token; every request here stays under 512 tokens (prompt <= ~200 + output <= 256).
KV_TOKEN_BYTES=46080
serve() {  # serve LABEL BACKEND CONCURRENCY REQUESTS MAX_TOKENS MAX_SEQUENCES BATCH_TOKENS CAP
  local label=$1 backend=$2 conc=$3 reqs=$4 toks=$5 seqs=$6 batch=$7 cap=$8
  local kv=$((seqs * 512 * KV_TOKEN_BYTES))
  echo "-- $label: --backend $backend --concurrency $conc --requests $reqs --max_tokens $toks" \
       "--max_sequences $seqs --max_batch_tokens $batch --kv_cache_bytes $kv"
  if run_step "serving $label" "$cap" "$WORK/serving.txt" "$BUILD_DIR/bench/bench_serving" \
       --model "$MODEL" --prompts "$ROOT/bench/serving_prompts.jsonl" --backend "$backend" \
       --device 0 --mode closed --concurrency "$conc" --requests "$reqs" --max_tokens "$toks" \
       --max_sequences "$seqs" --max_batch_tokens "$batch" --kv_cache_bytes "$kv" \
       --threads "$JOBS" --json_out "$WORK/$label.json"; then
    if command -v python3 >/dev/null 2>&1; then
      python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); o["label"]=sys.argv[2]; print(json.dumps(o))' \
        "$WORK/$label.json" "$label" >>"$SERVING_JSONL" || true
    else
      sed "s/^{/{\"label\": \"$label\", /" "$WORK/$label.json" >>"$SERVING_JSONL"
    fi
  fi
  return 0
}
if (( BUILT && HAVE_MODEL )); then
  if (( HAVE_GPU )); then
    serve gpu_c1 cuda 1 8 256 4 256 90
    serve gpu_c64 cuda 64 128 128 64 512 90
    serve gpu_c256 cuda 256 512 128 256 1024 120
  else
    for l in gpu_c1 gpu_c64 gpu_c256; do record "serving $l" skipped "no GPU"; done
  fi
  serve cpu_c1 cpu 1 4 128 4 256 90
else
  why="no build"; (( BUILT )) && why="no model"
  for l in gpu_c1 gpu_c64 gpu_c256 cpu_c1; do record "serving $l" skipped "$why"; done
fi

# ---- e. compute-sanitizer (after the timings, so that a slow run cannot hide them) --------
banner "e. compute-sanitizer memcheck on the GPU test binaries"
SANITIZER=$(command -v compute-sanitizer 2>/dev/null || true)
if [[ -z "$SANITIZER" && -n "${CUDACXX:-}" && -x "$(dirname "$CUDACXX")/compute-sanitizer" ]]; then
  SANITIZER=$(dirname "$CUDACXX")/compute-sanitizer
fi
SANITIZER_BINS=(cuda_test cuda_matmul_q_test cuda_ops_test cuda_attention_test cuda_backend_gpu_test)
if [[ -z "$SANITIZER" ]]; then
  echo "compute-sanitizer not found"
  for b in "${SANITIZER_BINS[@]}"; do record "memcheck $b" skipped "no compute-sanitizer"; done
elif (( ! BUILT || ! HAVE_GPU )); then
  for b in "${SANITIZER_BINS[@]}"; do
    record "memcheck $b" skipped "$( (( BUILT )) && echo 'no GPU' || echo 'no build')"
  done
else
  for b in "${SANITIZER_BINS[@]}"; do
    cap=75; [[ $b == cuda_backend_gpu_test ]] && cap=120
    echo "-- $b"
    run_step "memcheck $b" "$cap" "$SANITIZER_LOG" "$SANITIZER" --tool memcheck \
      --error-exitcode 86 --print-limit 20 "$BUILD_DIR/tests/cuda/$b" --gtest_brief=1 || true
    tail -n 2 "$SANITIZER_LOG" | grep -E 'ERROR SUMMARY' || true
  done
fi

# ---- h. summary ------------------------------------------------------------------------
banner "h. summary (${SUMMARY#"$ROOT"/})"
if command -v python3 >/dev/null 2>&1; then
  python3 "$ROOT/bench/gpu/summarize.py" --steps "$STEPS" --kernels "$KERNELS_JSON" \
    --serving "$SERVING_JSONL" --gpu "$GPU_NAME" --nvcc "$NVCC_VERSION" \
    --elapsed "$((SECONDS - START))" --out "$SUMMARY" || {
      echo "summarize.py failed; the raw step list:"; cat "$STEPS"; FAILED=1; }
else
  echo "python3 not found: no table; the step list:"; tee "$SUMMARY" <"$STEPS"
fi
echo
echo "raw outputs in $OUT_DIR:"; ls -l "$OUT_DIR"
if (( FAILED )); then
  echo "RESULT: FAILED steps: $(awk -F'\t' '$2 == "FAILED" {printf "%s; ", $1}' "$STEPS")"
  exit 1
fi
echo "RESULT: every step passed"
