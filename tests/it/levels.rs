//! `mlops levels`, `mlops completions`, and the help texts.

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
    test.write("bad/level-0/bundle.toml", "level = 0\nname = \"x\"\n");
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
