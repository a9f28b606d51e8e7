#!/usr/bin/env bash
# HTTP front-end throughput of `hearth serve` with wrk (Debian package `wrk`): GET /healthz
# (the cheapest answer: what the HTTP layer itself costs) and GET /metrics (the page
# Prometheus scrapes, rendered from the pool, the Engines and the AutoScaler). No model is
# loaded (--min-warm=0 and no completion request), so generation does not compete.
#   bench/serve_wrk.sh [SECONDS=10] [CONNECTIONS=32]
# Env: HEARTH_BIN (default build/examples/cli/hearth), HEARTH_MODEL (default the SmolLM2
# model in models/), WRK_THREADS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
hearth=${HEARTH_BIN:-build/examples/cli/hearth}
model=${HEARTH_MODEL:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
command -v wrk >/dev/null || { echo "serve_wrk: install wrk (apt-get install wrk)" >&2; exit 1; }

out=$(mktemp)
"$hearth" serve --port 0 --model "smollm2=$model" --threads 1 >"$out" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -f "$out"' EXIT
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^hearth serve: listening on \(http:[^ ]*\)$/\1/p' "$out")
  [ -n "$url" ] && break
  kill -0 "$server" || { echo "serve_wrk: hearth serve exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "serve_wrk: hearth serve did not start" >&2; exit 1; }

echo "hearth serve at $url; wrk -t${WRK_THREADS:-2} -c$connections -d${seconds}s; $(nproc) cores"
for path in /healthz /metrics; do
  echo "== GET $path"
  wrk -t"${WRK_THREADS:-2}" -c"$connections" -d"${seconds}s" --latency "$url$path" |
    grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors'
done
