//! `mlops upgrade`: the fixture cases in `tests/fixtures/upgrade/<case>/`, the walk through every
//! level, the refusals, and conflicts as git records them.
//!
//! A case is a `case.toml` describing a project generated at some level with the real binary,
//! the user's edits to it (declarative edits, moves, plus whole files under `before/`), and what
//! must hold after `mlops upgrade` (or `mlops update`, with `command = "update"`): the exit code,
//! the action planned for each file, the merge strategy and where a moved file lives, and the
//! content of files afterwards. A case may bring its own template bundles (`MLOPS_TEMPLATES_DIR`) to
//! model a generator that changed between `new` and `upgrade`. The dry run of every case is
//! snapshotted as text and as JSON, and must write nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::support::{Output, Test, commit_everything, files, make_read_only, snapshot_settings};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    level: u8,
    #[serde(default = "upgrade")]
    command: String,
    /// Whether the snapshots hold every diff; the plans of cases on the real templates above
    /// level 0 are snapshotted without them, since those templates are large and change often,
    /// and what the case is about is checked by `expect`.
    #[serde(default = "yes")]
    diffs: bool,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    exit: i32,
    #[serde(default)]
    dry_run_exit: i32,
    #[serde(default)]
    stderr: Option<String>,
    #[serde(default = "yes")]
    commit: bool,
    #[serde(default)]
    delete: Vec<String>,
    /// Files moved (as `git mv` does) before the commit.
    #[serde(default, rename = "move")]
    moves: Vec<Move>,
    #[serde(default)]
    delete_uncommitted: Vec<String>,
    #[serde(default)]
    crlf: Vec<String>,
    #[serde(default)]
    copy_generated: BTreeMap<String, u8>,
    #[serde(default)]
    templates_before: Option<String>,
    #[serde(default)]
    templates_after: Option<String>,
    #[serde(default)]
    edit: Vec<Edit>,
    #[serde(default)]
    uncommitted: Vec<Edit>,
    #[serde(default)]
    actions: BTreeMap<String, String>,
    #[serde(default)]
    bases: BTreeMap<String, String>,
    /// The merge strategy the plan names for a file.
    #[serde(default)]
    strategies: BTreeMap<String, String>,
    /// Where the plan finds a generated file the team moved.
    #[serde(default)]
    moved: BTreeMap<String, String>,
    #[serde(default)]
    expect: Vec<Expect>,
}

fn yes() -> bool {
    true
}

fn upgrade() -> String {
    "upgrade".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    path: String,
    #[serde(default)]
    append: Option<String>,
    #[serde(default)]
    replace: Option<String>,
    #[serde(default)]
    with: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    path: String,
    #[serde(default = "yes")]
    exists: bool,
    #[serde(default)]
    contains: Vec<String>,
    #[serde(default)]
    not_contains: Vec<String>,
    #[serde(default)]
    crlf: bool,
    /// The file must be byte-identical to this file of the case directory.
    #[serde(default)]
    equals: Option<String>,
    /// The file must be exactly what it was before the upgrade.
    #[serde(default)]
    unchanged: bool,
    /// The file is a manifest whose top-level `level` must be this one (parsed, so that a file
    /// record's `level` cannot stand in for it).
    #[serde(default)]
    manifest_level: Option<i64>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

fn apply_edits(project: &Path, edits: &[Edit]) {
    for edit in edits {
        let path = project.join(&edit.path);
        let mut text =
            std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", edit.path));
        if let Some(old) = &edit.replace {
            assert!(
                text.contains(old.as_str()),
                "edit of {}: `{old}` is not in the file",
                edit.path
            );
            text = text.replacen(old.as_str(), edit.with.as_deref().unwrap_or(""), 1);
        }
        if let Some(tail) = &edit.append {
            text.push_str(tail);
        }
        std::fs::write(&path, text).unwrap();
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for (relative, content) in files(from) {
        let destination = to.join(relative);
        std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
        std::fs::write(destination, content).unwrap();
    }
}

fn redact(text: &str, test: &Test) -> String {
    let root = test.path("demo").canonicalize().unwrap();
    text.replace(&root.display().to_string(), "[ROOT]")
}

/// The text preview without its diffs: each starts after an empty line with `--- ` or `Binary`
/// and runs to the next empty line.
fn without_diffs(text: &str) -> String {
    let mut kept = String::new();
    let mut in_diff = false;
    let mut previous_empty = false;
    for line in text.lines() {
        if previous_empty && (line.starts_with("--- ") || line.starts_with("Binary file")) {
            in_diff = true;
            kept.push_str("[diff]\n");
        } else if line.is_empty() {
            in_diff = false;
        }
        if !in_diff {
            kept.push_str(line);
            kept.push('\n');
        }
        previous_empty = line.is_empty();
    }
    kept
}

/// The JSON report with each diff replaced by `[diff]`.
fn json_without_diffs(text: &str) -> String {
    let mut report: serde_json::Value = serde_json::from_str(text).unwrap();
    for step in report["steps"].as_array_mut().unwrap() {
        for file in step["files"].as_array_mut().unwrap() {
            if !file["diff"].is_null() {
                file["diff"] = serde_json::Value::from("[diff]");
            }
        }
    }
    serde_json::to_string_pretty(&report).unwrap()
}

/// `MLOPS_TEMPLATES_DIR` pointing at a case's own bundles, if it has them.
fn templates_env(dir: Option<&PathBuf>) -> Vec<(&'static str, &Path)> {
    dir.iter()
        .map(|dir| ("MLOPS_TEMPLATES_DIR", dir.as_path()))
        .collect()
}

/// Generates the case's project at its level and leaves it as the user did; returns the files.
fn prepare(
    test: &Test,
    case: &Case,
    case_dir: &Path,
    templates: Option<&PathBuf>,
) -> BTreeMap<String, Vec<u8>> {
    let project = test.path("demo");
    let env = templates_env(templates);
    let level = case.level.to_string();
    test.run_in(
        "mlops",
        &["new", "demo", "--level", &level, "--no-input"],
        &test.work(),
        &env,
    )
    .success();
    for (path, at_level) in &case.copy_generated {
        let scratch_name = format!("scratch-{at_level}");
        let scratch = test.path(&scratch_name);
        if !scratch.exists() {
            let level = at_level.to_string();
            let args = [
                "new",
                &scratch_name,
                "--level",
                &level,
                "--no-input",
                "--no-git",
                "--name",
                "demo",
            ];
            test.run_in("mlops", &args, &test.work(), &env).success();
        }
        std::fs::copy(scratch.join(path), project.join(path)).unwrap();
    }
    if case_dir.join("before").is_dir() {
        copy_tree(&case_dir.join("before"), &project);
    }
    apply_edits(&project, &case.edit);
    for path in &case.delete {
        std::fs::remove_file(project.join(path)).unwrap();
    }
    for moved in &case.moves {
        let to = project.join(&moved.to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::rename(project.join(&moved.from), to).unwrap();
    }
    for path in &case.crlf {
        let content = std::fs::read_to_string(project.join(path)).unwrap();
        std::fs::write(project.join(path), content.replace('\n', "\r\n")).unwrap();
    }
    if case.commit {
        commit_everything(&project, "The team's changes");
    }
    apply_edits(&project, &case.uncommitted);
    for path in &case.delete_uncommitted {
        std::fs::remove_file(project.join(path)).unwrap();
    }
    files(&project)
}

/// Checks the planned action and base source of the files the case names.
fn check_plan(name: &str, case: &Case, plan_json: &str) {
    let plan: serde_json::Value = serde_json::from_str(plan_json).unwrap();
    let planned = |path: &str, key: &str| -> String {
        plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|step| step["files"].as_array().unwrap())
            .find(|file| file["path"] == path)
            .map_or_else(
                || panic!("{name}: `{path}` is not in the plan"),
                |file| file[key].as_str().unwrap().to_owned(),
            )
    };
    for (path, action) in &case.actions {
        assert_eq!(
            &planned(path, "action"),
            action,
            "{name}: action of `{path}`"
        );
    }
    for (path, source) in &case.bases {
        assert_eq!(&planned(path, "base"), source, "{name}: base of `{path}`");
    }
    for (path, strategy) in &case.strategies {
        assert_eq!(
            &planned(path, "merge_strategy"),
            strategy,
            "{name}: merge strategy of `{path}`"
        );
    }
    for (path, location) in &case.moved {
        assert_eq!(
            &planned(path, "moved_to"),
            location,
            "{name}: where `{path}` lives"
        );
    }
}

/// Checks the files after the real run against the case's expectations.
fn check_after(
    name: &str,
    case: &Case,
    case_dir: &Path,
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) {
    for expect in &case.expect {
        let content = after.get(&expect.path);
        assert_eq!(
            content.is_some(),
            expect.exists,
            "{name}: `{}` exists",
            expect.path
        );
        let Some(content) = content else { continue };
        let body = String::from_utf8_lossy(content);
        for needle in &expect.contains {
            assert!(
                body.contains(needle.as_str()),
                "{name}: `{}` lacks `{needle}`:\n{body}",
                expect.path
            );
        }
        for needle in &expect.not_contains {
            assert!(
                !body.contains(needle.as_str()),
                "{name}: `{}` contains `{needle}`:\n{body}",
                expect.path
            );
        }
        if expect.crlf {
            let lf_only = body.matches('\n').count() - body.matches("\r\n").count();
            assert_eq!(
                lf_only, 0,
                "{name}: `{}` has lines that lost their CRLF ending",
                expect.path
            );
        }
        if let Some(expected_file) = &expect.equals {
            assert_eq!(
                content,
                &std::fs::read(case_dir.join(expected_file)).unwrap(),
                "{name}: `{}`",
                expect.path
            );
        }
        if let Some(level) = expect.manifest_level {
            assert_eq!(
                crate::support::manifest_level(&body),
                level,
                "{name}: `{}`'s top-level level",
                expect.path
            );
        }
        if expect.unchanged {
            assert_eq!(
                Some(content),
                before.get(&expect.path),
                "{name}: `{}` changed",
                expect.path
            );
        }
    }
}

fn run_case(name: &str) {
    let case_dir = fixtures().join(name);
    let case: Case = toml::from_str(&std::fs::read_to_string(case_dir.join("case.toml")).unwrap())
        .unwrap_or_else(|error| panic!("{name}/case.toml: {error}"));
    let test = Test::new();
    let project = test.path("demo");
    let before_templates = case.templates_before.as_ref().map(|dir| case_dir.join(dir));
    let after_templates = case
        .templates_after
        .as_ref()
        .map(|dir| case_dir.join(dir))
        .or_else(|| before_templates.clone());
    let before = prepare(&test, &case, &case_dir, before_templates.as_ref());

    let cwd = case
        .cwd
        .as_ref()
        .map_or_else(|| project.clone(), |cwd| project.join(cwd));
    let env = templates_env(after_templates.as_ref());
    let upgrade = |extra: &[&str]| -> Output {
        let mut args = vec![case.command.as_str()];
        args.extend(case.args.iter().map(String::as_str));
        args.extend_from_slice(extra);
        test.run_in("mlops", &args, &cwd, &env)
    };

    // The dry run: the same plan, printed, and nothing written.
    let dry_text = upgrade(&["--dry-run"]);
    dry_text.code(case.dry_run_exit);
    let dry_json = upgrade(&["--dry-run", "--format", "json"]);
    dry_json.code(case.dry_run_exit);
    assert_eq!(
        files(&project),
        before,
        "{name}: the dry run wrote something"
    );
    if case.dry_run_exit == 0 {
        let (text, json) = if case.diffs {
            (dry_text.stdout.clone(), dry_json.stdout.clone())
        } else {
            (
                without_diffs(&dry_text.stdout),
                json_without_diffs(&dry_json.stdout),
            )
        };
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(
                format!("upgrade_{name}_dry_run"),
                redact(&text, &test),
                &case.description
            );
            insta::assert_snapshot!(
                format!("upgrade_{name}_json"),
                redact(&json, &test),
                &case.description
            );
        });
        check_plan(name, &case, &dry_json.stdout);
    }

    // The real run.
    let output = upgrade(&[]);
    output.code(case.exit);
    if let Some(expected) = &case.stderr {
        assert!(
            output.stderr.contains(expected.as_str()),
            "{name}: stderr lacks `{expected}`:\n{}",
            output.stderr
        );
    }
    if case.exit == 4 || case.exit == 2 {
        assert_eq!(
            files(&project),
            before,
            "{name}: a refused upgrade wrote something"
        );
        snapshot_settings().bind(|| {
            insta::assert_snapshot!(
                format!("upgrade_{name}_refused"),
                redact(&output.stderr, &test)
            );
        });
    }
    check_after(name, &case, &case_dir, &before, &files(&project));
}

macro_rules! cases {
    ($($name:ident => $dir:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run_case($dir);
            }
        )*

        #[test]
        fn every_fixture_directory_has_a_test() {
            let known = [$($dir),*];
            for entry in std::fs::read_dir(fixtures()).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                assert!(known.contains(&name.as_str()), "tests/fixtures/upgrade/{name} has no test in upgrade.rs");
            }
        }
    };
}

cases! {
    edit_far_from_the_change => "edit-far-from-change",
    same_lines_edited_on_both_sides => "same-lines-both-sides",
    deleted_generated_file => "deleted-generated-file",
    added_file_identical => "added-identical",
    added_file_different => "added-different",
    crlf_file => "crlf",
    binary_file_changed_on_both_sides => "binary-both-sides",
    generator_updated_since_new => "generator-updated",
    dirty_tree => "dirty-tree",
    corrupt_manifest => "corrupt-manifest",
    missing_manifest => "missing-manifest",
    deleted_manifest => "deleted-manifest",
    from_a_subdirectory => "from-subdirectory",
    already_at_the_highest_level => "highest-level",
    to_below_the_current_level => "to-below-current",
    gitignore_lines_added_on_both_sides => "gitignore-lines",
    a_dependency_added_where_the_level_adds_one => "pyproject-dependency",
    a_make_target_and_its_phony_name => "makefile-target",
    a_fixture_appended_where_the_level_appends => "conftest-fixture",
    a_workflow_step_and_job_added_on_both_sides => "workflow-job",
    a_recipe_rewritten_on_both_sides => "makefile-recipe-both",
    a_moved_generated_file => "moved-file",
    leftover_conflict_markers => "leftover-markers",
    update_to_newer_templates => "update-newer-templates",
}

fn highest_level(test: &Test) -> u8 {
    let output = test.mlops(&["levels", "--format", "json"]);
    let levels: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    u8::try_from(levels.as_array().unwrap().len() - 1).unwrap()
}

/// The tree a project's files make, with the manifest's history (which differs by design)
/// removed from the manifest.
fn comparable(project: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut tree = files(project);
    let manifest = tree.get_mut(".mlops/manifest.toml").unwrap();
    let mut parsed: toml::Table = toml::from_str(std::str::from_utf8(manifest).unwrap()).unwrap();
    parsed.remove("history");
    *manifest = toml::to_string(&parsed).unwrap().into_bytes();
    tree
}

#[test]
fn walking_up_every_level_ends_where_new_at_the_top_starts() {
    let test = Test::new();
    let highest = highest_level(&test);
    let top = highest.to_string();
    std::fs::create_dir(test.path("top")).unwrap();
    test.mlops(&["new", "top/demo", "--level", &top, "--no-input", "--no-git"])
        .success();
    let expected = comparable(&test.path("top/demo"));
    for start in 0..highest {
        let parent = format!("from-{start}");
        std::fs::create_dir(test.path(&parent)).unwrap();
        let project = format!("{parent}/demo");
        test.mlops(&["new", &project, "--level", &start.to_string(), "--no-input"])
            .success();
        for level in start + 1..=highest {
            let output = test.run_in("mlops", &["upgrade", "--commit"], &test.path(&project), &[]);
            output.success();
            let repository = git2::Repository::open(test.path(&project)).unwrap();
            let head = repository.head().unwrap().peel_to_commit().unwrap();
            assert_eq!(
                head.message().ok(),
                Some(format!("Upgrade to MLOps level {level}").as_str())
            );
        }
        assert_eq!(
            comparable(&test.path(&project)),
            expected,
            "walking up from level {start}"
        );
        let repository = git2::Repository::open(test.path(&project)).unwrap();
        assert!(
            repository.statuses(None).unwrap().is_empty(),
            "from level {start}: everything is committed"
        );
    }
}

#[test]
fn to_walks_each_level_and_stops_at_the_first_conflict() {
    let test = Test::new();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/steps");
    let env = [("MLOPS_TEMPLATES_DIR", templates.as_path())];
    test.run_in(
        "mlops",
        &["new", "demo", "--level", "0", "--no-input"],
        &test.work(),
        &env,
    )
    .success();
    let project = test.path("demo");

    // Without edits, `--to 2` walks both steps in one go.
    let clean = test.run_in(
        "mlops",
        &["upgrade", "--to", "2", "--dry-run", "--format", "json"],
        &project,
        &env,
    );
    clean.success();
    let plan: serde_json::Value = serde_json::from_str(&clean.stdout).unwrap();
    let steps: Vec<(u64, u64)> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            (
                step["from_level"].as_u64().unwrap(),
                step["to_level"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(steps, vec![(0, 1), (1, 2)]);

    // The team edits the line level 1 changes: the walk stops after level 1, with the conflict.
    let notes = project.join("NOTES.md");
    let text = std::fs::read_to_string(&notes)
        .unwrap()
        .replace("first: level 0", "first: ours");
    std::fs::write(&notes, text).unwrap();
    commit_everything(&project, "edit");
    let output = test.run_in(
        "mlops-upgrade",
        &["--to", "2", "--format", "json"],
        &project,
        &env,
    );
    output.code(3);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["outcome"], "conflicts");
    assert_eq!(report["to_level"], 1);
    assert_eq!(report["conflicted_paths"], serde_json::json!(["NOTES.md"]));
    assert_eq!(report["target_level"], 2);
    assert_eq!(report["stopped_at_level"], 1);
    assert!(
        report["stop_reason"]
            .as_str()
            .unwrap()
            .starts_with("level 1 leaves conflicts"),
        "{report}"
    );
    let manifest = std::fs::read_to_string(project.join(".mlops/manifest.toml")).unwrap();
    assert_eq!(crate::support::manifest_level(&manifest), 1);
    assert!(
        !project.join("LEVEL2.md").exists(),
        "level 2 waits until the conflict is resolved"
    );
}

#[test]
fn a_merged_file_has_its_exact_base_in_a_fresh_clone_after_the_generator_changed() {
    let test = Test::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates");
    let (old, new) = (fixtures.join("steps"), fixtures.join("steps-v2"));
    let old_env = [("MLOPS_TEMPLATES_DIR", old.as_path())];
    let new_env = [("MLOPS_TEMPLATES_DIR", new.as_path())];
    test.run_in(
        "mlops",
        &["new", "demo", "--level", "0", "--no-input"],
        &test.work(),
        &old_env,
    )
    .success();
    let project = test.path("demo");
    let notes = project.join("NOTES.md");
    std::fs::write(
        &notes,
        std::fs::read_to_string(&notes)
            .unwrap()
            .replace("last: level 0", "last: ours"),
    )
    .unwrap();
    commit_everything(&project, "edit");
    test.run_in("mlops", &["upgrade", "--commit"], &project, &old_env)
        .success();
    let stored = project.join(".mlops/base/NOTES.md.base");
    assert_eq!(
        std::fs::read_to_string(&stored).unwrap(),
        "first: level 1\nsecond\nthird\nfourth\nfifth\nlast: level 0\n"
    );

    // A fresh clone, and a generator whose level 1 no longer renders what was generated: the
    // merged file's base can come only from the store, and it merges cleanly.
    let clone = test.path("clone");
    git2::Repository::clone(project.to_str().unwrap(), &clone).unwrap();
    let output = test.run_in(
        "mlops",
        &["upgrade", "--dry-run", "--format", "json"],
        &clone,
        &new_env,
    );
    output.success();
    let plan: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let files = plan["steps"][0]["files"].as_array().unwrap();
    let notes_plan = files
        .iter()
        .find(|file| file["path"] == "NOTES.md")
        .unwrap();
    assert_eq!(notes_plan["base"], "store");
    assert_eq!(notes_plan["action"], "merge");
    let diff = notes_plan["diff"].as_str().unwrap();
    assert!(
        diff.contains("+first: level 1, v2") && diff.contains("+added at level 2"),
        "{diff}"
    );
    assert!(!diff.contains("-last: ours"), "{diff}");
}

#[test]
fn mlops_upgrade_is_mlops_upgrade() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "0", "--no-input"])
        .success();
    let project = test.path("demo");
    let shim = test.run_in("mlops-upgrade", &["--dry-run"], &project, &[]);
    let subcommand = test.run_in("mlops", &["upgrade", "--dry-run"], &project, &[]);
    shim.success();
    assert_eq!(shim.stdout, subcommand.stdout);
    assert_eq!(
        test.run("mlops-upgrade", &["--help"]).stdout,
        test.mlops(&["upgrade", "--help"]).stdout
    );
}

#[test]
fn without_git_the_upgrade_needs_allow_dirty() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "0", "--no-input", "--no-git"])
        .success();
    let project = test.path("demo");
    let refused = test.run_in("mlops", &["upgrade"], &project, &[]);
    refused.code(4);
    assert!(
        refused.stderr.contains("is not in a git repository"),
        "{}",
        refused.stderr
    );
    test.run_in("mlops", &["upgrade", "--allow-dirty"], &project, &[])
        .success();
    assert!(project.join("src/demo/app.py").is_file());
}

#[test]
fn colour_only_on_request() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "0", "--no-input"])
        .success();
    let project = test.path("demo");
    let plain = test.run_in("mlops", &["upgrade", "--dry-run"], &project, &[]);
    assert!(
        !plain.stdout.contains('\u{1b}'),
        "no colour when NO_COLOR is set and stdout is not a terminal"
    );
    let mut command = test.command("mlops");
    command
        .current_dir(&project)
        .args(["upgrade", "--dry-run"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1");
    let forced = String::from_utf8(command.output().unwrap().stdout).unwrap();
    assert!(forced.contains("\u{1b}["), "colour when forced");
}

#[test]
fn a_write_that_fails_part_way_changes_nothing() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "0", "--no-input"])
        .success();
    let project = test.path("demo");
    let before = files(&project);
    // `src/demo/app.py` cannot be created: the upgrade must not leave the other files half done.
    let output = {
        let _unlock = make_read_only(&project.join("src/demo"));
        test.run_in("mlops", &["upgrade"], &project, &[])
    };
    output.code(1);
    assert!(
        output.stderr.contains("nothing was changed"),
        "{}",
        output.stderr
    );
    assert_eq!(files(&project), before);
}

#[test]
fn a_project_at_the_top_level_is_refused_and_left_as_it_was() {
    let test = Test::new();
    let top = highest_level(&test).to_string();
    test.mlops(&["new", "demo", "--level", &top, "--no-input"])
        .success();
    let project = test.path("demo");
    let before = files(&project);
    for args in [
        &["upgrade"][..],
        &["upgrade", "--dry-run", "--format", "json"],
        &["upgrade", "--to", "2"],
    ] {
        let refused = test.run_in("mlops", args, &project, &[]);
        refused.code(4);
        assert!(refused.stdout.is_empty(), "{args:?}: {}", refused.stdout);
    }
    let top_refusal = test.run_in("mlops", &["upgrade"], &project, &[]);
    assert_eq!(
        top_refusal.stderr,
        format!(
            "error: the project is already at level {top}, the highest level: there is nothing to upgrade to\n"
        )
    );
    let down = test.run_in("mlops", &["upgrade", "--to", "2"], &project, &[]);
    assert_eq!(
        down.stderr,
        format!(
            "error: the project is at level {top}; `--to 2` would go down a level, which upgrades never do\n"
        )
    );
    assert_eq!(files(&project), before);
}

/// The walk's dry run, as text, says where it would stop and why.
#[test]
fn a_walk_that_would_stop_says_where_and_why() {
    let test = Test::new();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/templates/steps");
    let env = [("MLOPS_TEMPLATES_DIR", templates.as_path())];
    test.run_in(
        "mlops",
        &["new", "demo", "--level", "0", "--no-input"],
        &test.work(),
        &env,
    )
    .success();
    let project = test.path("demo");
    let notes = project.join("NOTES.md");
    let text = std::fs::read_to_string(&notes).unwrap();
    std::fs::write(&notes, text.replace("first: level 0", "first: ours")).unwrap();
    commit_everything(&project, "edit");
    let dry = test.run_in(
        "mlops",
        &["upgrade", "--to", "2", "--dry-run"],
        &project,
        &env,
    );
    dry.success();
    assert!(
        dry.stdout.contains(
            "the walk to level 2 would stop at level 1: level 1 leaves conflicts, and each level is planned on \
             the files the one before it leaves: level 2 is planned once they are resolved and committed (run \
             `mlops upgrade --to 2` again)"
        ),
        "{}",
        dry.stdout
    );
}

/// A conflicted file is unmerged in git's index, as after `git merge`: stages 1, 2 and 3 hold
/// the base, your file and the template's, `git commit` cannot proceed until it is resolved and
/// added, and adding it resolves it.
#[test]
fn a_conflict_is_unmerged_in_git_until_resolved() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "0", "--no-input"])
        .success();
    let project = test.path("demo");
    let train = project.join("src/demo/train.py");
    let generated = std::fs::read(&train).unwrap();
    let ours = String::from_utf8(generated.clone())
        .unwrap()
        .replace("Run by hand (`make train`)", "Run nightly by cron");
    std::fs::write(&train, &ours).unwrap();
    commit_everything(&project, "edit");
    test.run_in("mlops", &["upgrade"], &project, &[]).code(3);

    let repository = git2::Repository::open(&project).unwrap();
    let mut index = repository.index().unwrap();
    let conflicts: Vec<git2::IndexConflict> =
        index.conflicts().unwrap().map(Result::unwrap).collect();
    assert_eq!(conflicts.len(), 1);
    let blob = |entry: &Option<git2::IndexEntry>| {
        let entry = entry.as_ref().expect("the stage is there");
        assert_eq!(entry.path, b"src/demo/train.py");
        repository.find_blob(entry.id).unwrap().content().to_vec()
    };
    assert_eq!(blob(&conflicts[0].ancestor), generated);
    assert_eq!(blob(&conflicts[0].our), ours.as_bytes());
    assert!(
        String::from_utf8(blob(&conflicts[0].their))
            .unwrap()
            .contains("`make ingest` gathered")
    );
    let status = repository
        .status_file(Path::new("src/demo/train.py"))
        .unwrap();
    assert!(status.is_conflicted(), "{status:?}");

    // Resolved and added, it is an ordinary change again.
    std::fs::write(&train, &ours).unwrap();
    index.add_path(Path::new("src/demo/train.py")).unwrap();
    index.write().unwrap();
    assert!(!repository.index().unwrap().has_conflicts());
}

#[test]
fn gitlab_and_azure_projects_walk_up_from_level_1_to_the_top_without_a_conflict() {
    let test = Test::new();
    let highest = highest_level(&test);
    let top = highest.to_string();
    for provider in ["gitlab", "azure"] {
        let answer = format!("ci_provider={provider}");
        let expected_dir = format!("top-{provider}/demo");
        std::fs::create_dir(test.path(&format!("top-{provider}"))).unwrap();
        test.mlops(&[
            "new",
            &expected_dir,
            "--level",
            &top,
            "--no-input",
            "--no-git",
            "--set",
            &answer,
        ])
        .success();
        let expected = comparable(&test.path(&expected_dir));
        let project = format!("from-1-{provider}/demo");
        std::fs::create_dir(test.path(&format!("from-1-{provider}"))).unwrap();
        test.mlops(&[
            "new",
            &project,
            "--level",
            "1",
            "--no-input",
            "--set",
            &answer,
        ])
        .success();
        let output = test.run_in(
            "mlops",
            &["upgrade", "--to", &top, "--commit", "--format", "json"],
            &test.path(&project),
            &[],
        );
        output.success();
        let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
        assert_eq!(
            report["conflicted_paths"],
            serde_json::json!([]),
            "{provider}: {}",
            output.stdout
        );
        assert_eq!(
            comparable(&test.path(&project)),
            expected,
            "{provider}: walking up from level 1"
        );
        let pipelines = if provider == "gitlab" {
            ".gitlab/ci/monitor.yml"
        } else {
            ".azure-pipelines/monitor.yml"
        };
        assert!(test.path(&project).join(pipelines).is_file(), "{provider}");
        assert!(
            !test.path(&project).join(".github").exists(),
            "{provider}: no GitHub workflows"
        );
    }
}

#[test]
fn the_ci_provider_of_a_project_is_not_changed_by_an_upgrade() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "1", "--no-input"])
        .success();
    let project = test.path("demo");
    let other = test.run_in(
        "mlops",
        &["upgrade", "--set", "ci_provider=gitlab"],
        &project,
        &[],
    );
    other.code(2);
    let same = test.run_in(
        "mlops",
        &["upgrade", "--set", "ci_provider=github"],
        &project,
        &[],
    );
    same.code(2);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("upgrade_another_ci_provider_refused", other.stderr);
        insta::assert_snapshot!("upgrade_same_ci_provider_refused", same.stderr);
    });
    assert!(!project.join(".gitlab-ci.yml").exists());
}

/// The compute engine means nothing below level 2, so a level-1 project chooses it on its way up
/// and walks to what `mlops new` makes with it; from level 2 it is kept, and another is refused
/// with what to do instead.
#[test]
fn the_compute_engine_is_chosen_on_the_way_to_level_2_and_kept_after() {
    let test = Test::new();
    let top = highest_level(&test).to_string();
    std::fs::create_dir(test.path("top")).unwrap();
    test.mlops(&[
        "new",
        "top/demo",
        "--level",
        &top,
        "--no-input",
        "--no-git",
        "--set",
        "compute=ray",
    ])
    .success();
    let expected = comparable(&test.path("top/demo"));
    test.mlops(&["new", "demo", "--level", "1", "--no-input"])
        .success();
    let project = test.path("demo");
    let output = test.run_in(
        "mlops",
        &["upgrade", "--to", "2", "--set", "compute=ray", "--commit"],
        &project,
        &[],
    );
    output.success();
    let manifest = std::fs::read_to_string(project.join(".mlops/manifest.toml")).unwrap();
    assert!(manifest.contains("compute = \"ray\""), "{manifest}");
    assert!(project.join("src/demo/cluster.py").is_file());

    let other = test.run_in(
        "mlops",
        &["upgrade", "--set", "compute=local"],
        &project,
        &[],
    );
    other.code(2);
    snapshot_settings().bind(|| {
        insta::assert_snapshot!("upgrade_another_compute_refused", other.stderr);
    });
    test.run_in(
        "mlops",
        &["upgrade", "--to", &top, "--commit"],
        &project,
        &[],
    )
    .success();
    assert_eq!(
        comparable(&project),
        expected,
        "walking up from level 1 with compute=ray"
    );
}

/// A team that tuned the model in `train.py` at level 1 must not lose the tuning at level 2,
/// where the model is configured in `configs/train.yaml`: level 2 rebuilds `build_model` from the
/// configuration in place, and the pipeline (`make train`, model CI, the release) and the tests
/// train through it, so the tuned lines meet level 2's in a conflict rather than living on in a
/// function nothing calls.
#[test]
fn a_model_tuned_in_train_py_at_level_1_is_a_conflict_at_level_2_never_bypassed() {
    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "1", "--no-input"])
        .success();
    let project = test.path("demo");
    let train = project.join("src/demo/train.py");
    let generated = std::fs::read_to_string(&train).unwrap();
    let stock = "LogisticRegression(max_iter=1000, random_state=seed)";
    let tuned = "LogisticRegression(max_iter=5000, C=0.3, random_state=seed)";
    assert!(generated.contains(stock), "{generated}");
    std::fs::write(&train, generated.replace(stock, tuned)).unwrap();
    commit_everything(&project, "Tune the model");

    let output = test.run_in("mlops", &["upgrade", "--format", "json"], &project, &[]);
    output.code(3);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(report["to_level"], 2);
    assert_eq!(
        report["conflicted_paths"],
        serde_json::json!(["src/demo/train.py"])
    );

    // The conflict puts the tuned builder next to level 2's configured one, named by side.
    let merged = std::fs::read_to_string(&train).unwrap();
    let ours = merged
        .find("<<<<<<< yours")
        .expect("a conflict in train.py");
    let theirs = merged.find(">>>>>>> level 2").unwrap();
    let conflict = &merged[ours..theirs];
    assert!(conflict.contains(tuned), "{merged}");
    assert!(
        conflict.contains("estimator = estimator or load_config().estimator"),
        "{merged}"
    );
    assert!(merged.contains("from .config import ConfigError, EstimatorConfig, load_config"));

    // Everything that trains at level 2 builds the model there.
    let pipeline = std::fs::read_to_string(project.join("src/demo/pipeline.py")).unwrap();
    assert!(pipeline.contains("from .train import build_model, evaluate"));
    assert!(
        pipeline
            .contains("return build_model(config.seed, config.estimator).fit(features, target)")
    );
    assert!(!pipeline.contains("LogisticRegression") && !pipeline.contains("def build_estimator"));
    let fixtures = std::fs::read_to_string(project.join("tests/conftest.py")).unwrap();
    assert!(
        fixtures.contains("train.train(dataset, path)"),
        "{fixtures}"
    );
}
