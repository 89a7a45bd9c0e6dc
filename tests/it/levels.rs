//! `mlops levels`, `mlops completions`, and the help texts.

use std::path::Path;

use crate::support::{Test, snapshot_settings};

#[test]
fn levels_are_listed_from_the_bundles() {
    let test = Test::new();
    let output = test.mlops(&["levels"]);
    output.success();
    assert!(
        output
            .stdout
            .starts_with("0 No MLOps: one person, manual steps, a single model file\n")
    );
    assert!(output.stdout.contains("1 DevOps but no MLOps:"));
    snapshot_settings().bind(|| insta::assert_snapshot!("levels_text", output.stdout));
}

#[test]
fn levels_as_json_carry_criteria_and_changes() {
    let test = Test::new();
    let output = test.mlops(&["levels", "--format", "json"]);
    output.success();
    let levels: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(levels[0]["level"], 0);
    assert_eq!(levels[0]["criteria"], serde_json::json!([]));
    assert_eq!(levels[1]["criteria"][0], "data-gathered-automatically");
    assert!(
        levels[1]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|path| path == "Makefile")
    );
}

#[test]
fn help_documents_every_flag_and_the_exit_codes() {
    let test = Test::new();
    let main_help = test.mlops(&["--help"]);
    main_help.success();
    let new_help = test.mlops(&["new", "--help"]);
    new_help.success();
    for flag in [
        "--level",
        "--name",
        "--set",
        "--answers",
        "--no-input",
        "--no-git",
        "--dry-run",
        "--format",
    ] {
        assert!(
            new_help.stdout.contains(flag),
            "`mlops new --help` does not mention {flag}"
        );
    }
    for output in [&main_help, &new_help] {
        assert!(output.stdout.contains("Exit codes:"));
        assert!(output.stdout.contains("4  refused"));
    }
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("help_main", main_help.stdout);
        insta::assert_snapshot!("help_new", new_help.stdout);
        insta::assert_snapshot!("help_upgrade", test.mlops(&["upgrade", "--help"]).stdout);
    });
}

#[test]
fn mlops_new_is_mlops_new() {
    let test = Test::new();
    let via_shim = test.run("mlops-new", &["--help"]);
    let via_subcommand = test.mlops(&["new", "--help"]);
    assert_eq!(via_shim.stdout, via_subcommand.stdout);
    let args = ["demo", "--level", "1", "--no-input", "--dry-run"];
    let shim_run = test.run("mlops-new", &args);
    let mut full = vec!["new"];
    full.extend_from_slice(&args);
    let subcommand_run = test.mlops(&full);
    shim_run.success();
    assert_eq!(shim_run.stdout, subcommand_run.stdout);
    let bad = test.run("mlops-new", &["demo", "--level", "9"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        test.mlops(&["new", "demo", "--level", "9"]).stderr
    );
}

#[test]
fn completions_are_generated() {
    let test = Test::new();
    let output = test.mlops(&["completions", "bash"]);
    output.success();
    assert!(output.stdout.contains("_mlops()"));
    assert!(output.stdout.contains("--dry-run"));
}

#[test]
fn malformed_development_templates_are_an_error_not_a_crash() {
    let test = Test::new();
    test.write("bad/level-0/bundle.toml", "level = 0\n");
    test.write("bad/level-0/files/README.md", "# {{ project_name }}\n");
    let templates = test.path("bad");
    let env = [("MLOPS_TEMPLATES_DIR", templates.as_path())];
    for args in [&["levels"][..], &["new", "demo", "--no-input"]] {
        let output = test.run_in("mlops", args, &test.work(), &env);
        output.code(1);
        assert_eq!(
            output.stderr,
            format!(
                "error: the templates in MLOPS_TEMPLATES_DIR (`{}`) are malformed: level-0/bundle.toml: \
                 missing field `summary`; fix them, or unset MLOPS_TEMPLATES_DIR to use the built-in ones\n",
                templates.display()
            ),
            "{args:?}"
        );
    }
    assert!(!test.path("demo").exists());
}

#[test]
fn a_bundle_cannot_write_into_git_nor_hold_a_symlink_or_a_fifo() {
    let test = Test::new();
    test.write(
        "bad/level-0/bundle.toml",
        "level = 0\nsummary = \"s\"\nadds = [\"a\"]\n",
    );
    test.write(
        "bad/level-0/files/.git/hooks/pre-commit",
        "#!/bin/sh\necho owned\n",
    );
    let templates = test.path("bad");
    let env = [("MLOPS_TEMPLATES_DIR", templates.as_path())];
    let output = test.run_in(
        "mlops",
        &["new", "demo", "--level", "0", "--no-input"],
        &test.work(),
        &env,
    );
    output.code(1);
    assert!(
        output
            .stderr
            .contains("`level-0/files/.git/hooks/pre-commit` would be written inside `.git`, which belongs to git"),
        "{}",
        output.stderr
    );
    assert!(!test.path("demo").exists());

    std::fs::remove_dir_all(test.path("bad/level-0/files/.git")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/hostname", test.path("bad/level-0/files/hostname"))
            .unwrap();
        let output = test.run_in("mlops", &["levels"], &test.work(), &env);
        output.code(1);
        assert!(
            output
                .stderr
                .contains("`level-0/files/hostname` is a symlink"),
            "{}",
            output.stderr
        );
        std::fs::remove_file(test.path("bad/level-0/files/hostname")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(test.path("bad/level-0/files/pipe"))
            .status()
            .unwrap();
        assert!(status.success());
        let output = test.run_in("mlops", &["levels"], &test.work(), &env);
        output.code(1);
        assert!(
            output.stderr.contains("`level-0/files/pipe`: it is a FIFO"),
            "{}",
            output.stderr
        );
    }
}

#[test]
fn a_template_that_loops_away_is_stopped() {
    let test = Test::new();
    test.write(
        "loops/level-0/bundle.toml",
        "level = 0\nsummary = \"s\"\nadds = [\"a\"]\n",
    );
    test.write(
        "loops/level-0/files/README.md",
        "{% for a in range(end=100000) %}{% for b in range(end=100000) %}{% endfor %}{% endfor %}\n",
    );
    let templates = test.path("loops");
    let env = [("MLOPS_TEMPLATES_DIR", templates.as_path())];
    let output = test.run_in(
        "mlops",
        &["new", "demo", "--level", "0", "--no-input"],
        &test.work(),
        &env,
    );
    output.code(1);
    assert!(
        output.stderr.contains("a template loops too much"),
        "{}",
        output.stderr
    );
    assert!(!test.path("demo").exists());
}

#[test]
fn docs_levels_md_is_what_the_markdown_listing_prints() {
    // The level specification inside the repository is generated, so it cannot drift from the
    // templates: regenerate it with `mlops levels --format markdown > docs/levels.md`.
    let test = Test::new();
    let output = test.mlops(&["levels", "--format", "markdown"]);
    output.success();
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/levels.md"))
            .unwrap();
    assert_eq!(
        output.stdout, committed,
        "docs/levels.md is stale: run `mlops levels --format markdown > docs/levels.md`"
    );
    assert!(committed.contains("## Level 4: Full MLOps Automated Retraining"));
    assert!(committed.contains("- `model-ci`: "));
}
