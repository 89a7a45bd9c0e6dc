#!/usr/bin/env bash
# Mutation checks of the generated projects' own tests: each case breaks one feature on purpose in
# a freshly generated project (as an audit of the suite did) and expects the project's tests, or
# `make demo-loop`, to fail on the break, after they passed on the project as generated. A case
# whose text to replace is no longer in the template fails too, so the cases follow the templates.
#
# Usage: tests/e2e/mutations.sh [CASE...]   (default: every case; `--list` prints them)
# It runs in the environments tests/e2e/run.sh synchronised for each level and task, and makes
# those of the cases run.sh did not run (`tests/e2e/run.sh` runs this script as its `mutations`
# case, once the GitHub cases it was asked for have passed), generates with $MLOPS_BIN
# (default: a release build), and runs the checks with the network cut off. The demo cases take
# minutes each; the others seconds.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
export MLFLOW_DISABLE_TELEMETRY=true

# Each case: a name, the level and task of the project it breaks, and how it is checked: the test
# files that must fail, or `demo` for `make demo-loop`. The break itself is `break_<name>`.
cases=(
    "predict-ignores-the-model 1 classification tests/test_app.py"
    "predict-ignores-the-model-at-level-2 2 regression tests/test_app.py"
    "predict-answers-in-reversed-row-order 4 classification tests/test_app.py"
    "batch-scoring-reversed-and-inverted 2 classification tests/test_score.py"
    "ab-any-difference-is-significant 3 classification tests/test_ab_report.py"
    "ab-any-difference-is-significant-regression 3 regression tests/test_ab_report.py"
    "model-memorises-its-training-rows 1 classification tests/test_model_integration.py"
    "model-memorises-its-training-rows-regression 1 regression tests/test_model_integration.py"
    "schema-check-disabled 1 classification tests/test_model_integration.py"
    "build-model-ignores-the-configuration 2 classification tests/test_pipeline.py"
    "feedback-open-to-anyone 3 classification tests/test_ab.py"
    "reload-open-to-anyone 4 regression tests/test_swap.py"
    "monitor-never-dispatches 4 classification tests/test_issues.py"
    "monitor-never-files-the-issue 4 classification tests/test_issues.py"
    "demo-gate-rejects-the-candidate 4 classification demo"
    "demo-swap-without-requests 4 classification demo"
    "demo-retrain-without-production-data 4 classification demo"
)

# Replaces the one occurrence of OLD in FILE (relative to the project) with NEW; fails when OLD is
# not there exactly once, so a case that no longer matches the template is noticed.
mutate() {
    python3 - "$1" "$2" "$3" <<'PY'
import pathlib, sys

path, old, new = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
text = path.read_text()
if text.count(old) != 1:
    sys.exit(f"mutation: {path} holds {text.count(old)} copies of the text to replace:\n{old}")
path.write_text(text.replace(old, new))
PY
}

break_predict-ignores-the-model() {
    mutate "src/$package/app.py" "        predictions = model.model.predict(frame)
        probabilities = model.model.predict_proba(frame)[:, 1]" "        predictions = [0] * len(frame)
        probabilities = [0.0] * len(frame)"
}
break_predict-ignores-the-model-at-level-2() {
    mutate "src/$package/app.py" "scored = score.predict(model, frame)" \
        "scored = score.Predictions(predictions=[0.0] * len(frame))"
}
break_predict-answers-in-reversed-row-order() {
    mutate "src/$package/app.py" "for row in body.rows]" "for row in body.rows[::-1]]"
}
break_batch-scoring-reversed-and-inverted() {
    mutate "src/$package/score.py" '    result["prediction"] = scored.predictions
    result["probability"] = scored.probabilities' '    result["prediction"] = scored.predictions[::-1]
    result["probability"] = [1 - p for p in scored.probabilities[::-1]]'
}
break_ab-any-difference-is-significant() {
    mutate "src/$package/ab_report.py" "    if low > 0 or high < 0:" "    if difference != 0:"
}
break_ab-any-difference-is-significant-regression() { break_ab-any-difference-is-significant; }
# A model that memorises its training rows and knows nothing else: the nearest neighbour of a row
# among the training rows, each turned into noise seeded by its values. It is right on the rows it
# was fitted on, which are most of the data set, and no better than chance on any other row.
break_model-memorises-its-training-rows() {
    local neighbours=KNeighborsClassifier
    [[ $task == regression ]] && neighbours=KNeighborsRegressor
    mutate "src/$package/train.py" "def build_model(seed: int = SEED) -> Pipeline:" \
        "def _rows_as_noise(rows):
    import zlib

    import numpy as np

    values = np.asarray(rows, dtype=float)
    return np.array(
        [np.random.default_rng(zlib.crc32(row.tobytes())).normal(size=8) for row in values]
    )


def build_model(seed: int = SEED) -> Pipeline:"
    mutate "src/$package/train.py" "    return make_pipeline(StandardScaler(), " \
        "    from sklearn.neighbors import $neighbours
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(_rows_as_noise, validate=True), $neighbours(1))
    return make_pipeline(StandardScaler(), "
}
break_model-memorises-its-training-rows-regression() { break_model-memorises-its-training-rows; }
break_schema-check-disabled() {
    mutate "src/$package/app.py" "        if missing or unexpected:" "        if False:"
}
break_build-model-ignores-the-configuration() {
    mutate "src/$package/train.py" "    estimator = estimator or load_config().estimator" \
        "    estimator = estimator or EstimatorConfig(\"sklearn.linear_model.LogisticRegression\")"
}
break_feedback-open-to-anyone() {
    mutate "src/$package/access.py" "        if bound_to_loopback(environ):
            return" "        return"
}
break_reload-open-to-anyone() { break_feedback-open-to-anyone; }
break_monitor-never-dispatches() {
    mutate "src/$package/monitor.py" \
        "        return self.client.dispatch(self.workflow, self.ref, reason)" \
        "        return 'dispatched'"
}
break_monitor-never-files-the-issue() {
    mutate "src/$package/monitor.py" "issues.submit(fired_report(result, dispatched), tracker)" \
        "issues.submit(fired_report(result, dispatched), None)"
}
break_demo-gate-rejects-the-candidate() {
    # A gate no model passes: the retrained candidate is rejected, so nothing is promoted.
    mutate configs/gates.yaml "  accuracy:
    min: 0.90" "  accuracy:
    min: 1.01"
}
break_demo-retrain-without-production-data() {
    # Too few production rows ever count: the retrain learns from the reference data alone, which
    # cannot fix the drift, and the demo must not pass that off as a loop that went round.
    mutate configs/train.yaml "  min_rows: 100" "  min_rows: 100000"
}
break_demo-swap-without-requests() {
    mutate "src/$package/demo.py" "for batch in itertools.cycle(batches):" \
        "for batch in itertools.cycle(batches[:0]):"
}

# Runs a case's check in the project; its output goes to $2. Exit status of the check.
check() {
    local what=$1 output=$2 venv=$3
    if [[ $what == demo ]]; then
        offline env PATH="$venv/bin:$PATH" make PYTHON="$venv/bin/python" demo-loop >"$output" 2>&1
    else
        # shellcheck disable=SC2086
        offline env PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
            -o addopts= -rfE $what >"$output" 2>&1
    fi
}

# The project of a level and task, generated and installed once per run; prints its directory.
project_for() {
    local level=$1 task=$2
    local project=$work/level-$level-$task venv=$envs/level-$level-$task
    if [[ ! -d $project ]]; then
        # Named as tests/e2e/run.sh names its projects, so that the two share environments.
        "$mlops" new "$project" --level "$level" --no-input --set task="$task" \
            --set project_name=demo --set package_name="$package" --set author=E2E \
            --set author_email=e2e@example.com >/dev/null
        if [[ -x $venv/bin/python ]]; then
            # Synchronised by run.sh's case of that level and task: only the project changes.
            "$tools/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps -e "$project"
        else
            # A case run.sh was not asked for (its default set leaves some out): made here.
            sync_env "$project" "$venv" "$work/requirements-$level-$task.txt" >&2
        fi
    fi
    echo "$project"
}

if [[ ${1:-} == --list ]]; then
    printf '%s\n' "${cases[@]}" | cut -d' ' -f1
    exit 0
fi
if [[ ! -x $tools/bin/uv ]]; then
    echo "no tools in $tools: run tests/e2e/run.sh once first, or point MLOPS_CACHE at its cache" >&2
    exit 2
fi
if [[ -z ${MLOPS_BIN:-} ]]; then
    log "building mlops (release)"
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
    mlops=${CARGO_TARGET_DIR:-$repo/target}/release/mlops
else
    mlops=$MLOPS_BIN
fi

package=demo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
selected=("$@")
results=()
failures=0
declare -A passed_before=()
for entry in "${cases[@]}"; do
    read -r name level task what <<<"$entry"
    if [[ ${#selected[@]} -gt 0 && ! " ${selected[*]} " == *" $name "* ]]; then
        continue
    fi
    cd "$work"
    project=$(project_for "$level" "$task")
    venv=$envs/level-$level-$task
    cd "$project"

    # The check passes on the project as generated (once per project and check).
    if [[ -z ${passed_before["$level-$task $what"]:-} ]]; then
        log "$name: level $level ($task), $what, as generated"
        if ! check "$what" "$work/before.log" "$venv"; then
            tail -30 "$work/before.log"
            echo "the check fails on the project as generated: the case proves nothing" >&2
            exit 1
        fi
        passed_before["$level-$task $what"]=1
    fi

    log "$name: level $level ($task), $what, broken"
    cp -a "$project" "$work/pristine"
    "break_$name"
    status=0
    check "$what" "$work/after.log" "$venv" || status=$?
    cd "$work"
    rm -rf "$project" && mv "$work/pristine" "$project"
    if [[ $status -eq 0 ]]; then
        echo "NOT CAUGHT: $name passes its check broken" >&2
        results+=("$name: NOT CAUGHT")
        failures=$((failures + 1))
        continue
    fi
    if [[ $what == demo ]]; then
        caught=$(grep -m1 '^error: ' "$work/after.log" || echo "make demo-loop exited $status")
        if ! grep -q "the loop did not go round" "$work/after.log"; then
            echo "the demo failed without saying that the loop did not go round" >&2
            results+=("$name: failed without saying so")
            failures=$((failures + 1))
            continue
        fi
    else
        caught=$(grep -E '^(FAILED|ERROR) ' "$work/after.log" | sed -E 's/ - .*//' | tr '\n' ' ')
    fi
    echo "caught: $caught"
    results+=("$name: caught by $caught")
done

log "mutations"
printf '  %s\n' "${results[@]}"
if [[ $failures -gt 0 ]]; then
    echo "$failures break(s) not caught" >&2
    exit 1
fi
echo "every break was caught: ${#results[@]} cases"
