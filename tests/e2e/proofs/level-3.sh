# Level 3 proof (LEVELS.md): lint and `pytest` pass (run.sh checks them before the
# proof: the router's stickiness, the A/B report, the release and the
# rollback tested; the release tests left out without a URL); with a champion and
# a challenger registered, the application started locally answers, the release tests pass against
# it (and fail against expectations the model does not meet), traffic reaches both variants, labels
# arrive through /feedback and the A/B report has metrics per variant; `make release` deploys the
# candidate to a local staging, tests it there and promotes it; `make rollback` undoes it. Runs in
# the generated project with $PYTHON, offline.
set -euo pipefail
# Without a URL the release tests are not collected: pytest exits 5, "no tests ran".
status=0
"$PYTHON" -m pytest -q -p no:cacheprovider tests/release >/dev/null || status=$?
test "$status" -eq 5

# The champion: a weaker model, gated and promoted by hand. The challenger: the shipped
# configuration, gated against it.
if [[ $TASK == classification ]]; then weak="--set estimator.params.C=0.01"; else weak="--set estimator.params.alpha=0.1"; fi
make PYTHON="$PYTHON" train TRAIN_ARGS="$weak"
make PYTHON="$PYTHON" evaluate promote VERSION=1
make PYTHON="$PYTHON" train evaluate
make PYTHON="$PYTHON" challenger VERSION=2

# The application, started locally on a free port: the champion and the challenger, half of the
# traffic each. It listens on loopback and is told so (UVICORN_HOST, as `make serve` does), so it
# takes labels without a token.
port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
MODEL_URI="models:/$PACKAGE@champion" CHALLENGER_SHARE=0.5 UVICORN_HOST=127.0.0.1 \
    "$PYTHON" -m uvicorn "$PACKAGE.app:app" --port "$port" >app.log 2>&1 &
app=$!
trap 'kill "$app" 2>/dev/null || true' EXIT
for _ in $(seq 240); do
    if ! kill -0 "$app" 2>/dev/null; then cat app.log >&2; echo "the application stopped" >&2; exit 1; fi
    "$PYTHON" -c "import urllib.request; urllib.request.urlopen('$url/health', timeout=2)" 2>/dev/null && break
    sleep 0.5
done
"$PYTHON" - "$url" <<'PY'
import json, sys, urllib.request

version = json.load(urllib.request.urlopen(f"{sys.argv[1]}/version"))
served = {variant["name"]: variant["model_version"] for variant in version["variants"]}
assert served == {"champion": "1", "challenger": "2"}, version["variants"]
print("serving", served)
PY

# The release tests pass against it...
make PYTHON="$PYTHON" release-test BASE_URL="$url"
# ...and fail against a latency budget and directional expectations the model does not meet.
"$PYTHON" - <<'PY'
import yaml

with open("configs/release.yaml") as file:
    config = yaml.safe_load(file)
config["latency"]["p95_ms"] = 0.001
flip = {"increases": "decreases", "decreases": "increases"}
config["behaviour"]["directional"] = {k: flip[v] for k, v in config["behaviour"]["directional"].items()}
with open("reports/impossible-release.yaml", "w") as file:
    yaml.safe_dump(config, file)
PY
status=0
RELEASE_CONFIG=reports/impossible-release.yaml make PYTHON="$PYTHON" release-test BASE_URL="$url" \
    >reports/impossible-release.log 2>&1 || status=$?
test "$status" -ne 0
grep -q "FAILED tests/release/test_latency.py::test_single_rows_are_answered_within_the_budget" reports/impossible-release.log
test "$(grep -c "FAILED tests/release/test_behaviour.py::test_a_directional_expectation_holds" reports/impossible-release.log)" -eq 2

# Traffic from many users reaches both variants; their labels arrive through /feedback.
"$PYTHON" - "$url" <<'PY'
import json, sys, urllib.request

import pandas as pd

url = sys.argv[1]


def post(path, body):
    request = urllib.request.Request(
        f"{url}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


data = pd.read_csv("data/raw/dataset.csv").sample(240, random_state=0)
labels, variants = [], {}
for index, (_, row) in enumerate(data.iterrows()):
    key = f"customer-{index % 120}"
    answer = post("/predict", {"rows": [row.drop("target").to_dict()], "key": key})
    assert variants.setdefault(key, answer["variant"]) == answer["variant"], "not sticky"
    labels.append({"prediction_id": answer["prediction_ids"][0], "label": row["target"].item()})
assert set(variants.values()) == {"champion", "challenger"}, variants
assert post("/feedback", {"labels": labels}) == {"received": len(labels)}
print(f"{len(labels)} predictions and labels;", pd.Series(variants).value_counts().to_dict())
PY
kill "$app"
wait "$app" 2>/dev/null || true
test "$(grep -c '"variant":"champion"' logs/predictions.jsonl)" -gt 0
test "$(grep -c '"variant":"challenger"' logs/predictions.jsonl)" -gt 0
# The release tests posted labels too, for their own synthetic predictions.
test "$(wc -l <logs/feedback.jsonl)" -ge 240

make PYTHON="$PYTHON" ab-report
"$PYTHON" - <<'PY'
import json

report = json.load(open("reports/ab/report.json"))
variants = {(v["variant"], v["model_version"]): v for v in report["variants"]}
assert set(variants) == {("champion", "1"), ("challenger", "2")}, variants
assert sum(v["labelled"] for v in variants.values()) == 240, report
for variant in variants.values():
    assert variant["labelled"] > 0 and variant["metrics"], variant
assert report["synthetic"] > 0, "the release tests' traffic is left out"
print("A/B:", {name: v["metrics"] for name, v in variants.items()})
PY
# The comparison, computed again from the logs alone: each variant's labelled predictions, the
# difference on the primary metric and its normal 95% interval, and the verdict it allows.
"$PYTHON" - "$TASK" <<'PY'
import json
import math
import sys

import pandas as pd

classification = sys.argv[1] == "classification"
predictions = pd.read_json("logs/predictions.jsonl", lines=True)
labels = pd.read_json("logs/feedback.jsonl", lines=True, dtype={"prediction_id": str})
labels = labels.sort_values("received_at").drop_duplicates("prediction_id", keep="last")
real = predictions[~predictions["synthetic"]].astype({"prediction_id": str})
joined = real.merge(labels[["prediction_id", "label"]], on="prediction_id")
right = (joined["prediction"] == joined["label"]).astype(float)
scores = right if classification else (joined["prediction"] - joined["label"]).abs()
champion = scores[joined["variant"] == "champion"]
challenger = scores[joined["variant"] == "challenger"]
difference = challenger.mean() - champion.mean()
spread = math.sqrt(champion.var() / len(champion) + challenger.var() / len(challenger))
low, high = difference - 1.959964 * spread, difference + 1.959964 * spread
if low <= 0 <= high:
    better = "undecided"
else:
    better = "challenger" if (difference > 0) == classification else "champion"

comparison = json.load(open("reports/ab/report.json"))["comparison"]
assert comparison["metric"] == ("accuracy" if classification else "mae"), comparison
assert math.isclose(comparison["difference"], difference, abs_tol=1e-9), (comparison, difference)
assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(comparison["ci95"], (low, high))), comparison
assert comparison["better"] == better, (comparison, better)
print(f"A/B comparison: {difference:+.4f} (95% CI {low:+.4f} to {high:+.4f}), better: {better}")
PY

# The automatic release of the candidate: gate again, bundle, local staging, release tests,
# champion, and a record of what went where.
make PYTHON="$PYTHON" release
make PYTHON="$PYTHON" deployments
test -s build/model/release.json && grep -q '"version": "2"' build/model/release.json
grep -q "release tests passed" reports/release/release.md
"$PYTHON" - <<PY
import json

from mlflow import MlflowClient

client = MlflowClient("sqlite:///mlflow.db")
champion = client.get_model_version_by_alias("$PACKAGE", "champion")
assert str(champion.version) == "2", champion
assert champion.tags["previous_champion"] == "1", champion.tags
assert champion.tags["release"] == "released", champion.tags
assert champion.tags["release.staging"].startswith("local http://127.0.0.1:"), champion.tags
assert "challenger" not in client.get_registered_model("$PACKAGE").aliases
entries = [json.loads(line) for line in open("reports/release/deployments.jsonl")]
assert [(e["environment"], e["outcome"], e["version"]) for e in entries] == [
    ("staging", "release-tests-passed", "2"),
    ("production", "promoted", "2"),
], entries
print("released:", entries[-1])
PY

# Rollback: one command moves the champion back, and is recorded.
make PYTHON="$PYTHON" rollback
"$PYTHON" - <<PY
import json

from mlflow import MlflowClient

client = MlflowClient("sqlite:///mlflow.db")
assert str(client.get_model_version_by_alias("$PACKAGE", "champion").version) == "1"
assert client.get_model_version("$PACKAGE", "2").tags["rolled_back_to"] == "1"
last = json.loads(open("reports/release/deployments.jsonl").read().splitlines()[-1])
assert (last["outcome"], last["version"], last["previous"]) == ("rolled-back", "1", "2"), last
print("rolled back:", last)
PY
# The rolled-back version is not released again by accident.
if make PYTHON="$PYTHON" release VERSION=2; then echo "a rolled-back version was released again" >&2; exit 1; fi

# `make clean` removes the bundle, the logs and the reports the commands wrote; the MLflow store
# stays.
make PYTHON="$PYTHON" clean
test ! -e build && test ! -e logs && test ! -e reports/release && test ! -e reports/ab
test -s mlflow.db
