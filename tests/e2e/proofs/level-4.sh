# Level 4 proof (LEVELS.md): lint and `pytest` pass (run.sh checks them before the proof: drift found on shifted data and not on
# identical data, the policy's windows, cooldown and daily cap, issue deduplication against a fake
# GitHub API, the monitor dispatching and filing through it, the zero-downtime swap under concurrent
# requests); `make demo-loop` goes round offline (serve, drifted traffic and labels, monitor, the
# policy fires, retrain, gate, promote, swap with requests in flight and none failed; it exits 1
# when any of that does not happen); the running application answers a Prometheus scrape and
# `make load-test` measures it without an error; the bug report's dry run prints an issue;
# `make monitor` runs from the command line on the demo's logs with the references in MLflow.
# Runs in the generated project with $PYTHON, offline.
set -euo pipefail

# The whole loop, offline.
mkdir -p reports
started=$(date +%s)
make PYTHON="$PYTHON" demo-loop 2>&1 | tee reports/demo-loop.log
echo "make demo-loop took $(($(date +%s) - started)) s"
grep -q "the retraining policy fires" reports/demo-loop.log
grep -q "cooling down until" reports/demo-loop.log
grep -q "Retraining triggered" reports/demo-loop.log
grep -Eq "^promoted: version 2" reports/demo-loop.log
grep -q "reload: swapped" reports/demo-loop.log
grep -Eq "^[1-9][0-9]* requests during the swap, 0 failed \([1-9][0-9]* of them while" reports/demo-loop.log
grep -q "the loop went round" reports/demo-loop.log
# The loop closes on data: the labelled traffic became a snapshot, the policy's issue named it,
# and the retrain on the reference data plus that snapshot beat the champion (trained with the
# shipped parameters) on the most recent labelled rows, within the gate on the reference test set.
grep -Eq "^snapshot [0-9a-f]{16} written: 1200 rows" reports/demo-loop.log
grep -Eq "^- training data: the reference data plus snapshot \`[0-9a-f]{16}\`" reports/demo-loop.log
grep -Eq "^data: snapshots [0-9a-f]{16}: [1-9][0-9]* production rows to train on" reports/demo-loop.log
"$PYTHON" - <<PY
import json

import mlflow
import yaml
from mlflow import MlflowClient

client = MlflowClient("sqlite:///build/demo/mlflow.db")
mlflow.set_tracking_uri("sqlite:///build/demo/mlflow.db")
report = json.load(open("build/demo/reports/training/gate.json"))
rule = yaml.safe_load(open("configs/gates.yaml"))
lower = {"rmse", "mae"}


def gain(metric, candidate, champion):
    return champion - candidate if metric in lower else candidate - champion


for name, candidate, champion in (
    ("reference test set", report["metrics"], report["champion_metrics"]),
    ("recent production rows", report["recent_metrics"], report["champion_recent_metrics"]),
):
    for metric in candidate:
        print(f"{name}: {metric} retrained {candidate[metric]:.4f}, champion {champion[metric]:.4f}")
recent, reference = rule["recent"]["metric"], rule["champion"]["metric"]
ahead = gain(recent, report["recent_metrics"][recent], report["champion_recent_metrics"][recent])
assert ahead >= rule["recent"]["min_improvement"] and ahead > 0, ("not better on the recent rows", ahead)
behind = gain(reference, report["metrics"][reference], report["champion_metrics"][reference])
assert behind >= -rule["recent"]["max_regression"], ("forgot the reference data", behind)
assert report["passed"] and report["version"] == "2" and report["champion_version"] == "1", report

# Lineage: the champion before was trained on the reference data alone; the new one on the
# snapshot, recorded by id and digest, and that snapshot still verifies.
first = client.get_run(client.get_model_version("$PACKAGE", "1").run_id)
second = client.get_run(client.get_model_version("$PACKAGE", "2").run_id)
assert first.data.tags["data.snapshots"] == "none", first.data.tags
# The same, shipped configuration; with a search (compute=ray projects search by default) the
# estimator's parameters are what the search chose on each run's data, so the declared rest is.
def declared(run):
    searched = "search.trials" in run.data.params
    tuned = ("estimator.params.", "search.best.") if searched else ()
    return {key: value for key, value in run.data.params.items() if not key.startswith(tuned)}


assert declared(first) == declared(second), (first.data.params, second.data.params)
lineage = mlflow.artifacts.load_dict(f"runs:/{second.info.run_id}/data/lineage.json")
[used] = lineage["snapshots"]
assert second.data.tags["data.snapshots"] == used["id"], second.data.tags
from $PACKAGE import snapshots
from $PACKAGE.config import load_config
from $PACKAGE.data.validate import Schema

snapshot = snapshots.load(snapshots.Path("build/demo/snapshots") / used["id"])
assert snapshot.digest == used["digest"] and snapshots.verify(snapshot, Schema.of(load_config())).ok
print("version 2 learnt from snapshot", used)
PY
"$PYTHON" - <<PY
from mlflow import MlflowClient

client = MlflowClient("sqlite:///build/demo/mlflow.db")
champion = client.get_model_version_by_alias("$PACKAGE", "champion")
assert str(champion.version) == "2" and champion.tags["previous_champion"] == "1", champion.tags
for version in ("1", "2"):
    run = client.get_run(client.get_model_version("$PACKAGE", version).run_id)
    used = {name: value for name, value in run.data.metrics.items() if name.startswith("compute.")}
    assert set(used) == {
        "compute.wall_seconds",
        "compute.cpu_seconds",
        "compute.peak_memory_mb",
        "compute.estimated_cost",
    }, used
    assert used["compute.wall_seconds"] > 0 and used["compute.estimated_cost"] > 0, used
    print(f"version {version} used", used)
PY

# The application, started locally, answers a Prometheus scrape.
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
MODEL_PATH=build/demo/models/model.joblib CHALLENGER_URI='' PREDICTION_LOG=build/proof/predictions.jsonl \
    "$PYTHON" -m uvicorn "$PACKAGE.app:app" --host 127.0.0.1 --port "$port" >reports/app.log 2>&1 &
app=$!
trap 'kill "$app" 2>/dev/null || true' EXIT
for _ in $(seq 240); do
    if ! kill -0 "$app" 2>/dev/null; then cat reports/app.log >&2; echo "the application stopped" >&2; exit 1; fi
    "$PYTHON" -c "import urllib.request; urllib.request.urlopen('$url/ready', timeout=2)" 2>/dev/null && break
    sleep 0.5
done
"$PYTHON" - "$url" "$PACKAGE" <<'PY'
import json
import sys
import urllib.request

import pandas as pd
from prometheus_client.parser import text_string_to_metric_families

url, package = sys.argv[1], sys.argv[2]
rows = pd.read_csv("data/raw/dataset.csv").drop(columns=["target"]).head(7)
body = json.dumps({"rows": rows.to_dict(orient="records")}).encode()
request = urllib.request.Request(f"{url}/predict", body, {"Content-Type": "application/json"})
for _ in range(3):
    urllib.request.urlopen(request, timeout=10).read()
with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
    assert response.headers["Content-Type"].startswith("text/plain"), response.headers
    families = {family.name: family for family in text_string_to_metric_families(response.read().decode())}
samples = {
    (sample.name, sample.labels.get("path"), sample.labels.get("status")): sample.value
    for family in families.values()
    for sample in family.samples
}
assert samples[(f"{package}_requests_total", "/predict", "200")] == 3, samples
assert samples[(f"{package}_request_latency_seconds_count", "/predict", None)] == 3, samples
assert f"{package}_request_errors" in families and f"{package}_model_reloads" in families
predicted = sum(s.value for s in families[f"{package}_predictions"].samples if s.name.endswith("_total"))
assert predicted == 21, predicted
info = families[f"{package}_model_info"].samples
assert len(info) == 1 and info[0].labels["variant"] == "champion" and info[0].value == 1, info
print("scraped:", sorted(families))
PY
# The load test a team runs against any deployment, briefly: answered, measured, no error.
make -s PYTHON="$PYTHON" load-test BASE_URL="$url" RATE=50 DURATION=2 | tee reports/load-test.txt
grep -Eq "^100 requests in [0-9.]+ s: [0-9.]+ answered/s, 0 errors" reports/load-test.txt
grep -q "^latency (ms): p50 " reports/load-test.txt
kill "$app"
wait "$app" 2>/dev/null || true
trap - EXIT

# A failure's issue, as a dry run: nothing is sent.
make -s PYTHON="$PYTHON" bug-report KIND=training DRY_RUN=1 | tee reports/bug-report.txt
grep -q "^title: Training failed" reports/bug-report.txt
grep -q "^labels: mlops-automated" reports/bug-report.txt
grep -q "<!-- mlops-fingerprint: [0-9a-f]\{16\} -->" reports/bug-report.txt
if make -s PYTHON="$PYTHON" bug-report >/dev/null 2>&1; then echo "bug-report without KIND passed" >&2; exit 1; fi
# Without a token the keep-alive and the dispatch are dry runs too.
make -s PYTHON="$PYTHON" keepalive | grep -q "^dry run"

# The monitor from the command line, on the demo's logs, with the references of the demo's
# registry: the new champion's traffic is like the training data, so the policy holds.
PREDICTION_LOG=build/demo/logs/predictions.jsonl FEEDBACK_LOG=build/demo/logs/feedback.jsonl \
    MLFLOW_TRACKING_URI=sqlite:///build/demo/mlflow.db make PYTHON="$PYTHON" monitor | tee reports/monitor.log
grep -q "Model version 2:" reports/monitor.log
grep -q "the retraining policy holds" reports/monitor.log
test -s reports/monitoring/report.json && test -s reports/monitoring/state.json
