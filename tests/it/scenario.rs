//! A level-1 project through six weeks of a team's work (fifteen edits of the kinds teams make),
//! then `mlops upgrade --to 4`: every edit survives, the dry run is the real run, there are at
//! most two conflict regions in all, and keeping both sides of each leaves files that parse.
//!
//! With `MLOPS_SCENARIO_OUT=DIR`, the resolved project is copied to DIR, where
//! the end-to-end suite (`tests/e2e/run.sh upgrade-scenario`) runs its own lint and tests (Python is
//! not needed here).

use std::path::Path;

use crate::support::{Test, commit_everything, files};

fn replace(project: &Path, path: &str, old: &str, new: &str) {
    let file = project.join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|error| panic!("{path}: {error}"));
    assert!(text.contains(old), "{path} lacks {old:?}");
    std::fs::write(&file, text.replacen(old, new, 1)).unwrap();
}

fn append(project: &Path, path: &str, tail: &str) {
    let file = project.join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, format!("{text}{tail}")).unwrap();
}

/// The team's six weeks, one commit per change or two.
fn team_edits(project: &Path) {
    first_three_weeks(project);
    last_three_weeks(project);
}

fn first_three_weeks(project: &Path) {
    // Week 1: (1) a dependency, (2) the model tuned.
    replace(
        project,
        "pyproject.toml",
        "    \"joblib>=1.4,<2\",\n",
        "    \"joblib>=1.4,<2\",\n    \"loguru>=0.7,<1\",\n",
    );
    replace(
        project,
        "src/demo/train.py",
        "    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))\n",
        "    return make_pipeline(\n        StandardScaler(), LogisticRegression(max_iter=5000, C=0.5, \
         random_state=seed)\n    )\n",
    );
    // (3) Feature engineering for the team's analyses, and (4) the docstring line level 2 extends.
    replace(
        project,
        "src/demo/train.py",
        "\n\ndef build_model(",
        "\n\ndef add_ratios(features: pd.DataFrame) -> pd.DataFrame:\n    \"\"\"Feature engineering: the area per \
         unit of radius, which separates the classes better.\"\"\"\n    engineered = features.copy()\n    \
         engineered[\"area_per_radius\"] = engineered[\"mean_area\"] / engineered[\"mean_radius\"]\n    \
         return engineered\n\n\ndef build_model(",
    );
    replace(
        project,
        "src/demo/train.py",
        "its metrics and writes `models/model.joblib`, the file that is handed over to the application.\n",
        "its metrics and writes `models/model.joblib` (tuned: C=0.5 and more iterations, see `build_model`).\n",
    );
    commit_everything(project, "Tune the model and engineer a feature");
    // Week 2: (5) a CI job.
    append(
        project,
        ".github/workflows/ci.yml",
        "\n  typecheck:\n    runs-on: ubuntu-latest\n    timeout-minutes: 10\n    steps:\n      \
         - uses: actions/checkout@v7\n      - uses: actions/setup-python@v7\n        with:\n          \
         python-version: \"3.11\"\n      - run: pip install mypy\n      - run: mypy --ignore-missing-imports src\n",
    );
    commit_everything(project, "CI: type check");
    // Week 3: (6) own tests, in a file of their own and (7) a fixture in conftest.py.
    append(
        project,
        "tests/test_features.py",
        "\"\"\"The team's feature engineering.\"\"\"\n\nfrom __future__ import annotations\n\nimport pandas as pd\n\n\n\
         def test_add_ratios_divides_area_by_radius(engineered_rows: pd.DataFrame) -> None:\n    \
         assert list(engineered_rows[\"area_per_radius\"]) == [2.0, 3.0]\n",
    );
    append(
        project,
        "tests/conftest.py",
        "\n\n@pytest.fixture\ndef engineered_rows() -> pd.DataFrame:\n    \"\"\"Two rows through the team's feature \
         engineering.\"\"\"\n    return train.add_ratios(pd.DataFrame({\"mean_area\": [4.0, 9.0], \"mean_radius\": \
         [2.0, 3.0]}))\n",
    );
    commit_everything(project, "Tests of the features");
    // Week 3: (8) README edits, (9) a Makefile target named in .PHONY.
    replace(
        project,
        "README.md",
        "demo: a machine-learning project\n",
        "demo: predicts whether a biopsy is malignant from its measurements\n",
    );
    replace(
        project,
        "README.md",
        "## Train\n",
        "## Team notes\n\nWe retrain on Mondays; ask #ml-platform before changing the features.\n\n## Train\n",
    );
    replace(
        project,
        "Makefile",
        "serve docker-build\n",
        "serve docker-build features\n",
    );
    replace(
        project,
        "Makefile",
        "\tdocker build -t demo:dev .\n",
        "\tdocker build -t demo:dev .\n\nfeatures: ## show the engineered features of the first rows\n\t\
         $(PYTHON) -c 'import demo.train as t; print(t.add_ratios(t.load_data()).head())'\n",
    );
    commit_everything(project, "Docs and make features");
}

fn last_three_weeks(project: &Path) {
    // Week 4: (10) the Dockerfile, (11) a moved test file, (12) a deleted file.
    replace(
        project,
        "Dockerfile",
        "FROM python:3.11-slim\n",
        "FROM python:3.11-slim\n\nLABEL org.opencontainers.image.source=\"https://github.com/example/demo\"\n",
    );
    commit_everything(project, "Label the image");
    std::fs::create_dir_all(project.join("tests/api")).unwrap();
    std::fs::rename(
        project.join("tests/test_app.py"),
        project.join("tests/api/test_app.py"),
    )
    .unwrap();
    commit_everything(project, "Move the API tests");
    std::fs::remove_file(project.join("notebooks/01-exploration.ipynb")).unwrap();
    commit_everything(project, "Drop the notebook");
    // Week 5: (13) a new data source.
    replace(
        project,
        "configs/ingest.yaml",
        "source: bundled\n",
        "source: https://data.example.com/exports/biopsies.csv\n",
    );
    commit_everything(project, "Ingest from the export");
    // Week 6: (14) .gitignore lines, (15) a line of the README's test section.
    append(
        project,
        ".gitignore",
        "\n# The team's scratch space and exports\n/scratch/\n*.parquet\n",
    );
    replace(
        project,
        "README.md",
        "## Layout\n",
        "## Layout\n\nThe team keeps scratch work in `scratch/`, which git ignores.\n",
    );
    commit_everything(project, "Scratch space");
}

/// `text` with every conflict resolved by keeping both sides, yours first.
fn keep_both(text: &str) -> String {
    let mut kept = String::new();
    let mut section = "outside";
    for line in text.split_inclusive('\n') {
        if line.starts_with("<<<<<<< ") {
            section = "yours";
        } else if line.starts_with("||||||| ") && section == "yours" {
            section = "base";
        } else if line == "=======\n" && section != "outside" {
            section = "theirs";
        } else if line.starts_with(">>>>>>> ") && section == "theirs" {
            section = "outside";
        } else if section != "base" {
            kept.push_str(line);
        }
    }
    kept
}

/// The plan of a report, without what differs between a dry run and a real one.
fn plan_of(report: &serde_json::Value) -> serde_json::Value {
    let mut plan = report.clone();
    for key in ["dry_run", "outcome", "committed"] {
        plan.as_object_mut().unwrap().remove(key);
    }
    plan
}

#[test]
fn six_weeks_of_team_edits_then_up_to_level_4() {
    let test = Test::new();
    let top = test.mlops(&["levels", "--format", "json"]);
    let levels: serde_json::Value = serde_json::from_str(&top.stdout).unwrap();
    if levels.as_array().unwrap().len() < 5 {
        return;
    }
    test.mlops(&["new", "demo", "--level", "1", "--no-input"])
        .success();
    let project = test.path("demo");
    team_edits(&project);

    let conflict_regions = upgrade_keeping_both_sides(&test, &project);
    assert!(conflict_regions <= 2, "{conflict_regions} conflict regions");
    assert!(conflict_regions >= 1, "the docstring edit meets level 2's");
    check_every_edit_survived(&project);
    check_everything_parses(&project);
    if let Some(out) = std::env::var_os("MLOPS_SCENARIO_OUT") {
        let out = Path::new(&out);
        for (path, content) in files(&project) {
            let destination = out.join(path);
            std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
            std::fs::write(destination, content).unwrap();
        }
    }
}

/// Runs `mlops upgrade --to 4` (its dry run first, which must plan exactly what the real run
/// does) until the project is at level 4, resolving each run's conflicts by keeping both sides;
/// returns the number of conflict regions in all.
fn upgrade_keeping_both_sides(test: &Test, project: &Path) -> u64 {
    let mut conflict_regions = 0;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 4, "the walk makes progress");
        let before = files(project);
        let dry = test.run_in(
            "mlops",
            &["upgrade", "--to", "4", "--dry-run", "--format", "json"],
            project,
            &[],
        );
        dry.success();
        assert_eq!(files(project), before, "the dry run wrote nothing");
        let real = test.run_in(
            "mlops",
            &["upgrade", "--to", "4", "--format", "json"],
            project,
            &[],
        );
        let dry_report: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
        let report: serde_json::Value = serde_json::from_str(&real.stdout).unwrap();
        assert_eq!(
            plan_of(&dry_report),
            plan_of(&report),
            "the dry run is the real run"
        );
        for step in report["steps"].as_array().unwrap() {
            for file in step["files"].as_array().unwrap() {
                conflict_regions += file["conflicts"].as_u64().unwrap();
            }
        }
        if real.code == 0 {
            break;
        }
        real.code(3);
        for path in report["conflicted_paths"].as_array().unwrap() {
            let path = project.join(path.as_str().unwrap());
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, keep_both(&text)).unwrap();
        }
        commit_everything(project, "Resolve the conflicts, keeping both sides");
    }
    conflict_regions
}

fn check_every_edit_survived(project: &Path) {
    let read = |path: &str| std::fs::read_to_string(project.join(path)).unwrap();
    let manifest = read(".mlops/manifest.toml");
    assert!(manifest.contains("\nlevel = 4\n"), "{manifest}");
    // Every edit survived, and every level's change reached the files the team edited.
    let pyproject = read("pyproject.toml");
    assert!(
        pyproject.contains(
            "    \"joblib>=1.4,<2\",\n    \"loguru>=0.7,<1\",\n    \"mlflow>=3.17,<4\",\n"
        ),
        "{pyproject}"
    );
    let train = read("src/demo/train.py");
    for needle in [
        "C=0.5",
        "def add_ratios",
        "(tuned: C=0.5",
        "From level 2, `make train`",
    ] {
        assert!(train.contains(needle), "train.py lacks {needle:?}");
    }
    assert!(read(".github/workflows/ci.yml").contains("  typecheck:\n"));
    assert!(read("tests/test_features.py").contains("def test_add_ratios"));
    let conftest = read("tests/conftest.py");
    for needle in [
        "def engineered_rows",
        "def train_config",
        "def serving_logs",
    ] {
        assert!(conftest.contains(needle), "conftest.py lacks {needle:?}");
    }
    let readme = read("README.md");
    for needle in [
        "predicts whether a biopsy",
        "## Team notes",
        "scratch work in `scratch/`",
        "MLOps maturity level **4",
    ] {
        assert!(readme.contains(needle), "README.md lacks {needle:?}");
    }
    let makefile = read("Makefile");
    for needle in [
        "serve docker-build features\n",
        "\nfeatures: ## show",
        "\ndemo-loop: ##",
    ] {
        assert!(makefile.contains(needle), "Makefile lacks {needle:?}");
    }
    let dockerfile = read("Dockerfile");
    assert!(
        dockerfile.contains("LABEL org.opencontainers.image.source")
            && dockerfile.contains("COPY build/model")
    );
    assert!(read("tests/api/test_app.py").contains("client.get(\"/ready\")"));
    assert!(!project.join("tests/test_app.py").exists());
    assert!(!project.join("notebooks/01-exploration.ipynb").exists());
    assert!(
        read("configs/ingest.yaml")
            .contains("source: https://data.example.com/exports/biopsies.csv")
    );
    let gitignore = read(".gitignore");
    assert!(
        gitignore.contains("/scratch/\n*.parquet\n") && gitignore.contains("/reports/monitoring/")
    );
}

/// Everything parses that Rust can parse; nothing holds a marker.
fn check_everything_parses(project: &Path) {
    for (path, content) in files(project) {
        let text = String::from_utf8_lossy(&content);
        assert!(!text.contains("<<<<<<< "), "{path} holds a conflict marker");
        let extension = Path::new(&path)
            .extension()
            .and_then(|extension| extension.to_str());
        if extension == Some("toml") {
            toml::from_str::<toml::Table>(&text).unwrap_or_else(|error| panic!("{path}: {error}"));
        }
        if matches!(extension, Some("yml" | "yaml")) {
            serde_saphyr::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|error| panic!("{path}: {error}"));
        }
    }
}
