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

# Nothing is the champion yet: batch scoring says what to run.
if make PYTHON="$PYTHON" score OUTPUT=data/processed/none.csv 2>reports/score-error.log; then
    echo "make score passed without a champion" >&2; exit 1
fi
grep -q 'make promote VERSION=N' reports/score-error.log

make PYTHON="$PYTHON" promote VERSION=1
make PYTHON="$PYTHON" models

# A worse model: trained and registered, but the gate rejects it against the champion.
# Without a search (compute=ray projects search by default), which would choose better parameters.
if [[ $TASK == classification ]]; then worse="--set estimator.params.C=0.001"; else worse="--set estimator.params.alpha=1000"; fi
worse+=" --set search.trials=0"
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

# Batch scoring with the champion, through the same module the application uses, checked against
# the champion's own predictions, row by row.
make PYTHON="$PYTHON" score OUTPUT=data/processed/predictions.csv
"$PYTHON" - "$TASK" "$PACKAGE" <<'PY'
import sys

import mlflow.sklearn
import numpy as np
import pandas as pd

mlflow.set_tracking_uri("sqlite:///mlflow.db")
data = pd.read_csv("data/raw/dataset.csv")
scored = pd.read_csv("data/processed/predictions.csv")
assert list(scored.columns[: len(data.columns)]) == list(data.columns), scored.columns
assert np.allclose(scored[data.columns].to_numpy(), data.to_numpy())
champion = mlflow.sklearn.load_model(f"models:/{sys.argv[2]}@champion")
features = data[list(champion.feature_names_in_)]
assert np.allclose(scored["prediction"], champion.predict(features))
if sys.argv[1] == "classification":
    assert scored["prediction"].tolist() == champion.predict(features).tolist()
    assert np.allclose(scored["probability"], champion.predict_proba(features)[:, 1])
print(f"scored {len(scored)} rows, as the champion predicts them")
PY

# The training workflow's compute target comes from configs/compute.yaml.
make -s PYTHON="$PYTHON" compute-target | grep -qx 'runs-on="ubuntu-latest"'

# `make clean` removes what the commands generated, not the MLflow store; only
# `make clean-mlflow` deletes that, and says so.
make PYTHON="$PYTHON" clean
test ! -e models/model.joblib && test ! -e reports/training
test -s mlflow.db && test -d mlartifacts
make PYTHON="$PYTHON" clean-mlflow >reports/clean-mlflow.log
grep -q "deleting the MLflow store" reports/clean-mlflow.log
test ! -e mlflow.db && test ! -e mlartifacts
