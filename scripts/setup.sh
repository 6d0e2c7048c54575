#!/usr/bin/env bash
# Create .venv and install ScaleBoard into it.
#   scripts/setup.sh            runner + generator (what `make demo` needs)
#   scripts/setup.sh dev        ... plus Ray, the test tools and Debian's chromium for browser tests
# Where there is no NVIDIA GPU, torch==2.13.0 goes in first: that is a CPU build, and it
# stops pip from resolving `torch>=2.4` to a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="runner"
[ "${1:-}" = "dev" ] && extras="runner,dev,ray"

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }

if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        echo "setup: NVIDIA GPU found; installing torch with CUDA"
        pip install "torch>=2.4"
    else
        echo "setup: no CUDA; installing torch==2.13.0 (CPU build)"
        pip install "torch==2.13.0"
    fi
fi
echo "setup: installing scaleboard[$extras]"
pip install -e ".[$extras]"

if [ "${1:-}" = "dev" ] && ! command -v chromium >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium for the browser tests"
    SUDO=""; [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
    if command -v apt-get >/dev/null 2>&1; then
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    else
        echo "setup: no apt-get here: browser tests will be skipped" >&2
    fi
fi
echo "setup: done (.venv)"
