#!/usr/bin/env bash
# End-to-end suite: generate a project per case with the real binary, synchronise a cached virtual
# environment with exactly its dependencies, lint what CI would run (every workflow against
# GitHub's schema, every Dockerfile with hadolint), run the level's unit tests and its proof
# (tests/e2e/proofs/level-N.sh) with the network cut off, and, for the classification task (the
# workflows are the same for both tasks), run every job of every generated workflow with act,
# offline too (tests/e2e/act/, described in tests/e2e/README.md). A case of another CI provider
# runs its pipelines instead: GitLab's with gitlab-ci-local (tests/e2e/gitlab/), Azure's through
# the suite's runner of Azure Pipelines (tests/e2e/azure/), after their schema checks.
#
# Usage: tests/e2e/run.sh [--full] [--jobs N] [CASE...]   where CASE is LEVEL, LEVEL-TASK,
# LEVEL-PROVIDER or LEVEL-TASK-PROVIDER, with `ray` as a part for a Ray project, e.g. `2`,
# `2-regression`, `4-gitlab`, `4-ray`, or `upgrade-scenario`, `hostile-answers` or `mutations`.
# Without cases it runs the default ones below; `--full` adds the ones the default leaves out.
# `--jobs N` (or MLOPS_E2E_JOBS) runs N cases at a time, each with a log of its own printed when
# it ends (default 1: one case at a time, its output as it comes). Tools and environments are
# cached under $MLOPS_CACHE (default ~/.cache/mlops-scaffold) so that later runs reuse them.
#
# Offline means in a network namespace of its own (`unshare -n`), loopback only. Where that is not
# allowed the suite stops, unless MLOPS_E2E_ALLOW_PROXY_OFFLINE=1 lets it cut the network through
# proxy variables instead, which only the clients that read them obey.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
# Three cases besides the levels, which use the levels' environments: the upgrade scenario, a
# project made of hostile answers, and the mutation checks of the generated tests
# (tests/e2e/mutations.sh: each break of a feature must fail the project's own tests). GitLab's
# and Azure's cases run every pipeline of their level: level 1 takes a minute or two, level 4
# ten to twenty. The default set, what .ci/run runs, must fit in its 45 minutes on a 2-core
# machine: every GitHub level for classification (act runs every workflow), levels 0, 1 and 4
# for regression, levels 1 and 4 of GitLab and Azure, level 4 with Ray; --full adds the other
# levels of each. The order is the order cases start in, the longest first, so that the lanes of
# --jobs end together (tests/e2e/README.md, "What it costs").
all_cases=(4-gitlab 3 4-azure 4 4-ray 2 4-regression 1 1-regression 1-gitlab 1-azure
    upgrade-scenario 0 0-regression hostile-answers mutations)
full_cases=(2-ray 2-regression 3-regression 2-gitlab 3-gitlab 2-azure 3-azure)
# What each step took, one line each, for the summary at the end (cases may run in parallel).
timings=$(mktemp)

# Runs a command and notes how long it took.
timed() {
    local what=$1 started=$SECONDS
    shift
    "$@"
    printf '%5d s  %s\n' $((SECONDS - started)) "$what" >>"$timings"
}

ensure_tools() {
    if [[ ! -f $tools/.complete ]]; then
        log "installing ${tool_pins[*]} into $tools"
        rm -rf "$tools"
        python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet --disable-pip-version-check "${tool_pins[@]}"
        npm install --silent --no-audit --no-fund --prefix "$tools/node" "${npm_pins[@]}"
        touch "$tools/.complete"
    fi
    # gitlab-ci-local 4.62.0 prepares a job's directory again before its after_script: with
    # --shell-isolation it copies the tracked files over it (with --delete), then the cache and
    # the artifacts of the jobs it needs, so what the script wrote is gone or overwritten, and
    # with it the job's artifacts. GitLab's runner runs after_script in the directory as the
    # script left it; so does gitlab-ci-local once it prepares the directory before the script
    # only (execScripts' `message` is empty for the script, not for after_script).
    local job_js=$tools/node/node_modules/gitlab-ci-local/src/job.js
    sed -i -e 's/^\( *\)await Utils.rsyncTrackedFiles(cwd, stateDir,/\1if (message.length === 0) await Utils.rsyncTrackedFiles(cwd, stateDir,/' \
        -e 's/^\( *\)await this.copyCacheIn(writeStreams, expanded);/\1if (message.length === 0) await this.copyCacheIn(writeStreams, expanded);/' \
        -e 's/^\( *\)await this.copyArtifactsIn(writeStreams);/\1if (message.length === 0) await this.copyArtifactsIn(writeStreams);/' \
        "$job_js"
    if [[ $(grep -c '^ *if (message.length === 0) await ' "$job_js") != 3 ]]; then
        echo "error: gitlab-ci-local's preparation of after_script is not patched in $job_js" >&2
        return 1
    fi
    # gitlab-ci-local 4.62.0 starts a job once every job before it (or that it needs) has
    # finished, and a job skipped because an earlier one failed never finishes there: so a
    # `when: on_failure` job that needs a chain whose first job failed never starts, where GitLab
    # runs it (skipped jobs count as done). Patched: a job that has not started and never will
    # (it runs on success or by hand, and a job before it failed) no longer holds up the others.
    local executor_js=$tools/node/node_modules/gitlab-ci-local/src/executor.js
    sed -i 's/^\( *\)if (Executor.isNotFinished(jobsToWaitFor)) {$/\1if (Executor.isNotFinished(jobsToWaitFor.filter(j => j.started || !["on_success", "manual"].includes(j.when) || !Executor.isPastFailed(Executor.getPastToWaitFor(jobs, stages, j, manuals))))) {/' \
        "$executor_js"
    if [[ $(grep -c 'isNotFinished(jobsToWaitFor.filter(j => j.started ||' "$executor_js") != 1 ]]; then
        echo "error: gitlab-ci-local's wait for skipped jobs is not patched in $executor_js" >&2
        return 1
    fi
    # gitlab-ci-local copies each job's files with rsync.
    if ! command -v rsync >/dev/null; then
        log "installing rsync (apt)"
        apt-get install --yes --quiet rsync >/dev/null || {
            apt-get update --quiet >/dev/null && apt-get install --yes --quiet rsync >/dev/null
        }
    fi
}

# The wheels of what the workflows install with pip themselves, outside `make install` (the act
# runs are offline): downloaded once per set of requirements.
ensure_wheelhouse() {
    local specs directory
    specs=$("$tools/bin/python" "$repo/tests/e2e/act/workflows.py" pip-specs "$1")
    directory=$cache/wheelhouse/$(printf '%s' "$specs" | sha256sum | cut -c1-12)
    if [[ ! -f $directory/.complete ]]; then
        mkdir -p "$directory"
        if [[ -n $specs ]]; then
            # shellcheck disable=SC2086 # one requirement a line, none with spaces
            (IFS=$'\n'; "$tools/bin/pip" download --quiet --disable-pip-version-check \
                --only-binary=:all: --dest "$directory" $specs)
        fi
        touch "$directory/.complete"
    fi
    echo "$directory"
}

run_case() {
    local case=$1 level=${1%%-*} task=classification provider=github compute=local part
    local -a parts
    IFS=- read -r -a parts <<<"${case#*-}"
    [[ $case == *-* ]] || parts=()
    for part in "${parts[@]}"; do
        case $part in
        classification | regression) task=$part ;;
        github | gitlab | azure) provider=$part ;;
        ray) compute=$part ;;
        *) echo "error: \`$case\`: \`$part\` is neither a task, a CI provider nor a compute engine" >&2 && return 2 ;;
        esac
    done
    if [[ $compute == ray && ($provider != github || $level -lt 2) ]]; then
        echo "error: \`$case\`: the ray cases are GitHub's, from level 2" >&2 && return 2
    fi
    local work project venv
    work=$(mktemp -d)
    project=$work/demo
    # The pipelines install the project into the case's environment: one per provider, and one
    # for Ray's, which no other case should carry.
    venv=$envs/level-$level-$task
    [[ $provider == github ]] || venv+="-$provider"
    [[ $compute == local ]] || venv+="-$compute"

    log "level $level ($task, $provider, $compute): generate"
    "$mlops" new "$project" --level "$level" --no-input --set task="$task" --set author="E2E" \
        --set author_email=e2e@example.com --set ci_provider="$provider" --set compute="$compute"
    if [[ $provider != github ]]; then
        run_other_provider "$case" "$level" "$task" "$provider" "$work" "$project" "$venv"
        return
    fi

    local what="level $level ($task)"
    [[ $compute == local ]] || what="level $level ($task, $compute)"
    log "$what: synchronise $venv"
    timed "$what: environment" sync_env "$project" "$venv" "$work/requirements.txt"

    if compgen -G "$project/.github/workflows/*.yml" >/dev/null; then
        log "$what: workflows against GitHub's schemas, zizmor and actionlint"
        "$tools/bin/check-jsonschema" --builtin-schema vendor.github-workflows "$project"/.github/workflows/*.yml
        "$tools/bin/check-jsonschema" --builtin-schema vendor.dependabot "$project/.github/dependabot.yml"
        # zizmor at its default persona: any finding fails, unless a comment beside it justifies
        # an ignore. actionlint runs shellcheck on every `run:` script, both found on PATH.
        "$tools/bin/zizmor" --offline --no-progress "$project"
        PATH="$tools/bin:$PATH" "$tools/bin/actionlint" "$project"/.github/workflows/*.yml
    fi
    if [[ -f $project/Dockerfile ]]; then
        log "$what: hadolint Dockerfile"
        "$tools/bin/hadolint" "$project/Dockerfile"
    fi
    if [[ -f $project/deploy/ray/Dockerfile ]]; then
        "$tools/bin/hadolint" "$project/deploy/ray/Dockerfile"
    fi

    # The CI workflow lints and tests where act runs the workflows; act runs for compute=local.
    local act_runs=false
    [[ $task == classification && $compute == local && -d $project/.github/workflows ]] && act_runs=true
    if grep -q '^test:' "$project/Makefile" && ! $act_runs; then
        log "$what: lint and unit tests, offline"
        timed "$what: lint and unit tests" \
            in_dir "$project" offline make PYTHON="$venv/bin/python" lint test
    fi

    log "$what: proof, offline"
    timed "$what: proof" in_dir "$project" \
        offline env PATH="$venv/bin:$PATH" PYTHON="$venv/bin/python" VIRTUAL_ENV="$venv" \
        PACKAGE=demo TASK="$task" bash "$repo/tests/e2e/proofs/level-$level.sh"

    if [[ $compute == ray ]]; then
        log "$what: Ray proof, a head node on loopback, offline"
        timed "$what: Ray proof" in_dir "$project" \
            offline env PATH="$venv/bin:$PATH" PYTHON="$venv/bin/python" VIRTUAL_ENV="$venv" \
            PACKAGE=demo TASK="$task" bash "$repo/tests/e2e/proofs/ray.sh"
    fi

    if $act_runs; then
        local wheelhouse
        wheelhouse=$(ensure_wheelhouse "$project")
        log "$what: every job of every workflow, with act, offline"
        timed "$what: workflows with act" offline "$tools/bin/python" \
            "$repo/tests/e2e/act/workflows.py" run --project "$project" --level "$level" \
            --env "$venv" --work "$work/act" --act "$tools/bin/act" --hadolint "$tools/bin/hadolint" \
            --wheelhouse "$wheelhouse"
    fi
    rm -rf "$work"
    log "$what: passed"
}

# A case of GitLab or Azure: the pipelines' schemas, the Dockerfile, then every job of every
# pipeline, offline; lint and tests only where no pipeline runs them (the regression task).
run_other_provider() {
    local case=$1 level=$2 task=$3 provider=$4 work=$5 project=$6 venv=$7 what
    what="level $level ($task, $provider)"
    log "$what: synchronise $venv"
    timed "$what: environment" sync_env "$project" "$venv" "$work/requirements.txt"
    if [[ -f $project/Dockerfile ]]; then
        "$tools/bin/hadolint" "$project/Dockerfile"
    fi
    local pipelines_run=false
    [[ $task == classification && $level -ge 1 ]] && pipelines_run=true
    if grep -q '^test:' "$project/Makefile" && ! $pipelines_run; then
        log "$what: lint and unit tests, offline"
        timed "$what: lint and unit tests" \
            in_dir "$project" offline make PYTHON="$venv/bin/python" lint test
    fi
    $pipelines_run || { rm -rf "$work"; log "$what: passed"; return; }
    local empty=$cache/wheelhouse/none pipeline_files=()
    mkdir -p "$empty"
    # What the GitHub cases' proof leaves and the scenarios read (act/scenario.py's production
    # traffic): the raw data, which is not in git.
    in_dir "$project" offline make --quiet PYTHON="$venv/bin/python" ingest >/dev/null
    "$tools/bin/check-jsonschema" --builtin-schema vendor.renovate "$project/renovate.json"
    if [[ $provider == gitlab ]]; then
        log "$what: every pipeline against GitLab's schema"
        local -a pipeline_files
        mapfile -t pipeline_files < <(find "$project" -name '*.yml' \
            \( -path "$project/.gitlab-ci.yml" -o -path "$project/.gitlab/ci/*" \) | sort)
        "$tools/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci --regex-variant nonunicode \
            "${pipeline_files[@]}"
        log "$what: every job of every pipeline, with gitlab-ci-local, offline"
        timed "$what: pipelines with gitlab-ci-local" offline "$tools/bin/python" \
            "$repo/tests/e2e/gitlab/pipelines.py" run --project "$project" --level "$level" \
            --env "$venv" --work "$work/gitlab" --gcl "$tools/node/node_modules/.bin/gitlab-ci-local" \
            --hadolint "$tools/bin/hadolint" --wheelhouse "$empty"
    else
        log "$what: every pipeline against Azure's schema"
        mapfile -t pipeline_files < <(find "$project" -name '*.yml' \
            \( -path "$project/azure-pipelines.yml" -o -path "$project/.azure-pipelines/*" \) | sort)
        "$tools/bin/check-jsonschema" --builtin-schema vendor.azure-pipelines \
            --regex-variant nonunicode "${pipeline_files[@]}"
        log "$what: every job of every pipeline, with the suite's runner, offline"
        timed "$what: pipelines with the Azure runner" offline "$tools/bin/python" \
            "$repo/tests/e2e/azure/pipelines.py" run --project "$project" --level "$level" \
            --env "$venv" --work "$work/azure" --hadolint "$tools/bin/hadolint" --wheelhouse "$empty"
    fi
    rm -rf "$work"
    log "$what: passed"
}

# The generated code is formatted for any package name the generator accepts: lint every level
# and provider with the longest name and the shortest (ruff's formatter wraps and joins lines
# differently as names get longer or shorter).
lint_package_name_extremes() {
    local work level levels provider name
    work=$(mktemp -d)
    levels=$("$mlops" levels --format json | python3 -c 'import json, sys; print(" ".join(str(l["level"]) for l in json.load(sys.stdin)))')
    for level in $levels; do
        for provider in github gitlab azure; do
            [[ $provider == github || $level -ge 1 ]] || continue
            for name in fraud_detection_for_card_trans m; do
                log "level $level ($provider): ruff with the package name \`$name\`"
                "$mlops" new "$work/p-$level-$provider-${#name}" --level "$level" --no-input --no-git \
                    --set package_name="$name" --set ci_provider="$provider" >/dev/null
                (cd "$work/p-$level-$provider-${#name}" && "$tools/bin/ruff" check --quiet . &&
                    "$tools/bin/ruff" format --check --quiet .)
            done
        done
    done
    rm -rf "$work"
}

# The proofs are only offline if the network really is cut: a request to the package index must
# fail there.
check_offline() {
    offline true
    if offline python3 -c 'import urllib.request; urllib.request.urlopen("https://pypi.org/simple/", timeout=10)' 2>/dev/null; then
        echo "error: the offline proofs can reach pypi.org: the network is not cut off" >&2
        return 1
    fi
}

# The upgrade scenario: `tests/it/scenario.rs` generates a level-1 project, applies six weeks of a
# team's edits, takes it to level 4 with `mlops upgrade --to 4`, resolving each conflict as the
# team would (both sides kept, except that the tuned model moves into level 2's configuration),
# and leaves the result in MLOPS_SCENARIO_OUT; the resolved project must then pass its own lint
# and tests, offline, as a team would check after resolving.
upgrade_scenario() {
    local work project venv=$envs/upgrade-scenario
    work=$(mktemp -d)
    project=$work/demo
    log "upgrade scenario: a level-1 project, six weeks of edits, mlops upgrade --to 4, conflicts resolved"
    MLOPS_SCENARIO_OUT=$project cargo test --quiet --manifest-path "$repo/Cargo.toml" --test it -- \
        --exact scenario::six_weeks_of_team_edits_then_up_to_level_4
    if [[ ! -f $project/.mlops/manifest.toml ]]; then
        echo "error: the scenario wrote no project" >&2
        return 1
    fi
    timed "upgrade scenario: environment" sync_env "$project" "$venv" "$work/requirements.txt"
    timed "upgrade scenario: lint and tests" \
        in_dir "$project" offline make PYTHON="$venv/bin/python" lint test
    rm -rf "$work"
}

# Answers are data: a project whose description and author try every way out of a docstring, a
# TOML string or a shell word still imports, compiles and parses, and nothing in it runs.
hostile_answers() {
    local work marker venv=$envs/level-4-classification
    work=$(mktemp -d)
    marker=$work/pwned
    log "hostile answers: level 4 with a description that tries to become code"
    "$mlops" new "$work/hostile" --level 4 --no-input --no-git --set package_name=hostile_demo \
        --set "description=\"\"\";import os;os.system('touch $marker');\"\"\" \$(touch $marker) \\x ends in \\" \
        --set "author=O'Brien \"\\\" \$(touch $marker)" >/dev/null
    in_dir "$work/hostile" offline env PYTHONPATH=src "$venv/bin/python" -c '
import pathlib, sys, tomllib
import hostile_demo
doc = hostile_demo.__doc__
assert doc.startswith("\"\"\";import os"), doc
assert doc.endswith("ends in \\"), doc
project = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["project"]
assert project["description"] == doc, project["description"]
'
    in_dir "$work/hostile" "$venv/bin/python" -m compileall -q src tests >/dev/null
    if [[ -e $marker ]]; then
        echo "error: an answer ran as code" >&2
        return 1
    fi
    rm -rf "$work"
}

# The suite's own code: the harness's Python and the shell scripts.
lint_suite() {
    log "the suite's own code: ruff and shellcheck"
    local part
    for part in act gitlab azure gitlab/bin/container; do
        "$tools/bin/ruff" check --quiet "$repo/tests/e2e/$part"
        "$tools/bin/ruff" format --check --quiet "$repo/tests/e2e/$part"
    done
    "$tools/bin/shellcheck" --shell=bash --external-sources "$repo"/tests/e2e/*.sh "$repo"/tests/e2e/proofs/*.sh "$repo/.ci/run"
}

ensure_tools
lint_suite
check_offline
if [[ -z ${MLOPS_BIN:-} ]]; then
    log "building mlops (release)"
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
    mlops=${CARGO_TARGET_DIR:-$repo/target}/release/mlops
else
    mlops=$MLOPS_BIN
fi

# The cases that use the environments of others, and so start once those have finished: the
# mutation checks install their projects into the GitHub cases' environments (mutations.sh), and
# the hostile answers use level 4's; and the Ray cases, one after the other. The others are
# independent (their own environments, and each offline command in a network namespace of its
# own, so servers on loopback never meet).
prerequisites() {
    case $1 in
        mutations) echo "1 1-regression 2 2-regression 3 3-regression 4 4-regression" ;;
        hostile-answers) echo "4" ;;
        # `ray stop` stops every Ray process of the machine: one Ray case at a time.
        4-ray) echo "2-ray" ;;
    esac
}

run_one() {
    case $1 in
        upgrade-scenario) timed "upgrade scenario" upgrade_scenario ;;
        hostile-answers) timed "hostile answers" hostile_answers ;;
        mutations) timed "mutations" env MLOPS_BIN="$mlops" bash "$repo/tests/e2e/mutations.sh" ;;
        *) timed "case $1" run_case "$1" ;;
    esac
}

# Runs the cases LANES at a time, in the order given, each as soon as a lane is free and the cases
# it depends on (among those asked for) have passed. With more than one lane each case writes to a
# log of its own, printed whole when the case ends. After a failure no case starts; the running
# ones finish.
run_cases() {
    local -a pending=("$@") passed=() failed=()
    local -A running=()
    local logs case pid status index ready prerequisite
    logs=$(mktemp -d)
    while ((${#pending[@]} > 0 || ${#running[@]} > 0)); do
        while ((${#running[@]} < lanes && ${#failed[@]} == 0)); do
            ready=
            for index in "${!pending[@]}"; do
                ready=${pending[index]}
                for prerequisite in $(prerequisites "$ready"); do
                    if [[ " ${cases[*]} " == *" $prerequisite "* && " ${passed[*]} " != *" $prerequisite "* ]]; then
                        ready=
                        break
                    fi
                done
                [[ -n $ready ]] && unset "pending[index]" && break
            done
            [[ -n $ready ]] || break
            pending=("${pending[@]}")
            if ((lanes == 1)); then
                (run_one "$ready") &
            else
                log "started: $ready"
                (run_one "$ready") >"$logs/$ready.log" 2>&1 &
            fi
            running[$!]=$ready
        done
        ((${#running[@]} > 0)) || break
        status=0
        wait -n -p pid "${!running[@]}" || status=$?
        case=${running[$pid]}
        unset "running[$pid]"
        if ((lanes > 1)); then
            cat "$logs/$case.log"
        fi
        if ((status == 0)); then
            passed+=("$case")
            log "passed: $case"
        else
            failed+=("$case")
            log "FAILED (exit $status): $case"
        fi
    done
    rm -rf "$logs"
    if ((${#failed[@]} > 0 || ${#pending[@]} > 0)); then
        outcome="failed: ${failed[*]}${pending[*]:+; not run: ${pending[*]}}"
    fi
}

full=false
lanes=${MLOPS_E2E_JOBS:-1}
while (($# > 0)); do
    case $1 in
        --full) full=true ;;
        --jobs) lanes=${2:?--jobs needs a number} && shift ;;
        --jobs=*) lanes=${1#--jobs=} ;;
        *) break ;;
    esac
    shift
done
if [[ ! $lanes =~ ^[1-9][0-9]*$ ]]; then
    echo "error: --jobs takes a number of cases to run at once, 1 or more, not \`$lanes\`" >&2
    exit 2
fi
cases=("$@")
if [[ ${#cases[@]} -eq 0 ]]; then
    cases=("${all_cases[@]}")
    $full && cases+=("${full_cases[@]}")
    lint_package_name_extremes
fi
started=$SECONDS
# Not in a condition: bash would not stop a case at its first failing command (set -e) there.
outcome=
run_cases "${cases[@]}"
log "time taken"
cat "$timings"
printf '%5d s  in all (%d at a time)\n' $((SECONDS - started)) "$lanes"
rm -f "$timings"
if [[ -n $outcome ]]; then
    echo "error: end-to-end suite $outcome" >&2
    exit 1
fi
log "end-to-end suite passed: ${cases[*]}"
