//! Signals that detectors of more than one level read: a module of tests, a scoring module, a
//! pipeline that runs the tests, a training script, an orchestrator, a test that calls a
//! deployed model at a URL it is given.

use crate::assess::facts::{Kind, Source};

pub(super) const ORCHESTRATORS: &[&str] = &[
    "airflow", "prefect", "dagster", "luigi", "kedro", "zenml", "metaflow", "flytekit",
];

/// A test module with test functions or test cases.
pub(super) fn defines_tests(test: &Source<'_>) -> bool {
    test.stem != "conftest" && (test.has("def test") || test.has("testcase"))
}

/// Module names of scoring code.
const SCORING_NAMES: &[&str] = &["scor", "predict", "inference", "infer"];

pub(super) fn is_scoring_name(stem: &str) -> bool {
    stem != "__init__" && SCORING_NAMES.iter().any(|name| stem.contains(name))
}

const TEST_RUNNERS: &[&str] = &["pytest", "unittest", "tox", "nox", "manage.py test"];

pub(super) fn runs_tests(ci: &Source<'_>) -> Option<&'static str> {
    TEST_RUNNERS
        .iter()
        .copied()
        .find(|runner| ci.has_word(runner))
}

/// A training script: a module named for training, or one that fits a model.
pub(super) fn is_training_code(source: &Source<'_>) -> bool {
    let stem = &source.stem;
    source.kind == Kind::Python
        && !source.is_test
        && (stem.split(['_', '-']).any(|part| part.starts_with("train")) || source.has(".fit("))
}

pub(super) const HTTP_CLIENTS: &[&str] = &[
    "requests",
    "httpx",
    "urllib.request",
    "aiohttp",
    "locust",
    "urllib3",
];

pub(super) fn names_a_url(source: &Source<'_>) -> bool {
    ["base_url", "_url", "--url", "endpoint", "scoring_uri"]
        .iter()
        .any(|name| source.has(name))
}

/// Takes a value from the environment or the command line.
pub(super) fn is_configurable(source: &Source<'_>) -> bool {
    ["environ", "getenv", "addoption", "getoption", "argparse"]
        .iter()
        .any(|from| source.has(from))
}

/// A test module that calls a deployed service at a URL it is given.
pub(super) fn targets_a_url(test: &Source<'_>) -> bool {
    names_a_url(test) && is_configurable(test) && test.imports_any(HTTP_CLIENTS).is_some()
}
