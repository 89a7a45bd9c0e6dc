//! Every repository fixture of `tests/fixtures/assess/` declares, in its `expected.toml`, the
//! level and the verdict on each criterion an engineer reading it would give; `mlops assess`
//! must agree, except on the criteria the fixture lists as known misses (with why), where it
//! must still disagree, so that the list stays true. The agreement over all fixtures is printed.

use std::collections::BTreeSet;
use std::path::Path;

use super::{copy_fixture, json};
use crate::support::{Test, snapshot_settings};

/// What a fixture's `expected.toml` says.
struct Expected {
    level: u64,
    /// Criterion id and intended verdict.
    criteria: Vec<(String, bool)>,
    /// Criteria where assess is known to disagree, and why.
    known_misses: Vec<String>,
}

fn expected(shape: &str) -> Expected {
    let path = fixtures_dir().join(shape).join("expected.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("`{}`: {error}", path.display()));
    let table: toml::Table = toml::from_str(&text).unwrap();
    let criteria = table["criteria"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(id, met)| (id.clone(), met.as_bool().unwrap()))
        .collect();
    let known_misses = table
        .get("known_misses")
        .and_then(toml::Value::as_table)
        .map(|misses| misses.keys().cloned().collect())
        .unwrap_or_default();
    Expected {
        level: u64::try_from(table["level"].as_integer().unwrap()).unwrap(),
        criteria,
        known_misses,
    }
}

fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/assess")
}

/// The fixtures first written for this test's data, whose text reports are snapshots here (the
/// older ones have tests and snapshots of their own in `assess.rs`).
const SNAPSHOTTED: &[&str] = &[
    "azure-mlops-v2",
    "azuredevops-aml-sdk-v2",
    "cookiecutter-ds-v2",
    "databricks-mlops-stack",
    "dvc-kaggle-cml-report",
    "github-workflow-run-k8s",
    "gitlab-helm-release",
    "hf-finetune-variants",
    "kubeflow-kfp-pipeline",
    "lightning-hydra-prefect",
    "made-with-ml-anyscale",
    "mlopspython-pipelines",
    "sagemaker-project",
    "vertex-cloud-build",
    "zoomcamp-stream-lambda",
];

#[test]
fn every_fixture_is_assessed_as_its_expected_verdicts_say() {
    let test = Test::new();
    let mut shapes: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    shapes.sort();
    let (mut agreeing, mut verdicts, mut levels_agreeing) = (0, 0, 0);
    let mut failures = Vec::new();
    for shape in &shapes {
        let expected = expected(shape);
        copy_fixture(&test, shape);
        let output = test.mlops(&["assess", shape, "--format", "json"]);
        output.success();
        let report = json(&output);
        let ids: BTreeSet<&str> = report["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .map(|criterion| criterion["id"].as_str().unwrap())
            .collect();
        let declared: BTreeSet<&str> = expected
            .criteria
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(declared, ids, "`{shape}` declares every criterion");
        let met = |id: &str| {
            report["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .find(|criterion| criterion["id"] == id)
                .unwrap()["met"]
                == true
        };
        for (id, intended) in &expected.criteria {
            verdicts += 1;
            let agrees = met(id) == *intended;
            agreeing += usize::from(agrees);
            let known = expected.known_misses.contains(id);
            if agrees == known {
                let what = if known {
                    "a known miss that now agrees"
                } else {
                    "disagrees"
                };
                failures.push(format!("`{shape}`: `{id}` {what} (intended {intended})"));
            }
        }
        if report["level"] == expected.level {
            levels_agreeing += 1;
        } else {
            failures.push(format!(
                "`{shape}`: level {} (intended {})",
                report["level"], expected.level
            ));
        }
        if SNAPSHOTTED.contains(&shape.as_str()) {
            let text = test.mlops(&["assess", shape]);
            text.success();
            let name = format!("assess_fixture_{}", shape.replace('-', "_"));
            snapshot_settings().bind(|| insta::assert_snapshot!(name, text.stdout));
        }
    }
    eprintln!(
        "agreement: {agreeing} of {verdicts} criterion verdicts, {levels_agreeing} of {} levels",
        shapes.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(shapes.len() >= 23, "{shapes:?}");
}
