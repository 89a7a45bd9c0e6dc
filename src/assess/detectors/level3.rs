//! Level 3, Automated Model Deployment: models released automatically by a pipeline, release
//! tests run against each deployed model, and A/B metrics.

use super::signals::{HTTP_CLIENTS, is_configurable, names_a_url, runs_tests, targets_a_url};
use super::{Found, Repo, pipeline};
use crate::assess::facts::{Kind, Source};

/// Steps that put a model into service: phrases, then words (`promot` for promote, promotion).
const MODEL_RELEASE_PHRASES: &[&str] = &[
    "set_registered_model_alias",
    "transition_model_version_stage",
    "kubectl",
    "helm ",
    "docker push",
    "build-push-action",
];
const MODEL_RELEASE_WORDS: &[(&str, &str)] = &[
    ("promot", "promote"),
    ("deploy", "deploy"),
    ("rollout", "rollout"),
    ("release", "release"),
];

fn releases_a_model(ci: &Source<'_>) -> Option<&'static str> {
    let by_word = || {
        MODEL_RELEASE_WORDS
            .iter()
            .find(|(word, _)| ci.has_word_start(word))
            .map(|(_, label)| *label)
    };
    let step = by_word().or_else(|| ci.has_any(MODEL_RELEASE_PHRASES).map(str::trim))?;
    let about_a_model = ["model", "champion", "challenger", "mlflow", "dvc"]
        .iter()
        .any(|word| ci.has_word_start(word));
    about_a_model.then_some(step)
}

pub(in crate::assess) fn automated_model_release(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for ci in repo.ci() {
        let Some(step) = releases_a_model(ci) else {
            continue;
        };
        let triggers = ci.triggers;
        if triggers.automatic() && !triggers.approval {
            found.add(ci, format!("{}: releases the model ({step})", pipeline(ci)));
        } else {
            found.add_partial(
                ci,
                format!(
                    "{}: releases the model ({step}), started by a person",
                    pipeline(ci)
                ),
            );
        }
    }
    found.met_if_any()
}

pub(in crate::assess) fn release_tests_per_model(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    // A `conftest.py` that takes the URL (`--base-url`, an environment variable) gives it to the
    // tests beside it, which then need only name it and call it.
    let url_from_conftest = repo
        .tests()
        .any(|test| test.stem == "conftest" && names_a_url(test) && is_configurable(test));
    for source in &repo.sources {
        let is_test_like = source.is_test
            || ["smoke", "release", "e2e", "contract", "locust", "load_test"]
                .iter()
                .any(|word| source.stem.contains(word));
        let calls_a_given_url = targets_a_url(source)
            || (url_from_conftest
                && names_a_url(source)
                && source.imports_any(HTTP_CLIENTS).is_some());
        if source.kind == Kind::Python && is_test_like && calls_a_given_url {
            found.met = true;
            found.add(source, "tests a deployed model at a given URL");
        }
    }
    if found.met {
        for ci in repo.ci() {
            if releases_a_model(ci).is_some() && runs_tests(ci).is_some() {
                found.add(ci, format!("{}: runs tests in the release", pipeline(ci)));
            }
        }
    }
    found
}

fn routes_between_models(source: &Source<'_>) -> Option<&'static str> {
    let named = [
        "challenger",
        "ab_test",
        "abtest",
        "a_b_test",
        "traffic_split",
        "canarytrafficpercent",
        "productionvariants",
    ]
    .into_iter()
    .find(|word| source.has_word_start(word));
    if named.is_some() {
        return named;
    }
    let weighted_traffic = source.has("--traffic")
        || (source.has("traffic:") && (source.has("percent") || source.has("weight:")));
    if weighted_traffic {
        return Some("traffic split");
    }
    let split = ["split", "weight", "sticky", "bucket", "traffic"]
        .iter()
        .any(|word| source.has_word_start(word));
    (source.has_word_start("variant") && split).then_some("variant")
}

fn metrics_per_variant(source: &Source<'_>) -> bool {
    source.has_word_start("variant")
        && [
            "metric",
            "groupby",
            "labels(",
            "accuracy",
            "conversion",
            "per_variant",
        ]
        .iter()
        .any(|word| source.has(word))
}

pub(in crate::assess) fn ab_metrics(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    let (mut routed, mut measured) = (false, false);
    for source in &repo.sources {
        let relevant =
            source.is_product_code() || matches!(source.kind, Kind::Config | Kind::Ci(_));
        if !relevant {
            continue;
        }
        let routing = routes_between_models(source);
        let metrics = metrics_per_variant(source);
        match (routing, metrics) {
            (Some(word), true) => found.add(
                source,
                format!("routes between models ({word}) and measures each variant"),
            ),
            (Some(word), false) => found.add(source, format!("routes between models ({word})")),
            (None, true) => found.add(source, "metrics per variant"),
            (None, false) => continue,
        }
        routed |= routing.is_some();
        measured |= metrics;
    }
    found.met = routed && measured;
    found
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, evidence_of};

    #[test]
    fn model_release_is_automatic_only_when_nobody_starts_it() {
        let automatic = (
            ".github/workflows/release-model.yml",
            "on:\n  workflow_run:\n    workflows: [Train]\n    types: [completed]\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pkg.release --promote champion\n",
        );
        check(&[automatic], &["automated-model-release"]);
        let manual = (
            ".github/workflows/promote.yml",
            "on:\n  workflow_dispatch:\n    inputs:\n      version: {required: true}\njobs:\n  promote:\n    environment: production\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pkg.promote --model-version ${{ inputs.version }}\n",
        );
        check(&[manual], &[]);
        assert_eq!(
            evidence_of(&[manual], "automated-model-release"),
            [
                ".github/workflows/promote.yml: GitHub Actions pipeline, runs on demand: releases the model (promote), started by a person"
            ]
        );
        let gated = (
            ".gitlab-ci.yml",
            "deploy_model:\n  stage: deploy\n  script: [python deploy_model.py]\n  when: manual\n",
        );
        check(&[gated], &[]);
        // Delivering an application image on a tag is not releasing a model.
        check(
            &[(
                ".github/workflows/release.yml",
                "on:\n  push:\n    tags: ['v*']\njobs:\n  image:\n    steps:\n      - uses: docker/build-push-action@v6\n",
            )],
            &[],
        );
    }

    #[test]
    fn release_tests_target_a_deployed_url() {
        check(
            &[(
                "tests/release/test_endpoint.py",
                "import os\nimport httpx\n\nBASE_URL = os.environ['RELEASE_BASE_URL']\n\ndef test_predict_contract():\n    assert httpx.post(f'{BASE_URL}/predict', json=ROWS).status_code == 200\n",
            )],
            &[
                "app-unit-tests",
                "model-integration-tests",
                "release-tests-per-model",
            ],
        );
        // The URL comes from a `conftest.py` option; the test modules only use it.
        check(
            &[
                (
                    "tests/release/conftest.py",
                    "import pytest\n\ndef pytest_addoption(parser):\n    parser.addoption('--base-url')\n\n@pytest.fixture\ndef base_url(request):\n    return request.config.getoption('--base-url')\n",
                ),
                (
                    "tests/release/test_latency.py",
                    "import time\nimport httpx\n\ndef test_latency_budget(base_url):\n    start = time.perf_counter()\n    httpx.get(f'{base_url}/health')\n    assert time.perf_counter() - start < 0.2\n",
                ),
            ],
            &["app-unit-tests", "release-tests-per-model"],
        );
        check(
            &[(
                "tests/test_app.py",
                "from fastapi.testclient import TestClient\nimport os\nMODEL = os.environ.get('MODEL_PATH')\n\ndef test_x():\n    TestClient(app).get('/health')\n",
            )],
            &["app-unit-tests"],
        );
    }

    #[test]
    fn ab_metrics_need_routing_and_per_variant_metrics() {
        check(
            &[(
                "src/pkg/router.py",
                "import hashlib\n\ndef choose(key, split):\n    bucket = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 100\n    return 'challenger' if bucket < split * 100 else 'champion'\n",
            )],
            &[],
        );
        check(
            &[
                (
                    "src/pkg/router.py",
                    "def choose(key, split):\n    return 'challenger' if hash(key) % 100 < split else 'champion'\n",
                ),
                (
                    "src/pkg/ab_report.py",
                    "import pandas as pd\n\ndef report(log):\n    return log.groupby('variant').apply(metric)\n",
                ),
            ],
            &["ab-metrics"],
        );
    }
}
