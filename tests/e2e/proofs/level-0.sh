# Level 0 proof (LEVELS.md): `make train` writes the model file, offline; the notebook is valid
# nbformat 4. Runs in the generated project with $PYTHON from its virtual environment.
set -euo pipefail
test ! -e models/model.joblib
make PYTHON="$PYTHON" train
test -s models/model.joblib
"$PYTHON" - <<'PY'
import json, pathlib
notebook = json.loads(pathlib.Path("notebooks/01-exploration.ipynb").read_text())
assert notebook["nbformat"] == 4, notebook["nbformat"]
assert all("id" in cell and cell["cell_type"] in {"markdown", "code"} for cell in notebook["cells"])
print(f"notebook: nbformat {notebook['nbformat']}.{notebook['nbformat_minor']}, {len(notebook['cells'])} cells")
PY
# The notebook's code runs against the package as generated.
"$PYTHON" - <<'PY'
import json, pathlib
notebook = json.loads(pathlib.Path("notebooks/01-exploration.ipynb").read_text())
namespace = {}
for cell in notebook["cells"]:
    if cell["cell_type"] == "code":
        exec("".join(cell["source"]), namespace)
print("notebook code cells ran")
PY
