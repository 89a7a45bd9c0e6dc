# Ray proof (LEVELS.md, "compute engines"): a real Ray head node, started offline on loopback from
# the project's own environment, receives the training job. `make train-remote` submits the
# pipeline through the Ray Jobs API and exits with the job's status; the run and its 16 trials
# (nested runs) are in the tracking store and the candidate passed the gate; `make score-batch`
# scores a data set of several Parquet partitions with Ray Data, one prediction file each; an
# unreachable address fails within seconds. Runs after the level's proof, in the generated
# project with $PYTHON.
#
# The one stand-in: the head node runs in the project's environment, which has the requirements,
# so the job's runtime environment does not install them (`install_requirements: false`), which
# would need the package index.
set -euo pipefail

stop_ray() { ray stop --force >/dev/null 2>&1 || true; }
trap stop_ray EXIT

# An unreachable cluster fails at once, with its address and a hint.
started=$(date +%s)
if RAY_ADDRESS=http://127.0.0.1:9 make PYTHON="$PYTHON" train-remote 2>reports/ray-unreachable.log; then
    echo "make train-remote passed without a cluster" >&2
    exit 1
fi
test $(($(date +%s) - started)) -lt 20
grep -qF "cannot reach the Ray cluster at \`http://127.0.0.1:9\`" reports/ray-unreachable.log

sed -i 's/^install_requirements: true$/install_requirements: false/' configs/compute.yaml
grep -q '^install_requirements: false$' configs/compute.yaml

started=$(date +%s)
ray start --head --node-ip-address 127.0.0.1 --num-cpus 2 --dashboard-host 127.0.0.1 \
    --disable-usage-stats >reports/ray-start.log 2>&1 || { cat reports/ray-start.log >&2; exit 1; }
echo "ray start took $(($(date +%s) - started)) s"

versions_before=$("$PYTHON" -c '
from mlflow import MlflowClient
import sys
print(len(MlflowClient("sqlite:///mlflow.db").search_model_versions(f"name = %r" % sys.argv[1])))
' "$PACKAGE")
started=$(date +%s)
RAY_ADDRESS=http://127.0.0.1:8265 make PYTHON="$PYTHON" train-remote | tee reports/train-remote.log
echo "make train-remote took $(($(date +%s) - started)) s"
grep -Eq "^job [^ ]+: SUCCEEDED$" reports/train-remote.log
grep -q "search: 16 trials on \`ray\`" reports/train-remote.log
make PYTHON="$PYTHON" evaluate

"$PYTHON" - "$PACKAGE" "$versions_before" <<'PY'
import sys

from mlflow import MlflowClient

package, before = sys.argv[1], int(sys.argv[2])
client = MlflowClient("sqlite:///mlflow.db")
candidate = client.get_model_version_by_alias(package, "candidate")
assert int(candidate.version) == before + 1, (candidate.version, before)
assert candidate.tags["gate"] == "passed", candidate.tags
run = client.get_run(candidate.run_id)
assert run.data.tags["search.engine"] == "ray", run.data.tags
trials = client.search_runs(
    [run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'"
)
assert len(trials) == 16, len(trials)
assert {t.data.tags["search.engine"] for t in trials} == {"ray"}
best = max(trials, key=lambda t: (t.data.metrics["cv_score"], -int(t.data.tags["search.trial"])))
assert run.data.tags["search.best_trial"] == best.data.tags["search.trial"]
print(f"version {candidate.version}: 16 trials on Ray, best trial {run.data.tags['search.best_trial']}, gate passed")
PY

# Batch scoring of four Parquet partitions with Ray Data, on the head node, with the candidate.
"$PYTHON" - <<'PY'
from pathlib import Path

import pandas as pd

rows = pd.read_csv("data/raw/dataset.csv").drop(columns="target")
for index, part in enumerate([rows.iloc[i::4] for i in range(4)]):
    directory = Path("data/partitioned") / f"part={index}"
    directory.mkdir(parents=True, exist_ok=True)
    part.to_parquet(directory / "rows.parquet", index=False)
PY
RAY_ADDRESS=127.0.0.1:6379 make PYTHON="$PYTHON" score-batch MODEL_URI="models:/$PACKAGE@candidate" \
    INPUT=data/partitioned OUTPUT=data/scored | tee reports/score-batch.log
grep -q "scored 4 partitions of data/partitioned on \`ray\` into data/scored" reports/score-batch.log
"$PYTHON" - <<'PY'
from pathlib import Path

import pandas as pd

written = sorted(Path("data/scored").rglob("*.parquet"))
assert [path.parent.name for path in written] == [f"part={i}" for i in range(4)], written
scored = pd.concat(pd.read_parquet(path) for path in written)
assert len(scored) == len(pd.read_csv("data/raw/dataset.csv")) and scored["prediction"].notna().all()
print(f"{len(written)} prediction files, {len(scored)} rows")
PY

stop_ray
trap - EXIT
