//! Level 1, DevOps but no MLOps: data gathered automatically, unit tests of the application,
//! integration tests of the model, and CI/CD for the application.

use super::signals::{ORCHESTRATORS, defines_tests, is_scoring_name, runs_tests, targets_a_url};
use super::{Found, Repo, pipeline};
use crate::assess::facts::{Kind, Source};

/// Words that start a part of a Python file's name (`ingest.py`, `download_data.py`,
/// `fetcher.py`) when the file gathers data.
const GATHERING_WORDS: &[&str] = &[
    "ingest", "download", "fetch", "scrape", "crawl", "acquire", "etl",
];

/// Names of data-gathering files that take two words (`make_dataset.py`, `collect_data.py`).
const GATHERING_NAMES: &[&str] = &[
    "make_dataset",
    "get_data",
    "collect_data",
    "extract_data",
    "pull_data",
    "import_data",
    "load_raw",
];

/// How a Python file's name says it gathers data, if it does.
fn gathering_name(stem: &str) -> Option<&'static str> {
    let by_word = GATHERING_WORDS
        .iter()
        .copied()
        .find(|word| stem.split(['_', '-']).any(|part| part.starts_with(word)));
    by_word.or_else(|| {
        GATHERING_NAMES
            .iter()
            .copied()
            .find(|name| stem.contains(name))
    })
}

/// Calls that read data from somewhere.
const SOURCE_READS: &[&str] = &[
    "read_csv",
    "read_parquet",
    "read_sql",
    "read_json",
    "read_excel",
    "read_table",
    "urlopen",
    "urlretrieve",
    "requests.",
    "httpx.",
    "boto3",
    "s3fs",
    "gcsfs",
    "bigquery",
    "snowflake",
    "sqlalchemy",
    "load_dataset",
    "sklearn.datasets",
    "kaggle",
    "download",
    "fetch_",
    "load_",
    "open(",
];

pub(in crate::assess) fn data_gathered_automatically(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for module in repo.modules() {
        let stem = module.stem.as_str();
        if let Some(name) = gathering_name(stem)
            && let Some(read) = module.has_any(SOURCE_READS)
        {
            let read = read.trim_end_matches(['(', '.', '_']);
            found.add(module, format!("{name} script, reads its source ({read})"));
        } else if let Some(orchestrator) = module.imports_any(ORCHESTRATORS)
            && ["ingest", "extract", "download", "fetch", "load"]
                .iter()
                .any(|word| module.has_word_start(word))
        {
            found.add(module, format!("{orchestrator} flow that loads data"));
        }
    }
    for dvc in repo.of_kind(Kind::Dvc) {
        if dvc.is_dvc_pointer() && dvc.has("deps:") && (dvc.has("repo:") || dvc.has("://")) {
            found.add(dvc, "DVC import from a remote source");
        } else if dvc.is_dvc_pipeline()
            && [
                "ingest",
                "download",
                "fetch",
                "get_data",
                "make_dataset",
                "prepare",
            ]
            .iter()
            .any(|word| dvc.has_word_start(word))
        {
            found.add(dvc, "DVC pipeline with a data-gathering stage");
        }
    }
    found.met_if_any()
}

pub(in crate::assess) fn app_unit_tests(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for test in repo.tests().filter(|test| defines_tests(test)) {
        let count = test.code.matches("def test").count();
        let framework = if test.imports("unittest") || test.has("testcase") {
            "unittest"
        } else {
            "pytest"
        };
        let plural = if count == 1 { "" } else { "s" };
        found.add(test, format!("{count} {framework} test{plural}"));
    }
    found.met_if_any()
}

/// What a test does with a model: load it, or ask it for predictions.
const MODEL_USE: &[&str] = &[
    "predict(",
    "predict_proba(",
    "/predict",
    "/invocations",
    "joblib.load(",
    "pickle.load(",
    "load_model(",
    "torch.load(",
    "from_pretrained(",
    "onnxruntime",
    "pyfunc.load_model",
];

pub(in crate::assess) fn model_integration_tests(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for test in repo.tests().filter(|test| defines_tests(test)) {
        if let Some(used) = test.has_any(MODEL_USE) {
            let used = used.trim_end_matches('(');
            found.add(test, format!("exercises a model ({used})"));
        } else if let Some(module) = imported_scoring_module(test) {
            found.add(test, format!("exercises the scoring code (`{module}`)"));
        } else if targets_a_url(test) {
            found.add(test, "exercises a deployed model");
        }
    }
    found.met_if_any()
}

/// The last component of a scoring module (`score`, `predict_model`, ...) that `test` imports.
fn imported_scoring_module<'s>(test: &'s Source<'_>) -> Option<&'s str> {
    test.imports
        .iter()
        .filter_map(|import| import.rsplit('.').next())
        .find(|module| is_scoring_name(module))
}

/// Steps that deliver an application: images pushed, packages published, deployments.
const DELIVERY: &[&str] = &[
    "docker push",
    "build-push-action",
    "buildah push",
    "kaniko",
    "docker@2",
    "kubectl",
    "helm ",
    "gcloud run",
    "gcloud app deploy",
    "az webapp",
    "az containerapp",
    "heroku",
    "flyctl",
    "fly deploy",
    "twine upload",
    "gh-action-pypi-publish",
    "poetry publish",
    "uv publish",
    "hatch publish",
    "npm publish",
    "serverless deploy",
    "sam deploy",
    "cdk deploy",
    "terraform apply",
    "aws ecs",
    "ecs deploy",
    "azurewebapp",
    "kubernetesmanifest",
];

fn delivers(ci: &Source<'_>) -> Option<&'static str> {
    if let Some(step) = ci.has_any(DELIVERY) {
        return Some(step.trim());
    }
    ci.has_word_start("deploy").then_some("deploy")
}

pub(in crate::assess) fn app_ci_cd(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    let (mut tested, mut delivered) = (false, false);
    for ci in repo.ci() {
        let mut does = Vec::new();
        if let Some(runner) = runs_tests(ci) {
            tested = true;
            does.push(format!("runs the tests ({runner})"));
        }
        if let Some(step) = delivers(ci) {
            delivered = true;
            does.push(format!("delivers the application ({step})"));
        }
        if !does.is_empty() {
            found.add(ci, format!("{}: {}", pipeline(ci), does.join(", ")));
        }
    }
    found.met = tested && delivered;
    found
}

#[cfg(test)]
mod tests {
    use super::super::testing::{APP_CI_CD, DOWNLOAD, MODEL_TEST, PYTEST_APP, check, evidence_of};

    #[test]
    fn data_gathering_by_script_dvc_or_flow_but_not_by_notebook() {
        check(&[DOWNLOAD], &["data-gathered-automatically"]);
        check(
            &[(
                "notebooks/explore.ipynb",
                r#"{"cells": [{"cell_type": "code", "source": ["import pandas as pd\n", "df = pd.read_csv('data.csv')"]}]}"#,
            )],
            &[],
        );
        check(
            &[(
                "data/raw.dvc",
                "deps:\n- path: https://example.com/raw.csv\nouts:\n- path: raw.csv\n",
            )],
            &["data-gathered-automatically"],
        );
        check(
            &[(
                "dags/refresh.py",
                "from airflow import DAG\nfrom airflow.operators.python import PythonOperator\n\ndef extract():\n    pass\n",
            )],
            &["data-gathered-automatically"],
        );
        check(
            &[(
                "src/features.py",
                "import pandas as pd\nframe = pd.read_csv('data/raw.csv')\n",
            )],
            &[],
        );
        // A metrics collector is not a data collector.
        check(
            &[(
                "src/app/collector.py",
                "import json\nstate = json.load(open('state.json'))\n",
            )],
            &[],
        );
    }

    #[test]
    fn tests_of_the_app_and_of_the_model() {
        check(&[PYTEST_APP], &["app-unit-tests"]);
        check(
            &[MODEL_TEST],
            &["app-unit-tests", "model-integration-tests"],
        );
        check(
            &[(
                "tests/test_api.py",
                "import unittest\n\nclass ApiTest(unittest.TestCase):\n    def test_predict(self):\n        self.assertEqual(self.client.post('/predict').status_code, 200)\n",
            )],
            &["app-unit-tests", "model-integration-tests"],
        );
        check(
            &[("tests/conftest.py", "import pytest\nmodel.predict(x)\n")],
            &[],
        );
        assert_eq!(
            evidence_of(&[PYTEST_APP, MODEL_TEST], "app-unit-tests"),
            [
                "tests/test_app.py: 1 pytest test",
                "tests/test_model.py: 1 pytest test"
            ]
        );
    }

    #[test]
    fn ci_cd_needs_tests_and_delivery() {
        let tests_only = (
            ".github/workflows/ci.yml",
            "on: pull_request\njobs:\n  t:\n    steps:\n      - run: python -m pytest\n",
        );
        check(&[tests_only], &[]);
        assert_eq!(
            evidence_of(&[tests_only], "app-ci-cd"),
            [
                ".github/workflows/ci.yml: GitHub Actions pipeline, runs on every change: runs the tests (pytest)"
            ]
        );
        check(&[APP_CI_CD], &["app-ci-cd"]);
        // Publishing test results delivers nothing.
        check(
            &[(
                ".github/workflows/ci.yml",
                "on: push\njobs:\n  t:\n    steps:\n      - run: pytest --junitxml=report.xml\n      - uses: EnricoMi/publish-unit-test-result-action@v2\n",
            )],
            &[],
        );
        check(
            &[(
                ".gitlab-ci.yml",
                "stages: [test, deploy]\ntest:\n  script: [tox]\ndeploy:\n  stage: deploy\n  script: [./deploy.sh]\n",
            )],
            &["app-ci-cd"],
        );
        check(
            &[(
                "Jenkinsfile",
                "pipeline {\n  stages {\n    stage('Test') { steps { sh 'python -m unittest' } }\n    stage('Push') { steps { sh 'docker push registry/app' } }\n  }\n}\n",
            )],
            &["app-ci-cd"],
        );
        check(
            &[
                (
                    "Makefile",
                    "test:\n\tpytest -q\nrelease:\n\ttwine upload dist/*\n",
                ),
                (
                    "azure-pipelines.yml",
                    "trigger: [main]\nsteps:\n  - script: make test\n  - script: make release\n",
                ),
            ],
            &["app-ci-cd"],
        );
    }
}
