//! `mlops new`: generating, dry runs, answers, git, and every way bad input is refused.

use std::path::Path;

use crate::support::{Test, files, make_read_only, snapshot_settings};

fn manifest(root: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(root.join(".mlops/manifest.toml")).unwrap()).unwrap()
}

#[test]
fn generates_a_level_1_project_with_a_first_commit() {
    let test = Test::new();
    let output = test.mlops(&["new", "demo", "--level", "1", "--no-input"]);
    output.success();
    assert!(
        output
            .stdout
            .starts_with("created `demo` at MLOps level 1 (DevOps but no MLOps): ")
    );
    assert!(output.stdout.contains("next:\n  cd demo\n"));

    let root = test.path("demo");
    for path in [
        "src/demo/app.py",
        "src/demo/data/ingest.py",
        "tests/test_app.py",
        "Dockerfile",
        ".github/workflows/ci.yml",
    ] {
        assert!(root.join(path).is_file(), "{path} is missing");
    }
    let repository = git2::Repository::open(&root).unwrap();
    let head = repository.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.parent_count(), 0);
    assert!(
        head.message()
            .unwrap()
            .starts_with("Generate MLOps level 1 project")
    );
    assert_eq!(head.author().name().ok(), Some("Test User"));
    let statuses = repository
        .statuses(Some(
            git2::StatusOptions::new()
                .include_untracked(true)
                .include_ignored(false),
        ))
        .unwrap();
    assert!(
        statuses.is_empty(),
        "every generated file is committed and nothing is left over"
    );
    assert_eq!(
        head.tree()
            .unwrap()
            .get_path(Path::new("data/raw/.gitkeep"))
            .map(|_| ())
            .ok(),
        Some(())
    );
    // The first commit is written as one pack, and git itself finds the repository sound.
    let objects = root.join(".git/objects");
    let packs = std::fs::read_dir(objects.join("pack"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().extension() == Some("pack".as_ref()))
        .count();
    assert_eq!(packs, 1);
    let fsck = std::process::Command::new("git")
        .args(["fsck", "--strict", "--no-dangling"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        fsck.status.success() && fsck.stdout.is_empty() && fsck.stderr.is_empty(),
        "git fsck: {}{}",
        String::from_utf8_lossy(&fsck.stdout),
        String::from_utf8_lossy(&fsck.stderr)
    );
}

#[test]
fn the_manifest_records_level_answers_and_the_blob_of_every_file() {
    let test = Test::new();
    test.mlops(&[
        "new",
        "Fraud Detector",
        "--level",
        "1",
        "--no-input",
        "--no-git",
    ])
    .success();
    let root = test.path("Fraud Detector");
    let manifest = manifest(&root);
    assert_eq!(manifest["schema_version"].as_integer(), Some(1));
    assert_eq!(manifest["level"].as_integer(), Some(1));
    assert_eq!(
        manifest["answers"]["project_name"].as_str(),
        Some("Fraud Detector")
    );
    assert_eq!(
        manifest["answers"]["package_name"].as_str(),
        Some("fraud_detector")
    );
    assert_eq!(manifest["answers"]["author"].as_str(), Some("Test User"));

    let on_disk = files(&root);
    let recorded = manifest["files"].as_table().unwrap();
    assert_eq!(
        recorded.len() + 1,
        on_disk.len(),
        "every file but the manifest is recorded"
    );
    for (path, record) in recorded {
        let content = &on_disk[path];
        let blob = git2::Oid::hash_object(git2::ObjectType::Blob, content)
            .unwrap()
            .to_string();
        assert_eq!(record["blob"].as_str(), Some(blob.as_str()), "{path}");
    }
    assert_eq!(
        recorded["notebooks/01-exploration.ipynb"]["ownership"].as_str(),
        Some("seeded")
    );
    assert_eq!(
        recorded["src/fraud_detector/app.py"]["ownership"].as_str(),
        Some("generated")
    );
    assert_eq!(
        recorded["src/fraud_detector/app.py"]["level"].as_integer(),
        Some(1)
    );
}

#[test]
fn dry_run_lists_files_with_sizes_and_writes_nothing() {
    let test = Test::new();
    let output = test.mlops(&["new", "demo", "--level", "0", "--no-input", "--dry-run"]);
    output.success();
    assert!(!test.path("demo").exists());
    assert!(output.stdout.contains("  src/demo/train.py "));
    assert!(output.stdout.ends_with("nothing was written (dry run)\n"));
    // The manifest records the author from git config; the size column depends on it.
    snapshot_settings().bind(|| insta::assert_snapshot!("new_dry_run_level_0", output.stdout));
}

#[test]
fn dry_run_as_json() {
    let test = Test::new();
    let output = test.mlops(&[
        "new",
        "demo",
        "--level",
        "1",
        "--no-input",
        "--dry-run",
        "--format",
        "json",
    ]);
    output.success();
    assert!(!test.path("demo").exists());
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["action"], "new");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["level"], 1);
    assert_eq!(report["git"], "init");
    assert_eq!(report["answers"]["task"], "classification");
    let files = report["files"].as_array().unwrap();
    let sizes: u64 = files
        .iter()
        .map(|file| file["size"].as_u64().unwrap())
        .sum();
    assert_eq!(report["total_size"].as_u64(), Some(sizes));
    let notebook = files
        .iter()
        .find(|file| file["path"] == "notebooks/01-exploration.ipynb")
        .unwrap();
    assert_eq!(notebook["ownership"], "seeded");
    snapshot_settings().bind(|| insta::assert_snapshot!("new_dry_run_level_1_json", output.stdout));
}

#[test]
fn a_real_run_with_json_output_describes_what_it_wrote() {
    let test = Test::new();
    let output = test.mlops(&[
        "new",
        "demo",
        "--level",
        "0",
        "--no-input",
        "--format",
        "json",
    ]);
    output.success();
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["dry_run"], false);
    for file in report["files"].as_array().unwrap() {
        let path = test.path("demo").join(file["path"].as_str().unwrap());
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            file["size"].as_u64().unwrap()
        );
    }
}

#[test]
fn inside_a_work_tree_no_repository_is_created() {
    let test = Test::new();
    git2::Repository::init(test.work()).unwrap();
    let output = test.mlops(&["new", "demo", "--level", "0", "--no-input"]);
    output.success();
    assert!(
        output
            .stdout
            .contains("inside an existing git work tree: nothing committed")
    );
    assert!(!test.path("demo/.git").exists());
}

#[test]
fn no_git_means_no_repository() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "0", "--no-input", "--no-git"])
        .success();
    assert!(test.path("demo/README.md").is_file());
    assert!(!test.path("demo/.git").exists());
}

#[test]
fn an_empty_target_directory_is_filled() {
    let test = Test::new();
    std::fs::create_dir(test.path("demo")).unwrap();
    test.mlops(&["new", "demo", "--level", "0", "--no-input", "--no-git"])
        .success();
    assert!(test.path("demo/src/demo/train.py").is_file());
}

#[test]
fn no_staging_directory_is_left_behind() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "1", "--no-input"])
        .success();
    let entries: Vec<String> = std::fs::read_dir(test.work())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, vec!["demo".to_owned()]);
}

#[test]
fn answers_come_from_flags_then_file_then_defaults() {
    let test = Test::new();
    test.write(
        "answers.toml",
        "level = 1\ntask = \"regression\"\nauthor = \"Grace\"\ndescription = \"From the file\"\n",
    );
    test.mlops(&[
        "new",
        "demo",
        "--answers",
        "answers.toml",
        "--set",
        "author=Ada",
        "--no-input",
        "--no-git",
    ])
    .success();
    let answers = manifest(&test.path("demo"));
    assert_eq!(answers["level"].as_integer(), Some(1));
    assert_eq!(answers["answers"]["task"].as_str(), Some("regression"));
    assert_eq!(answers["answers"]["author"].as_str(), Some("Ada"));
    assert_eq!(
        answers["answers"]["description"].as_str(),
        Some("From the file")
    );
    assert_eq!(answers["answers"]["python_version"].as_str(), Some("3.11"));
    let train = std::fs::read_to_string(test.path("demo/src/demo/train.py")).unwrap();
    assert!(
        train.contains("Ridge"),
        "the regression task renders the regression model"
    );
}

#[test]
fn answers_file_in_yaml() {
    let test = Test::new();
    test.write(
        "answers.yaml",
        "level: 0\nproject_name: Churn Model\npython_version: \"3.12\"\n",
    );
    test.mlops(&[
        "new",
        "demo",
        "--answers",
        "answers.yaml",
        "--no-input",
        "--no-git",
    ])
    .success();
    let answers = manifest(&test.path("demo"));
    assert_eq!(
        answers["answers"]["package_name"].as_str(),
        Some("churn_model")
    );
    assert!(test.path("demo/src/churn_model/train.py").is_file());
    let pyproject = std::fs::read_to_string(test.path("demo/pyproject.toml")).unwrap();
    assert!(pyproject.contains("requires-python = \">=3.12\""));
    assert!(pyproject.contains("target-version = \"py312\""));
}

#[test]
fn quotes_in_answers_stay_valid_toml() {
    let test = Test::new();
    test.mlops(&[
        "new",
        "demo",
        "--level",
        "0",
        "--no-input",
        "--no-git",
        "--set",
        r#"description=Says "no" \ to fraud"#,
    ])
    .success();
    let pyproject: toml::Table =
        toml::from_str(&std::fs::read_to_string(test.path("demo/pyproject.toml")).unwrap())
            .unwrap();
    assert_eq!(
        pyproject["project"]["description"].as_str(),
        Some(r#"Says "no" \ to fraud"#)
    );
}

/// Runs `mlops new ARGS`, expects `code` and `stderr`, and checks that nothing was written.
#[track_caller]
fn check_refused(test: &Test, args: &[&str], code: i32, stderr: &str) {
    let before = files(&test.work());
    let output = test.mlops(args);
    output.code(code);
    assert_eq!(output.stderr, stderr);
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout: {}",
        output.stdout
    );
    assert_eq!(files(&test.work()), before, "the work directory changed");
}

#[test]
fn unknown_levels_are_usage_errors() {
    let test = Test::new();
    let seven = test.mlops(&["new", "demo", "--level", "7"]);
    seven.code(2);
    assert!(
        seven
            .stderr
            .contains("invalid value '7' for '--level <LEVEL>': levels are 0 to 4"),
        "{}",
        seven.stderr
    );
    let negative = test.mlops(&["new", "demo", "--level", "-1"]);
    negative.code(2);
    assert!(
        negative
            .stderr
            .contains("invalid value '-1' for '--level <LEVEL>': levels are 0 to 4"),
        "{}",
        negative.stderr
    );
    assert!(!negative.stderr.contains("tip:"), "{}", negative.stderr);
    let two = test.mlops(&["new", "demo", "--level", "two"]);
    two.code(2);
    assert!(
        two.stderr
            .contains("invalid value 'two' for '--level <LEVEL>'"),
        "{}",
        two.stderr
    );
    assert!(!test.path("demo").exists());
    check_refused(
        &test,
        &["new", "demo", "--set", "level=7", "--no-input"],
        2,
        "error: invalid level `7` (from the command line): levels are 0 to 4\n",
    );
}

#[test]
fn contradicting_flags_are_usage_errors_naming_both() {
    let test = Test::new();
    check_refused(
        &test,
        &[
            "new",
            "demo",
            "--level",
            "2",
            "--set",
            "level=3",
            "--no-input",
        ],
        2,
        "error: contradicting answers for `level`: `--level 2` and `--set level=3`: give it once\n",
    );
    check_refused(
        &test,
        &[
            "new",
            "demo",
            "--level",
            "1",
            "--name",
            "a",
            "--set",
            "project_name=b",
            "--no-input",
        ],
        2,
        "error: contradicting answers for `project_name`: `--name a` and `--set project_name=b`: give it once\n",
    );
    // Saying the same thing twice is not a contradiction.
    test.mlops(&[
        "new",
        "demo",
        "--level",
        "0",
        "--set",
        "level=0",
        "--no-input",
        "--no-git",
    ])
    .success();
}

#[test]
fn the_first_commit_is_on_main_whatever_git_s_default_branch() {
    // The generated pipelines release only from `main`.
    let test = Test::new();
    std::fs::write(
        test.dir.path().join("home/.gitconfig"),
        "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = trunk\n",
    )
    .unwrap();
    test.mlops(&["new", "demo", "--level", "1", "--no-input"])
        .success();
    let repository = git2::Repository::open(test.path("demo")).unwrap();
    assert_eq!(repository.head().unwrap().shorthand().ok(), Some("main"));
}

#[test]
fn the_current_directory_is_filled_when_empty() {
    let test = Test::new();
    std::fs::create_dir(test.path("here")).unwrap();
    let output = test
        .command("mlops")
        .current_dir(test.path("here"))
        .args(["new", ".", "--level", "0", "--no-input"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(test.path("here/src/here/train.py").is_file());
    assert!(test.path("here/.git").is_dir());
    let manifest = manifest(&test.path("here"));
    assert_eq!(manifest["answers"]["project_name"].as_str(), Some("here"));
    let entries: Vec<String> = std::fs::read_dir(test.path("here"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("mlops-new"))
        .collect();
    assert!(entries.is_empty(), "staging left behind: {entries:?}");
}

#[test]
fn invalid_and_reserved_names_are_refused() {
    let test = Test::new();
    check_refused(
        &test,
        &["new", "1abc", "--level", "0", "--no-input"],
        2,
        "error: invalid package name `1abc` (derived from the project name): it is not a Python identifier: \
         it must start with a lowercase letter or `_`; choose another project name or pass `--set package_name=NAME`\n",
    );
    check_refused(
        &test,
        &["new", "class", "--level", "0", "--no-input"],
        2,
        "error: invalid package name `class` (derived from the project name): it is a Python keyword; \
         choose another project name or pass `--set package_name=NAME`\n",
    );
    check_refused(
        &test,
        &["new", "json", "--level", "0", "--no-input"],
        2,
        "error: invalid package name `json` (derived from the project name): it would shadow the standard-library \
         module `json`; choose another project name or pass `--set package_name=NAME`\n",
    );
    check_refused(
        &test,
        &[
            "new",
            "demo",
            "--name",
            "my/../x",
            "--level",
            "0",
            "--no-input",
        ],
        2,
        "error: invalid project name `my/../x` (from the command line): `/` is not allowed: use ASCII letters, \
         digits, `-`, `_`, `.` and spaces\n",
    );
    check_refused(
        &test,
        &["new", "my/../x", "--level", "0", "--no-input"],
        2,
        "error: target path `my/../x` goes into a directory and back out with `..`: give the path without it\n",
    );
    check_refused(
        &test,
        &["new", "demo", "--name", "", "--level", "0", "--no-input"],
        2,
        "error: invalid project name `` (from the command line): it is empty\n",
    );
    check_refused(
        &test,
        &[
            "new",
            "demo",
            "--set",
            "package_name=my-pkg",
            "--level",
            "0",
            "--no-input",
        ],
        2,
        "error: invalid package name `my-pkg` (from the command line): `-` is not allowed: use lowercase ASCII \
         letters, digits and `_`\n",
    );
    check_refused(
        &test,
        &[
            "new",
            "demo",
            "--set",
            "package_name=Foo",
            "--level",
            "0",
            "--no-input",
        ],
        2,
        "error: invalid package name `Foo` (from the command line): Python package names are lowercase: use `foo`\n",
    );
    check_refused(
        &test,
        &[
            "new",
            "demo",
            "--set",
            "package_name=__pycache__",
            "--level",
            "0",
            "--no-input",
        ],
        2,
        "error: invalid package name `__pycache__` (from the command line): `__pycache__` is a name Python \
         reserves for itself (double underscores on both sides)\n",
    );
}

#[test]
fn bad_set_arguments_are_usage_errors() {
    let test = Test::new();
    let no_equals = test.mlops(&["new", "demo", "--level", "0", "--set", "task"]);
    no_equals.code(2);
    assert!(
        no_equals
            .stderr
            .contains("`task` is not KEY=VALUE: the known keys are level, project_name"),
        "{}",
        no_equals.stderr
    );
    let unknown = test.mlops(&["new", "demo", "--level", "0", "--set", "colour=red"]);
    unknown.code(2);
    assert!(
        unknown
            .stderr
            .contains("unknown key `colour`: the known keys are"),
        "{}",
        unknown.stderr
    );
    check_refused(
        &test,
        &[
            "new",
            "demo",
            "--level",
            "0",
            "--no-input",
            "--set",
            "task=clustering",
        ],
        2,
        "error: invalid task `clustering` (from the command line): choose one of classification, regression\n",
    );
    check_refused(
        &test,
        &[
            "new",
            "demo",
            "--level",
            "0",
            "--no-input",
            "--set",
            "python_version=3.10",
        ],
        2,
        "error: invalid Python version `3.10` (from the command line): the supported versions are 3.11, 3.12, 3.13\n",
    );
}

#[test]
fn unreadable_and_malformed_answers_files_are_refused() {
    let test = Test::new();
    let missing = test.mlops(&["new", "demo", "--answers", "nope.toml", "--no-input"]);
    missing.code(2);
    assert!(
        missing
            .stderr
            .starts_with("error: cannot read the answers file `nope.toml`: "),
        "{}",
        missing.stderr
    );
    assert!(!test.path("demo").exists());

    test.write("bad.toml", "level = \n");
    check_refused(
        &test,
        &["new", "demo", "--answers", "bad.toml", "--no-input"],
        2,
        "error: malformed answers file `bad.toml`: string values must be quoted, expected literal string\n",
    );
    test.write("bad.yaml", "level: [1, 2\n");
    let yaml = test.mlops(&["new", "demo", "--answers", "bad.yaml", "--no-input"]);
    yaml.code(2);
    assert!(
        yaml.stderr
            .starts_with("error: malformed answers file `bad.yaml`: "),
        "{}",
        yaml.stderr
    );
    test.write("unknown.toml", "level = 1\ncolour = \"red\"\n");
    check_refused(
        &test,
        &["new", "demo", "--answers", "unknown.toml", "--no-input"],
        2,
        "error: unknown answer `colour` in `unknown.toml`: the known answers are level, project_name, package_name, \
         description, author, author_email, python_version, task, ci_provider, compute\n",
    );
}

#[test]
fn a_non_empty_target_is_refused_and_left_alone() {
    let test = Test::new();
    test.write("demo/notes.txt", "mine\n");
    check_refused(
        &test,
        &["new", "demo", "--level", "0", "--no-input"],
        4,
        "error: target `demo` already exists and is not empty: choose a new directory, or run `mlops upgrade demo` \
         to take an existing project to its next level\n",
    );
    let dry = test.mlops(&["new", "demo", "--level", "0", "--no-input", "--dry-run"]);
    dry.code(4);
}

#[test]
fn a_target_that_is_a_file_is_refused() {
    let test = Test::new();
    test.write("demo", "a file\n");
    check_refused(
        &test,
        &["new", "demo", "--level", "0", "--no-input"],
        4,
        "error: target `demo` exists and is not a directory: choose another path\n",
    );
}

#[test]
fn a_missing_parent_is_refused() {
    let test = Test::new();
    check_refused(
        &test,
        &["new", "nowhere/demo", "--level", "0", "--no-input"],
        2,
        "error: the parent directory `nowhere` does not exist: create it first\n",
    );
}

#[test]
fn a_read_only_parent_is_refused_and_nothing_is_left() {
    let test = Test::new();
    let parent = test.path("locked");
    std::fs::create_dir(&parent).unwrap();
    let _unlock = make_read_only(&parent);
    let output = test.mlops(&["new", "locked/demo", "--level", "0", "--no-input"]);
    output.code(1);
    assert!(
        output
            .stderr
            .starts_with("error: cannot write in `locked`: choose a directory you can write to: "),
        "{}",
        output.stderr
    );
    assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 0);
}

#[test]
fn a_missing_level_without_a_terminal_is_a_usage_error() {
    let test = Test::new();
    check_refused(
        &test,
        &["new", "demo", "--no-input"],
        2,
        "error: missing answer `level`: pass `--level N` (0 to 4), or set `level` in the answers file\n",
    );
    // Without a terminal on stdin there is nobody to prompt, with or without `--no-input`.
    check_refused(
        &test,
        &["new", "demo"],
        2,
        "error: missing answer `level`: pass `--level N` (0 to 4), or set `level` in the answers file\n",
    );
}

#[test]
fn missing_answers_are_prompted_for_on_a_terminal() {
    // `script` gives the binary a pseudo-terminal; the keys below answer each prompt in order:
    // level (down once: 1), project name, package name, description (typed), author, e-mail,
    // Python version (defaults), task (down once: regression), CI provider (default).
    let test = Test::new();
    let keys = "\x1b[B\r\r\rTyped at the prompt\r\r\r\r\x1b[B\r\r";
    let program = env!("CARGO_BIN_EXE_mlops");
    let mut command = std::process::Command::new("script");
    command
        .args(["-qec", &format!("{program} new demo --no-git"), "/dev/null"])
        .current_dir(test.work())
        .env("HOME", test.dir.path().join("home"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().expect("`script` (util-linux) runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(keys.as_bytes()).unwrap();
        // Keep the terminal open until the program has read every key.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        drop(stdin);
    }
    let output = child.wait_with_output().unwrap();
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{transcript}");
    let manifest = manifest(&test.path("demo"));
    assert_eq!(manifest["level"].as_integer(), Some(1), "{transcript}");
    assert_eq!(
        manifest["answers"]["description"].as_str(),
        Some("Typed at the prompt")
    );
    assert_eq!(manifest["answers"]["task"].as_str(), Some("regression"));
    assert_eq!(manifest["answers"]["author"].as_str(), Some("Test User"));
}
