# Level 1 proof (LEVELS.md): lint and `pytest` pass (run.sh checks them before the
# proof); the app answers /predict in a test client using the model
# produced by `make train`; ingest is idempotent.
set -euo pipefail
make PYTHON="$PYTHON" train
test -s models/model.joblib
test -s data/raw/dataset.meta.json
before=$(sha256sum data/raw/dataset.meta.json)
make PYTHON="$PYTHON" ingest
test "$before" = "$(sha256sum data/raw/dataset.meta.json)"
MODEL_PATH=models/model.joblib "$PYTHON" -m pytest -q tests/test_app.py tests/test_model_integration.py
