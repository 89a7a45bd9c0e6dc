//! `mlops assess`: repositories of many shapes (the fixtures in `tests/fixtures/assess/`), a
//! generated project at every level, the recorded level, and every refused input.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Output, Test, snapshot_settings};

mod fixtures;

const LEVEL_1: [&str; 4] = [
    "data-gathered-automatically",
    "app-unit-tests",
    "model-integration-tests",
    "app-ci-cd",
];

const LEVEL_2: [&str; 5] = [
    "experiments-tracked",
    "code-and-models-versioned",
    "compute-managed",
    "scoring-versioned-tested",
    "model-ci",
];

/// Copies `tests/fixtures/assess/<shape>` to `<work>/<shape>`. A fixture keeps its ignore file
/// as `gitignore`, so that it does not apply to this repository; the copy gets its real name.
/// Its `expected.toml`, the verdicts it is meant to get, is not part of the repository.
fn copy_fixture(test: &Test, shape: &str) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/assess")
        .join(shape);
    assert!(source.is_dir(), "no fixture `{shape}`");
    copy_dir(&source, &test.path(shape));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "expected.toml"
            && from
                .parent()
                .is_some_and(|parent| parent.ends_with("assess"))
        {
            continue;
        }
        let target_name = if name == "gitignore" {
            ".gitignore".into()
        } else {
            name
        };
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(target_name));
        } else {
            std::fs::copy(entry.path(), to.join(target_name)).unwrap();
        }
    }
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&output.stdout).expect("assess prints JSON")
}

fn met(report: &serde_json::Value) -> Vec<String> {
    report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|criterion| criterion["met"] == true)
        .map(|criterion| criterion["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The paths of the evidence for criterion `id`.
fn evidence(report: &serde_json::Value, id: &str) -> Vec<String> {
    let criterion = report["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|criterion| criterion["id"] == id)
        .unwrap();
    criterion["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|evidence| evidence["path"].as_str().unwrap().to_owned())
        .collect()
}

/// Assesses a fixture, checks its level and the criteria met, snapshots both reports, and
/// returns the JSON one.
fn check_fixture(shape: &str, level: u64, expected_met: &[&str]) -> serde_json::Value {
    let test = Test::new();
    copy_fixture(&test, shape);
    let text_output = test.mlops(&["assess", shape]);
    text_output.success();
    let json_output = test.mlops(&["assess", shape, "--format", "json"]);
    json_output.success();
    let report = json(&json_output);
    assert_eq!(report["level"], level, "{}", text_output.stdout);
    assert_eq!(met(&report), expected_met, "{}", text_output.stdout);
    assert_eq!(report["recorded_level"], serde_json::Value::Null);
    let name = shape.replace('-', "_");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(format!("assess_{name}"), text_output.stdout);
        insta::assert_snapshot!(format!("assess_{name}_json"), json_output.stdout);
    });
    report
}

#[test]
fn a_notebooks_only_repository_is_at_level_0() {
    // The checkpoint copy of a notebook logs to MLflow; it is ignored, and so not evidence.
    let report = check_fixture("notebooks-only", 0, &[]);
    assert!(evidence(&report, "experiments-tracked").is_empty());
    assert_eq!(report["files_read"], 3);
    let next = &report["next_level"];
    assert_eq!(next["level"], 1);
    assert_eq!(next["missing"], serde_json::json!(LEVEL_1));
}

#[test]
fn a_wandb_project_tracks_and_versions_but_stays_at_level_0() {
    let report = check_fixture(
        "wandb-project",
        0,
        &["experiments-tracked", "code-and-models-versioned"],
    );
    assert_eq!(evidence(&report, "experiments-tracked"), ["train.py"]);
    // An untested scoring script is reported as found, not as met.
    assert_eq!(
        evidence(&report, "scoring-versioned-tested"),
        ["predict.py"]
    );
    // `checkpoints/` is ignored by `.gitignore` and `wandb/` is a tracker's store.
    assert!(evidence(&report, "post-deployment-metrics").is_empty());
    assert!(evidence(&report, "automatic-bug-tracking").is_empty());
}

#[test]
fn a_flask_app_with_ci_but_untracked_training_is_at_level_1() {
    let report = check_fixture("flask-app-ci", 1, &LEVEL_1);
    assert_eq!(
        evidence(&report, "app-ci-cd"),
        [".github/workflows/ci.yml", ".github/workflows/deploy.yml"]
    );
    assert_eq!(
        evidence(&report, "data-gathered-automatically"),
        ["scripts/fetch_data.py"]
    );
    // The virtual environment `env/` holds MLflow, which is not the project's.
    assert!(evidence(&report, "experiments-tracked").is_empty());
    assert_eq!(evidence(&report, "code-and-models-versioned"), ["train.py"]);
}

#[test]
fn a_gitlab_project_trains_in_ci_but_releases_by_hand() {
    let mut expected = LEVEL_1.to_vec();
    expected.extend(["compute-managed", "model-ci"]);
    let report = check_fixture("gitlab-ci-project", 1, &expected);
    assert_eq!(evidence(&report, "model-ci"), [".gitlab-ci.yml"]);
    assert_eq!(
        evidence(&report, "automated-model-release"),
        [".gitlab-ci.yml"]
    );
    assert_eq!(
        evidence(&report, "retraining-on-production-metrics"),
        [".gitlab-ci.yml"]
    );
}

#[test]
fn a_cookiecutter_layout_on_jenkins_is_at_level_1() {
    let mut expected = LEVEL_1.to_vec();
    expected.push("scoring-versioned-tested");
    let report = check_fixture("jenkins-cookiecutter", 1, &expected);
    assert_eq!(evidence(&report, "app-ci-cd"), ["Jenkinsfile"]);
    // `src/models/` is code; the top-level `models/` is where model files go, and is skipped.
    assert_eq!(
        evidence(&report, "scoring-versioned-tested"),
        ["src/models/predict_model.py", "tests/test_predict_model.py"]
    );
}

#[test]
fn a_dvc_and_mlflow_pipeline_is_at_level_2() {
    let mut expected = LEVEL_1.to_vec();
    expected.extend(LEVEL_2);
    let report = check_fixture("dvc-mlflow-pipeline", 2, &expected);
    assert_eq!(
        evidence(&report, "data-gathered-automatically"),
        ["data/raw.dvc", "dvc.yaml"]
    );
    assert_eq!(evidence(&report, "model-ci"), [".github/workflows/cml.yml"]);
    let next = &report["next_level"];
    assert_eq!(next["level"], 3);
    assert_eq!(
        next["missing"],
        serde_json::json!([
            "automated-model-release",
            "release-tests-per-model",
            "ab-metrics"
        ])
    );
}

#[test]
fn an_azure_ml_project_with_automatic_release_is_at_level_3() {
    let mut expected = LEVEL_1.to_vec();
    expected.extend(LEVEL_2);
    expected.extend([
        "automated-model-release",
        "release-tests-per-model",
        "ab-metrics",
    ]);
    let report = check_fixture("azure-ml-project", 3, &expected);
    assert_eq!(
        evidence(&report, "automated-model-release"),
        [".azure-pipelines/release.yml"]
    );
    assert_eq!(
        evidence(&report, "release-tests-per-model"),
        [
            "tests/release/test_endpoint.py",
            ".azure-pipelines/release.yml"
        ]
    );
}

#[test]
fn a_github_project_with_the_whole_loop_is_at_level_4() {
    let every: Vec<&str> = report_ids();
    let report = check_fixture("github-mlops-loop", 4, &every);
    assert_eq!(report["next_level"], serde_json::Value::Null);
    assert_eq!(
        evidence(&report, "retraining-on-production-metrics")[0],
        ".github/workflows/monitor.yml"
    );
    assert_eq!(
        evidence(&report, "automatic-bug-tracking"),
        ["src/churn/issues.py"]
    );
}

/// Every criterion id, in order.
fn report_ids() -> Vec<&'static str> {
    let mut ids = LEVEL_1.to_vec();
    ids.extend(LEVEL_2);
    ids.extend([
        "automated-model-release",
        "release-tests-per-model",
        "ab-metrics",
    ]);
    ids.extend([
        "retraining-on-production-metrics",
        "post-deployment-metrics",
        "compute-tracked",
        "automatic-bug-tracking",
    ]);
    ids
}

fn levels(test: &Test) -> serde_json::Value {
    let output = test.mlops(&["levels", "--format", "json"]);
    output.success();
    json(&output)
}

#[test]
fn a_generated_project_assesses_as_its_level_at_every_level() {
    for ci_provider in ["github", "gitlab", "azure"] {
        assesses_as_its_level(ci_provider, "local");
    }
    assesses_as_its_level("github", "ray");
}

fn assesses_as_its_level(ci_provider: &str, compute: &str) {
    let test = Test::new();
    let levels = levels(&test);
    let levels = levels.as_array().unwrap();
    assert!(levels.len() >= 2);
    let provider_answer = format!("ci_provider={ci_provider}");
    let compute_answer = format!("compute={compute}");
    let mut claimed: Vec<String> = Vec::new();
    for bundle in levels {
        let level = bundle["level"].as_u64().unwrap();
        claimed.extend(
            bundle["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_owned()),
        );
        let name = format!("demo-{level}");
        let level_text = level.to_string();
        // The highest level gets a git repository too, so that `.git` is walked past.
        let mut args = vec![
            "new",
            name.as_str(),
            "--level",
            &level_text,
            "--no-input",
            "--set",
            &provider_answer,
            "--set",
            &compute_answer,
        ];
        if level + 1 < u64::try_from(levels.len()).unwrap() {
            args.push("--no-git");
        }
        test.mlops(&args).success();
        let output = test.mlops(&["assess", &name, "--format", "json"]);
        output.success();
        let report = json(&output);
        let text_output = test.mlops(&["assess", &name]).stdout;
        assert_eq!(
            report["level"], level,
            "{ci_provider}, {compute}, level {level}:\n{text_output}"
        );
        assert_eq!(report["recorded_level"], level);
        assert_eq!(report["manifest_error"], serde_json::Value::Null);
        let met = met(&report);
        for id in &claimed {
            assert!(
                met.contains(id),
                "{ci_provider}, {compute}, level {level} does not meet `{id}`:\n{text_output}"
            );
        }
    }
}

#[test]
fn a_level_1_project_report() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "1", "--no-input", "--no-git"])
        .success();
    let output = test.mlops(&["assess", "demo"]);
    output.success();
    snapshot_settings().bind(|| insta::assert_snapshot!("assess_generated_level_1", output.stdout));
}

#[test]
fn the_current_directory_is_the_default() {
    let test = Test::new();
    copy_fixture(&test, "flask-app-ci");
    let output = test
        .command("mlops")
        .args(["assess", "--format", "json"])
        .current_dir(test.path("flask-app-ci"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["path"], ".");
    assert_eq!(report["level"], 1);
}

#[test]
fn a_corrupt_manifest_is_reported_and_the_repository_still_assessed() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "1", "--no-input", "--no-git"])
        .success();
    test.write(
        "demo/.mlops/manifest.toml",
        "schema_version = 1\nlevel = \n",
    );
    let output = test.mlops(&["assess", "demo", "--format", "json"]);
    output.success();
    let report = json(&output);
    assert_eq!(report["level"], 1);
    assert_eq!(report["recorded_level"], serde_json::Value::Null);
    assert_eq!(
        report["manifest_error"],
        "corrupt manifest `demo/.mlops/manifest.toml`: line 2: string values must be quoted, expected literal string"
    );
    let text_output = test.mlops(&["assess", "demo"]);
    text_output.success();
    assert!(text_output.stdout.lines().nth(1).unwrap().starts_with(
        "recorded level: unknown, corrupt manifest `demo/.mlops/manifest.toml`: line 2:"
    ));
}

#[test]
fn refused_inputs() {
    let test = Test::new();
    test.write("file.txt", "not a directory\n");
    // The same mistake is a usage error for every command that takes a directory.
    let missing = test.mlops(&["assess", "missing"]);
    missing.code(2);
    let not_a_directory = test.mlops(&["assess", "file.txt"]);
    not_a_directory.code(2);
    test.mlops(&["upgrade", "file.txt"]).code(2);
    let bad_format = test.mlops(&["assess", ".", "--format", "yaml"]);
    bad_format.code(2);
    let two_paths = test.mlops(&["assess", "a", "b"]);
    two_paths.code(2);
    assert_eq!(missing.stdout, "");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("assess_error_missing", missing.stderr);
        insta::assert_snapshot!("assess_error_not_a_directory", not_a_directory.stderr);
        insta::assert_snapshot!("assess_error_bad_format", bad_format.stderr);
    });
}

#[test]
fn help_documents_the_command() {
    let test = Test::new();
    let help = test.mlops(&["assess", "--help"]);
    help.success();
    assert!(help.stdout.contains("--format"));
    assert!(help.stdout.contains("Exit codes:"));
    snapshot_settings().bind(|| insta::assert_snapshot!("help_assess", help.stdout));
}

/// Code that says `α = 0.1  # lr` or `café = "x"`: ordinary Python, in a script and a notebook.
const NON_ASCII_SCRIPT: &str = "import mlflow  # suivi des expériences\nα = 0.1  # lr\ncafé = \"x\"\nmlflow.log_metric(\"précision\", α)  # ✓\n";

fn non_ascii_notebook() -> String {
    serde_json::json!({
        "cells": [
            {"cell_type": "markdown", "source": ["# Données\n"]},
            {"cell_type": "code", "source": ["α = 0.1  # lr\n", "café = \"x\"  # é\n", "import wandb\n"]}
        ]
    })
    .to_string()
}

#[test]
fn text_that_is_not_ascii_before_comments_and_quotes_is_assessed() {
    let test = Test::new();
    test.write("repo/src/train.py", NON_ASCII_SCRIPT);
    test.write("repo/notebooks/étude.ipynb", &non_ascii_notebook());
    let output = test.mlops(&["assess", "repo", "--format", "json"]);
    output.success();
    let report = json(&output);
    assert_eq!(report["files_read"], 2);
    assert_eq!(evidence(&report, "experiments-tracked"), ["src/train.py"]);
    test.mlops(&["assess", "repo"]).success();
}

/// Runs `mlops ARGS` in the work directory with at most `memory_mib` of address space (on unix)
/// and kills it after `deadline`: on a hostile repository, a test must fail rather than hang or
/// exhaust the machine.
fn run_bounded(test: &Test, args: &[&str], memory_mib: u64, deadline: Duration) -> Output {
    let binary = env!("CARGO_BIN_EXE_mlops");
    let mut command = if cfg!(unix) {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!(
                "ulimit -v {}; exec \"$0\" \"$@\"",
                memory_mib * 1024
            ))
            .arg(binary);
        command
    } else {
        Command::new(binary)
    };
    let stdout_path = test.dir.path().join("bounded.stdout");
    let stderr_path = test.dir.path().join("bounded.stderr");
    let mut child = command
        .args(args)
        .current_dir(test.work())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", test.dir.path().join("home"))
        .env("NO_COLOR", "1")
        // One malloc arena per thread would reserve far more address space than is used.
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`mlops {}` still runs after {deadline:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: std::fs::read_to_string(stdout_path).unwrap(),
        stderr: std::fs::read_to_string(stderr_path).unwrap(),
    }
}

/// A Makefile of 64 KiB in which one rule names 2,500 targets and 2,500 prerequisites, which
/// name the first ones again in another rule, each with a recipe of 100 lines; and 30 pipelines
/// that run three of the targets.
fn write_makefile_of_thousands_of_targets(test: &Test, repo: &str) {
    let words = |range: std::ops::Range<usize>| -> String {
        range
            .map(|index| format!("t{index}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let recipe = (0..100)
        .map(|index| format!("\tpython -m steps.step_{index}\n"))
        .collect::<Vec<_>>()
        .concat();
    let (first, second) = (words(0..2_500), words(2_500..5_000));
    let makefile = format!(
        "ci:\n\tpytest\n\tdocker push registry/app\n{first}: {second}\n{recipe}{second}: {first}\n{recipe}"
    );
    assert!(makefile.len() <= 64 * 1024, "{} bytes", makefile.len());
    test.write(&format!("{repo}/Makefile"), &makefile);
    for index in 0..30 {
        test.write(
            &format!("{repo}/.github/workflows/ci_{index}.yml"),
            "on: push\njobs:\n  ci:\n    steps:\n      - run: make t0 t1 t2\n      - run: make ci\n",
        );
    }
}

#[test]
fn a_makefile_of_thousands_of_targets_is_expanded_within_bounds() {
    let test = Test::new();
    write_makefile_of_thousands_of_targets(&test, "repo");
    let output = run_bounded(
        &test,
        &["assess", "repo", "--format", "json"],
        1024,
        Duration::from_secs(60),
    );
    output.success();
    let report = json(&output);
    // The pipelines still run what `make ci` runs: the tests and a push.
    assert_eq!(evidence(&report, "app-ci-cd").len(), 30);
    assert!(met(&report).contains(&"app-ci-cd".to_owned()));
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn fifos_devices_and_links_to_them_are_neither_waited_on_nor_read() {
    use std::os::unix::fs::symlink;
    let test = Test::new();
    test.write(
        "repo/tests/test_app.py",
        "def test_health():\n    assert health() == \"ok\"\n",
    );
    mkfifo(&test.path("repo/train.py"));
    symlink("/dev/zero", test.path("repo/zero.py")).unwrap();
    symlink("/dev/urandom", test.path("repo/requirements.txt")).unwrap();
    mkfifo(&test.path("repo/pipelines/.gitignore"));
    test.write("repo/pipelines/train.py", "import mlflow\n");
    mkfifo(&test.path("repo/.mlops/manifest.toml"));
    let output = run_bounded(
        &test,
        &["assess", "repo", "--format", "json"],
        1024,
        Duration::from_secs(60),
    );
    output.success();
    let report = json(&output);
    assert_eq!(report["files_read"], 1);
    assert_eq!(met(&report), ["app-unit-tests"]);
    assert_eq!(
        report["manifest_error"],
        "corrupt manifest `repo/.mlops/manifest.toml`: it is a FIFO"
    );
    std::fs::remove_file(test.path("repo/.mlops/manifest.toml")).unwrap();
    symlink("/dev/zero", test.path("repo/.mlops/manifest.toml")).unwrap();
    let output = run_bounded(&test, &["assess", "repo"], 1024, Duration::from_secs(60));
    output.success();
    assert_eq!(
        output.stdout.lines().nth(1).unwrap(),
        "recorded level: unknown, corrupt manifest `repo/.mlops/manifest.toml`: it is a symlink, which the manifest never is"
    );
}

#[cfg(unix)]
#[test]
fn an_ignore_file_at_the_root_that_is_a_fifo_is_an_error() {
    let test = Test::new();
    test.write("repo/train.py", "import mlflow\n");
    mkfifo(&test.path("repo/.gitignore"));
    let output = run_bounded(&test, &["assess", "repo"], 1024, Duration::from_secs(60));
    output.code(1);
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("assess_error_ignore_file_fifo", output.stderr));
}

#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_repository_are_not_followed() {
    use std::os::unix::fs::symlink;
    let test = Test::new();
    copy_fixture(&test, "github-mlops-loop");
    test.write("repo/README.md", "A repository of links\n");
    for name in ["src", "tests", "configs", "Makefile", ".github"] {
        symlink(
            test.path("github-mlops-loop").join(name),
            test.path("repo").join(name),
        )
        .unwrap();
    }
    test.write(
        "elsewhere/raw.dvc",
        "deps:\n- path: https://example.com/raw.csv\nouts:\n- path: raw.csv\n",
    );
    symlink(test.path("elsewhere"), test.path("repo/data")).unwrap();
    let output = test.mlops(&["assess", "repo", "--format", "json"]);
    output.success();
    let report = json(&output);
    assert_eq!(report["files_read"], 0);
    assert_eq!(report["level"], 0);
    assert!(met(&report).is_empty());
    // The same files, not behind links, are at level 4.
    let original = json(&test.mlops(&["assess", "github-mlops-loop", "--format", "json"]));
    assert_eq!(original["level"], 4);
}

#[test]
fn explain_says_what_was_read_counted_and_rejected() {
    let test = Test::new();
    copy_fixture(&test, "cookiecutter-ds-v2");
    let delivery = test.mlops(&["assess", "cookiecutter-ds-v2", "--explain", "app-ci-cd"]);
    delivery.success();
    let tests = test.mlops(&[
        "assess",
        "cookiecutter-ds-v2",
        "--explain",
        "app-unit-tests",
    ]);
    tests.success();
    // The image built without a push and the documentation site are rejected, with why.
    assert!(
        delivery.stdout.contains("builds an image"),
        "{}",
        delivery.stdout
    );
    assert!(
        tests
            .stdout
            .contains("tests/test_data.py: 1 test, each skipped"),
        "{}",
        tests.stdout
    );
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("assess_explain_app_ci_cd", delivery.stdout);
        insta::assert_snapshot!("assess_explain_app_unit_tests", tests.stdout);
    });
    // The JSON report carries the same, for every criterion.
    let report = json(&test.mlops(&["assess", "cookiecutter-ds-v2", "--format", "json"]));
    let unit_tests = &report["criteria"][1];
    assert_eq!(unit_tests["id"], "app-unit-tests");
    assert_eq!(unit_tests["rejected"][0]["path"], "tests/test_data.py");
    assert_eq!(unit_tests["read"][0]["count"], 1);
    let unknown = test.mlops(&["assess", "cookiecutter-ds-v2", "--explain", "tests"]);
    unknown.code(2);
    assert!(
        unknown.stderr.contains("app-unit-tests"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn files_holding_conflict_markers_are_reported_as_problems() {
    let test = Test::new();
    copy_fixture(&test, "flask-app-ci");
    let clean = json(&test.mlops(&["assess", "flask-app-ci", "--format", "json"]));
    assert_eq!(clean["problems"], serde_json::json!([]));
    test.write(
        "flask-app-ci/pyproject.toml",
        "[project]\n<<<<<<< yours\nname = \"flask-app\"\n||||||| level 0\n=======\nname = \"flask-app-ci\"\n>>>>>>> level 1\n",
    );
    test.write(
        "flask-app-ci/README.md",
        "# App\n<<<<<<< yours\nOurs.\n=======\nTheirs.\n>>>>>>> level 1\n",
    );
    // A heading underlined with `=======` is no conflict.
    test.write(
        "flask-app-ci/docs/guide.py",
        "TITLE = '''\nGuide\n=======\n'''\n",
    );
    let report = json(&test.mlops(&["assess", "flask-app-ci", "--format", "json"]));
    let paths: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|problem| problem["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["README.md", "pyproject.toml"]);
    assert_eq!(report["level"], clean["level"]);
    let text = test.mlops(&["assess", "flask-app-ci"]);
    text.success();
    let lines: Vec<&str> = text.stdout.lines().take(5).collect();
    assert_eq!(
        lines[2..],
        [
            "problems:",
            "  README.md: holds conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`) from a merge never resolved: resolve them, then assess again",
            "  pyproject.toml: holds conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`) from a merge never resolved: resolve them, then assess again",
        ]
    );
}
