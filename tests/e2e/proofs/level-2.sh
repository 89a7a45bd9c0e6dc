# Level 2 proof (LEVELS.md): lint and `pytest` pass, the gate tests included (run.sh checks
# them before the proof); `make train evaluate` runs offline and
# leaves a registered model version in mlflow.db; once that version is the champion, a run with
# worse parameters is rejected by the gate (non-zero exit) and cannot be promoted; batch scoring
# uses the champion. Runs in the generated project with $PYTHON.
set -euo pipefail

test ! -e mlflow.db
make PYTHON="$PYTHON" train evaluate
test -s mlflow.db && test -d mlartifacts && test ! -e mlruns
test -s models/model.joblib && test -s reports/training/metrics.json && test -s reports/training/gate.md
"$PYTHON" - <<PY
import mlflow
from mlflow import MlflowClient

client = MlflowClient("sqlite:///mlflow.db")
version = client.get_model_version_by_alias("$PACKAGE", "candidate")
assert str(version.version) == "1", version
assert version.tags["gate"] == "passed", version.tags
run = client.get_run(version.run_id)
assert run.data.tags["data.sha256"] and run.data.tags["git.commit"] != "unknown", run.data.tags
assert run.data.params["estimator.class"], run.data.params
info = mlflow.models.get_model_info("models:/$PACKAGE/1")
assert info.signature is not None
print(f"registered: $PACKAGE version {version.version}, metrics {run.data.metrics}")
PY

make PYTHON="$PYTHON" promote VERSION=1
make PYTHON="$PYTHON" models

# A worse model: trained and registered, but the gate rejects it against the champion.
if [[ $TASK == classification ]]; then worse="--set estimator.params.C=0.001"; else worse="--set estimator.params.alpha=1000"; fi
make PYTHON="$PYTHON" train TRAIN_ARGS="$worse"
status=0
"$PYTHON" -m "$PACKAGE.gate" || status=$?
test "$status" -eq 1
if make PYTHON="$PYTHON" evaluate; then echo "make evaluate passed a worse model" >&2; exit 1; fi
if make PYTHON="$PYTHON" promote VERSION=2; then echo "a rejected version was promoted" >&2; exit 1; fi
grep -q '"passed": false' reports/training/gate.json
"$PYTHON" - <<PY
from mlflow import MlflowClient

client = MlflowClient("sqlite:///mlflow.db")
candidate = client.get_model_version_by_alias("$PACKAGE", "candidate")
champion = client.get_model_version_by_alias("$PACKAGE", "champion")
assert (str(candidate.version), str(champion.version)) == ("2", "1"), (candidate, champion)
assert candidate.tags["gate"] == "failed", candidate.tags
print("rejected:", candidate.tags["gate.summary"])
PY

# Batch scoring with the champion, through the same module the application uses.
make PYTHON="$PYTHON" score OUTPUT=data/processed/predictions.csv
"$PYTHON" - <<'PY'
import pandas as pd

scored = pd.read_csv("data/processed/predictions.csv")
assert len(scored) == len(pd.read_csv("data/raw/dataset.csv")) and "prediction" in scored
print(f"scored {len(scored)} rows")
PY

# The training workflow's compute target comes from configs/compute.yaml.
make -s PYTHON="$PYTHON" compute-target | grep -qx 'runs-on="ubuntu-latest"'
