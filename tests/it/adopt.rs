//! `mlops upgrade` on repositories without a manifest: adoption at the assessed level, answers
//! derived from the repository, and the promise that no pre-existing file changes unless the
//! plan reports a conflict for it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{Test, commit_everything, files};

/// Copies a repository fixture of `tests/fixtures/assess/` into `<work>/<name>` as a git
/// repository with one commit (a fixture's `gitignore` becomes `.gitignore`).
fn repository_from_fixture(test: &Test, shape: &str) -> std::path::PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/assess")
        .join(shape);
    let destination = test.path(shape);
    for (relative, content) in files(&source) {
        if relative == "expected.toml" {
            continue;
        }
        let relative = if relative == "gitignore" {
            ".gitignore".to_owned()
        } else {
            relative
        };
        let path = destination.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    commit_everything(&destination, "The team's repository");
    destination
}

/// Every file that existed before and differs after must be reported as conflicted (or, with
/// `merged_too`, as merged: a 3-way merge the plan shows).
fn check_no_silent_change(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    report: &serde_json::Value,
    merged_too: bool,
) {
    let mut conflicted: Vec<&str> = report["conflicted_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| path.as_str().unwrap())
        .collect();
    if merged_too {
        for step in report["steps"].as_array().unwrap() {
            for file in step["files"].as_array().unwrap() {
                if file["action"] == "merge" {
                    conflicted.push(file["path"].as_str().unwrap());
                }
            }
        }
    }
    for (path, content) in before {
        let now = after.get(path);
        assert!(now.is_some(), "`{path}` was deleted");
        if now != Some(content) {
            assert!(
                conflicted.contains(&path.as_str()),
                "`{path}` changed without a conflict being reported"
            );
        }
    }
}

#[test]
fn a_notebooks_repository_is_adopted_at_level_0_and_taken_to_level_1() {
    let test = Test::new();
    let root = repository_from_fixture(&test, "notebooks-only");
    let before = files(&root);

    let dry = test.run_in(
        "mlops",
        &["upgrade", "--no-input", "--dry-run", "--format", "json"],
        &root,
        &[],
    );
    dry.success();
    assert_eq!(files(&root), before, "the dry run wrote nothing");

    let output = test.run_in(
        "mlops",
        &["upgrade", "--no-input", "--format", "json"],
        &root,
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["adopted_at_level"], 0);
    assert_eq!(report["from_level"], 0);
    assert_eq!(report["to_level"], 1);
    let after = files(&root);
    check_no_silent_change(&before, &after, &report, false);
    // The team's own exploration notebook sits where the templates put theirs: a conflict, so
    // the code exits 3 and the notebook keeps the team's cells between the markers.
    output.code(3);
    assert!(
        report["conflicted_paths"]
            .as_array()
            .unwrap()
            .iter()
            .any(|path| path == "notebooks/01-exploration.ipynb")
    );
    assert!(
        after.contains_key("src/notebooks_only/app.py"),
        "level 1's application was created"
    );
    let manifest = std::str::from_utf8(&after[".mlops/manifest.toml"]).unwrap();
    assert!(manifest.contains("action = \"adopt\""));
    assert_eq!(crate::support::manifest_level(manifest), 1);
    assert_eq!(after["requirements.txt"], before["requirements.txt"]);
}

#[test]
fn answers_come_from_pyproject_and_the_src_layout() {
    let test = Test::new();
    let root = test.path("repo");
    std::fs::create_dir_all(root.join("src/churn")).unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"churn-model\"\ndescription = \"Predicts churn\"\nrequires-python = \">=3.12\"\n\
         authors = [{ name = \"Ada\", email = \"ada@example.com\" }]\n",
    )
    .unwrap();
    std::fs::write(root.join("src/churn/__init__.py"), "").unwrap();
    commit_everything(&root, "start");

    let output = test.run_in(
        "mlops",
        &["upgrade", "--no-input", "--set", "task=regression"],
        &root,
        &[],
    );
    let after = files(&root);
    let manifest: toml::Table =
        toml::from_str(std::str::from_utf8(&after[".mlops/manifest.toml"]).unwrap()).unwrap();
    let answers = &manifest["answers"];
    assert_eq!(answers["project_name"].as_str(), Some("churn-model"));
    assert_eq!(answers["package_name"].as_str(), Some("churn"));
    assert_eq!(answers["description"].as_str(), Some("Predicts churn"));
    assert_eq!(answers["author"].as_str(), Some("Ada"));
    assert_eq!(answers["python_version"].as_str(), Some("3.12"));
    assert_eq!(answers["task"].as_str(), Some("regression"));
    assert!(after.contains_key("src/churn/train.py"));
    // The team's empty `__init__.py` differs from the generated one: reported, and written with
    // markers around both sides, the team's (empty) first. (A merge without a base once took the
    // template's content as a clean merge, since an empty file is contained in any other.)
    output.code(3);
    assert!(
        output
            .stdout
            .contains("conflict         src/churn/__init__.py"),
        "{}",
        output.stdout
    );
    let init = std::str::from_utf8(&after["src/churn/__init__.py"]).unwrap();
    assert!(
        init.starts_with("<<<<<<< yours\n||||||| level 0\n=======\n"),
        "{init}"
    );
    assert!(init.trim_end().ends_with(">>>>>>> level 1"), "{init}");
    // pyproject.toml differs too, and is never overwritten.
    let pyproject = std::str::from_utf8(&after["pyproject.toml"]).unwrap();
    assert!(pyproject.contains("<<<<<<< yours") && pyproject.contains("name = \"churn-model\""));
    // `mlops assess` names the files the adoption left with conflict markers.
    let assessed = test.run_in("mlops", &["assess", "--format", "json"], &root, &[]);
    assessed.success();
    let report: serde_json::Value = serde_json::from_str(&assessed.stdout).unwrap();
    let problems: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["path"].as_str().unwrap())
        .collect();
    assert_eq!(problems, ["pyproject.toml", "src/churn/__init__.py"]);
}

#[test]
fn set_is_refused_when_the_project_has_a_manifest() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "0", "--no-input"])
        .success();
    let output = test.run_in(
        "mlops",
        &["upgrade", "--set", "task=regression"],
        &test.path("demo"),
        &[],
    );
    output.code(2);
    assert!(
        output
            .stderr
            .contains("apply only when adopting a repository without a manifest"),
        "{}",
        output.stderr
    );
}

#[test]
fn adopting_then_upgrading_again_never_changes_a_file_silently() {
    let test = Test::new();
    let root = repository_from_fixture(&test, "notebooks-only");
    let before = files(&root);
    let adopted = test.run_in(
        "mlops",
        &["upgrade", "--no-input", "--format", "json"],
        &root,
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&adopted.stdout).unwrap();
    check_no_silent_change(&before, &files(&root), &report, false);

    // The team resolves every conflict by keeping their side, and commits.
    for path in report["conflicted_paths"].as_array().unwrap() {
        let path = root.join(path.as_str().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, keep_yours(&text)).unwrap();
    }
    commit_everything(&root, "Resolve the adoption");
    let resolved = files(&root);
    assert_eq!(
        resolved["notebooks/01-exploration.ipynb"],
        before["notebooks/01-exploration.ipynb"]
    );

    // The next upgrade starts from the manifest the adoption wrote.
    let levels = test.mlops(&["levels", "--format", "json"]);
    let highest = serde_json::from_str::<serde_json::Value>(&levels.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
        - 1;
    let next = test.run_in("mlops", &["upgrade", "--format", "json"], &root, &[]);
    if highest <= 1 {
        next.code(4);
        assert!(
            next.stderr.contains("already at level 1"),
            "{}",
            next.stderr
        );
        return;
    }
    let report: serde_json::Value = serde_json::from_str(&next.stdout).unwrap();
    assert_eq!(report["adopted_at_level"], serde_json::Value::Null);
    assert_eq!(report["from_level"], 1);
    // Files the adoption generated are the generator's to update; the team's own files at
    // generated paths change only by a merge or a conflict the plan reports (the template's new
    // `.gitignore` lines are merged into the team's own, as a set of lines).
    let teams_files: BTreeMap<String, Vec<u8>> = before
        .keys()
        .map(|path| (path.clone(), resolved[path].clone()))
        .collect();
    check_no_silent_change(&teams_files, &files(&root), &report, true);
}

/// A conflicted text with every conflict resolved to the user's side.
fn keep_yours(text: &str) -> String {
    let mut kept = String::new();
    let mut section = "outside";
    for line in text.split_inclusive('\n') {
        if line.starts_with("<<<<<<< ") {
            section = "yours";
        } else if line.starts_with("||||||| ") {
            section = "base";
        } else if line.starts_with("=======") && section != "outside" {
            section = "theirs";
        } else if line.starts_with(">>>>>>> ") {
            section = "outside";
        } else if section == "outside" || section == "yours" {
            kept.push_str(line);
        }
    }
    kept
}

#[test]
fn a_repository_with_code_that_is_not_ascii_is_adopted() {
    let test = Test::new();
    let root = test.path("repo");
    std::fs::create_dir_all(root.join("notebooks")).unwrap();
    std::fs::write(
        root.join("train.py"),
        "α = 0.1  # lr\ncafé = \"x\"\nprint(café, α)  # é\n",
    )
    .unwrap();
    std::fs::write(
        root.join("notebooks/étude.ipynb"),
        r#"{"cells": [{"cell_type": "code", "source": ["α = 0.1  # lr\n", "café = \"x\""]}]}"#,
    )
    .unwrap();
    commit_everything(&root, "start");
    let before = files(&root);
    let output = test.run_in(
        "mlops",
        &["upgrade", "--no-input", "--dry-run", "--format", "json"],
        &root,
        &[],
    );
    output.success();
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["adopted_at_level"], 0);
    assert_eq!(files(&root), before, "the dry run wrote nothing");
}

/// A team's repository with its package at the top level, its own FastAPI app, a DVC pipeline
/// that gathers the data, a GitLab pipeline that runs the tests, and an `origin` remote.
fn teams_repository(test: &Test) -> std::path::PathBuf {
    let root = test.path("checkout");
    let write = |relative: &str, content: &str| {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    write("churn/__init__.py", "");
    write(
        "churn/fit.py",
        "from sklearn.linear_model import LogisticRegression\n\ndef fit(frame):\n    return LogisticRegression().fit(frame[['a']], frame['y'])\n",
    );
    write(
        "churn/download.py",
        "import requests\n\nopen('data/raw.csv', 'wb').write(requests.get(URL, timeout=60).content)\n",
    );
    write(
        "main.py",
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/health')\ndef health():\n    return {'ok': True}\n",
    );
    write(
        "dvc.yaml",
        "stages:\n  download:\n    cmd: python churn/download.py\n    outs: [data/raw.csv]\n",
    );
    write(".gitlab-ci.yml", "test:\n  script:\n    - pytest\n");
    write(
        "tests/test_fit.py",
        "def test_fit():\n    assert fit is not None\n",
    );
    commit_everything(&root, "The team's repository");
    let repository = git2::Repository::open(&root).unwrap();
    repository
        .remote("origin", "git@github.com:acme/churn-model.git")
        .unwrap();
    root
}

#[test]
fn the_teams_package_and_files_for_the_same_roles_are_used_not_copied() {
    let test = Test::new();
    let root = teams_repository(&test);
    let before = files(&root);
    let output = test.run_in(
        "mlops",
        &[
            "upgrade",
            "--no-input",
            "--set",
            "task=classification",
            "--format",
            "json",
        ],
        &root,
        &[],
    );
    output.code(3);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let after = files(&root);
    check_no_silent_change(&before, &after, &report, false);
    // The package is the team's top-level `churn/`: no second `src/churn/`.
    assert!(
        after.keys().all(|path| !path.starts_with("src/")),
        "{:?}",
        after.keys()
    );
    assert!(after.contains_key("churn/data/__init__.py"));
    let init = std::str::from_utf8(&after["churn/__init__.py"]).unwrap();
    assert!(init.starts_with("<<<<<<< yours\n"), "{init}");
    // The app, the data pipeline and the CI are the team's: the templates' are not added.
    for path in ["main.py", "dvc.yaml", ".gitlab-ci.yml", "churn/download.py"] {
        assert_eq!(after[path], before[path], "{path}");
    }
    for path in [
        "churn/app.py",
        "tests/test_app.py",
        "churn/data/ingest.py",
        "configs/ingest.yaml",
        ".github/workflows/ci.yml",
    ] {
        assert!(!after.contains_key(path), "{path} was added");
    }
    let kept: Vec<(&str, &str)> = report["steps"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|file| file["action"] == "keep")
        .map(|file| {
            (
                file["path"].as_str().unwrap(),
                file["moved_to"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            (".github/workflows/ci.yml", ".gitlab-ci.yml"),
            ("configs/ingest.yaml", "dvc.yaml"),
            ("src/churn/app.py", "main.py"),
            ("src/churn/data/ingest.py", "dvc.yaml"),
            ("tests/test_app.py", "main.py"),
            ("tests/test_ingest.py", "dvc.yaml"),
        ]
    );
    // Without metadata, the name is the remote's.
    let manifest: toml::Table =
        toml::from_str(std::str::from_utf8(&after[".mlops/manifest.toml"]).unwrap()).unwrap();
    assert_eq!(
        manifest["answers"]["project_name"].as_str(),
        Some("churn-model")
    );
    assert_eq!(manifest["answers"]["package_name"].as_str(), Some("churn"));

    // The next level's modules go into the team's package too, in a later run.
    for path in report["conflicted_paths"].as_array().unwrap() {
        let path = root.join(path.as_str().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, keep_yours(&text)).unwrap();
    }
    commit_everything(&root, "Resolve the adoption");
    let update = test.run_in("mlops", &["update", "--check"], &root, &[]);
    update.success();
    let next = test.run_in("mlops", &["upgrade", "--format", "json"], &root, &[]);
    let report: serde_json::Value = serde_json::from_str(&next.stdout).unwrap();
    let after = files(&root);
    assert!(
        after.keys().all(|path| !path.starts_with("src/")),
        "{:?}",
        after.keys()
    );
    assert!(after.contains_key("churn/pipeline.py"), "{}", next.stdout);
    assert_eq!(after["main.py"], before["main.py"]);
    assert!(!after.contains_key("configs/ingest.yaml"));
    assert_eq!(report["from_level"], 1);
}
