//! Whole generated trees as snapshots: every file's path, mode and content, so that any change to
//! what a level generates, including an extra or a missing file, shows up in review.

use crate::support::{Test, snapshot_settings, tree_text};

const ANSWERS: &[&str] = &[
    "--no-input",
    "--no-git",
    "--set",
    "author=Test User",
    "--set",
    "author_email=test@example.com",
    "--set",
    "description=Snapshot project",
];

fn available_levels(test: &Test) -> Vec<u64> {
    let output = test.mlops(&["levels", "--format", "json"]);
    output.success();
    let levels: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    levels
        .as_array()
        .unwrap()
        .iter()
        .map(|level| level["level"].as_u64().unwrap())
        .collect()
}

fn snapshot_level(level: u64, task: &str) {
    snapshot_level_of(level, task, "github");
}

fn snapshot_level_of(level: u64, task: &str, ci_provider: &str) {
    snapshot_project(level, task, ci_provider, "local");
}

fn snapshot_project(level: u64, task: &str, ci_provider: &str, compute: &str) {
    let test = Test::new();
    let level_text = level.to_string();
    let task_answer = format!("task={task}");
    let provider_answer = format!("ci_provider={ci_provider}");
    let compute_answer = format!("compute={compute}");
    let mut args = vec![
        "new",
        "demo",
        "--level",
        &level_text,
        "--set",
        &task_answer,
        "--set",
        &provider_answer,
    ];
    if compute != "local" {
        args.extend_from_slice(&["--set", &compute_answer]);
    }
    args.extend_from_slice(ANSWERS);
    test.mlops(&args).success();
    let mut name = format!("tree_level_{level}");
    if task != "classification" {
        name = format!("{name}_{task}");
    }
    if ci_provider != "github" {
        name = format!("{name}_{ci_provider}");
    }
    if compute != "local" {
        name = format!("{name}_{compute}");
    }
    snapshot_settings().bind(|| insta::assert_snapshot!(name, tree_text(&test.path("demo"))));
}

#[test]
fn every_level_as_a_whole_tree() {
    let test = Test::new();
    let levels = available_levels(&test);
    assert!(levels.len() >= 2, "levels 0 and 1 exist");
    for level in levels {
        snapshot_level(level, "classification");
    }
}

#[test]
fn the_highest_level_for_regression() {
    let test = Test::new();
    let highest = *available_levels(&test).last().unwrap();
    snapshot_level(highest, "regression");
}

#[test]
fn the_highest_level_for_each_other_ci_provider() {
    let test = Test::new();
    let highest = *available_levels(&test).last().unwrap();
    for ci_provider in ["gitlab", "azure"] {
        snapshot_level_of(highest, "classification", ci_provider);
    }
}

#[test]
fn level_0_for_regression() {
    snapshot_level(0, "regression");
}

#[test]
fn ray_where_it_starts_and_at_the_highest_level() {
    let test = Test::new();
    let highest = *available_levels(&test).last().unwrap();
    for level in [2, highest] {
        snapshot_project(level, "classification", "github", "ray");
    }
}
