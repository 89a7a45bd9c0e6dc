#!/usr/bin/env bash
# The upgrade scenario, end to end: `tests/it/scenario.rs` generates a level-1 project, applies
# six weeks of a team's edits, takes it to level 4 with `mlops upgrade --to 4`, keeping both sides
# of every conflict, and copies the result here (MLOPS_SCENARIO_OUT); this script then runs ruff
# and the project's own tests on it, with the network cut off, as a team would after resolving.
#
# Usage: tests/e2e/upgrade-scenario.sh. Tools and the environment are cached under $MLOPS_CACHE
# (default ~/.cache/mlops-scaffold): the tools of run.sh, and venvs/upgrade-scenario.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${MLOPS_CACHE:-$HOME/.cache/mlops-scaffold}
tools=$cache/tools
export UV_CACHE_DIR=$cache/uv
export UV_PYTHON_DOWNLOADS=never

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Runs a command with no network but loopback, as run.sh does.
offline() {
    if unshare -n true 2>/dev/null; then
        unshare -n sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' offline "$@"
    else
        echo "note: cannot unshare the network here; cutting it off through proxy variables" >&2
        HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
            http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1,localhost "$@"
    fi
}

if [[ ! -x $tools/bin/uv || ! -x $tools/bin/ruff ]]; then
    log "installing uv and ruff into $tools"
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet --disable-pip-version-check "uv>=0.9,<1" "ruff>=0.17,<0.18"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
project=$work/demo

log "the scenario: a level-1 project, six weeks of edits, mlops upgrade --to 4, both sides kept"
MLOPS_SCENARIO_OUT=$project cargo test --quiet --manifest-path "$repo/Cargo.toml" --test it -- \
    --exact scenario::six_weeks_of_team_edits_then_up_to_level_4
if [[ ! -f $project/.mlops/manifest.toml ]]; then
    echo "the scenario wrote no project: does this build have level 4?" >&2
    exit 1
fi

venv=$cache/venvs/upgrade-scenario
log "install into $venv"
[[ -x $venv/bin/python ]] || "$tools/bin/uv" venv --quiet --python python3.11 "$venv"
VIRTUAL_ENV=$venv "$tools/bin/uv" pip install --quiet -e "$project[dev]"

log "ruff"
(cd "$project" && "$tools/bin/ruff" check . && "$tools/bin/ruff" format --check .)

log "the project's own tests, offline"
(cd "$project" && offline env PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv" MLFLOW_DISABLE_TELEMETRY=true \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider)

log "upgrade scenario passed"
