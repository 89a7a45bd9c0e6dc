#!/usr/bin/env bash
# The served model, side by side: a generated level-4 application and a bare FastAPI endpoint
# (benches/serve/bare.py) on the same champion model, each under uvicorn with one worker, loaded in
# turn by wrk (1 thread, 8 connections, 10 s, loopback) with the same one-row request, offline.
# Prints each run, the medians of both sides and their ratios; exits 1 when the application serves
# under 0.8x the bare endpoint's requests per second or its p99 latency is over 1.25x
# (benches/serve/measure.py).
#
# Usage: benches/serve.sh [--rounds N] [--seconds S]
# Needs wrk, and the level-4 environment that tests/e2e/run.sh synchronises (SERVE_BENCH_ENV to
# use another); MLOPS_BIN names the binary (default: a release build).
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"
environment=${SERVE_BENCH_ENV:-$envs/level-4-classification}
if [[ ! -x $environment/bin/python ]]; then
    echo "error: no environment at $environment: run \`tests/e2e/run.sh 4\` once, or set SERVE_BENCH_ENV" >&2
    exit 2
fi
if ! command -v wrk >/dev/null; then
    echo "error: wrk is not installed (apt-get install wrk)" >&2
    exit 2
fi
if [[ -z ${MLOPS_BIN:-} ]]; then
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
    mlops=${CARGO_TARGET_DIR:-$repo/target}/release/mlops
else
    mlops=$MLOPS_BIN
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
project=$work/demo
log "a level-4 project, and its champion model trained offline"
"$mlops" new "$project" --level 4 --no-input --no-git --set package_name=demo >/dev/null
in_dir "$project" offline env PYTHONPATH=src make -s PYTHON="$environment/bin/python" train >"$work/train.log" 2>&1 \
    || { cat "$work/train.log" >&2; exit 1; }

log "the generated application against the bare endpoint"
offline "$environment/bin/python" "$repo/benches/serve/measure.py" --project "$project" \
    --python "$environment/bin/python" --package demo "$@"
