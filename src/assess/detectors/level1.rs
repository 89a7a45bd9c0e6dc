//! Level 1, DevOps but no MLOps: data gathered automatically, unit tests of the application,
//! integration tests of the model, and CI/CD for the application.

use super::signals::{
    calls_a_deployed_model, defines_tests, delivers, is_scoring_name, looks_like_delivery,
    runs_tests, targets_a_url,
};
use super::{Found, Repo, pipeline, through};
use crate::assess::facts::Source;

pub(in crate::assess) use super::gathering::data_gathered_automatically;

pub(in crate::assess) fn app_unit_tests(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python test modules", repo.tests());
    reject_placeholders(repo, &mut found);
    for test in repo.tests().filter(|test| defines_tests(test)) {
        let count = test.tests.real;
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

/// Test modules whose tests all test nothing, rejected with why.
fn reject_placeholders(repo: &Repo<'_>, found: &mut Found) {
    for test in repo.tests() {
        if test.tests.real == 0 && test.tests.placeholders > 0 {
            let n = test.tests.placeholders;
            let plural = if n == 1 { "" } else { "s" };
            found.reject(
                test,
                format!("{n} test{plural}, each skipped, expected to fail or a placeholder (`assert False`, `pass`)"),
            );
        }
    }
}

pub(in crate::assess) fn model_integration_tests(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python test modules", repo.tests());
    reject_placeholders(repo, &mut found);
    for test in repo.tests().filter(|test| defines_tests(test)) {
        if let Some(call) = calls_a_deployed_model(test) {
            found.add(test, format!("exercises a deployed model ({call})"));
        } else if let Some(used) = test.has_any(MODEL_USE) {
            let used = used.trim_end_matches('(');
            found.add(test, format!("exercises a model ({used})"));
        } else if let Some(module) = imported_scoring_module(test) {
            found.add(test, format!("exercises the scoring code (`{module}`)"));
        } else if targets_a_url(test) {
            found.add(test, "exercises a deployed model");
        }
    }
    // A pipeline that runs on changes and validates the model it trains against thresholds.
    for ci in repo.ci().filter(|ci| ci.triggers.on_change) {
        if let Some(validation) = repo
            .reached_modules(ci)
            .find(|module| validates_a_model(module))
        {
            found.add(
                ci,
                format!(
                    "{}: validates the trained model against thresholds, through `{}`",
                    pipeline(ci),
                    validation.path
                ),
            );
        }
    }
    found.met_if_any()
}

/// Code that checks a trained model against thresholds: MLflow's model validation.
fn validates_a_model(module: &Source<'_>) -> bool {
    module.has("mlflow.evaluate(")
        && ["validation_thresholds", "metricthreshold("]
            .iter()
            .any(|threshold| module.has(threshold))
}

/// The last component of a scoring module (`score`, `predict_model`, ...) that `test` imports.
fn imported_scoring_module<'s>(test: &'s Source<'_>) -> Option<&'s str> {
    test.imports
        .iter()
        .filter_map(|import| import.rsplit('.').next())
        .find(|module| is_scoring_name(module))
}

pub(in crate::assess) fn app_ci_cd(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("CI pipelines", repo.ci());
    let (mut tested, mut delivered) = (false, false);
    for ci in repo.ci() {
        let mut does = Vec::new();
        if let Some((runner, via)) = repo.find_in_pipeline(ci, runs_tests) {
            tested = true;
            does.push(through(format!("runs the tests ({runner})"), via));
        }
        if let Some((step, via)) = repo.find_in_pipeline(ci, delivers) {
            delivered = true;
            does.push(through(format!("delivers the application ({step})"), via));
        } else if let Some(why) = looks_like_delivery(ci) {
            found.reject(ci, why);
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
    use super::super::testing::{APP_CI_CD, MODEL_TEST, PYTEST_APP, check, evidence_of};

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

    #[test]
    fn placeholders_test_nothing() {
        check(
            &[(
                "tests/test_data.py",
                "def test_code_is_tested():\n    assert False\n",
            )],
            &[],
        );
        let assessment = super::super::testing::assessed(&[(
            "tests/test_pipelines.py",
            "import pytest\n\n@pytest.mark.xfail\ndef test_that_you_wrote_tests():\n    raise Exception('this test will fail')\n",
        )]);
        let finding = &assessment.findings[1];
        assert_eq!(finding.criterion.id, "app-unit-tests");
        assert!(!finding.met);
        assert_eq!(
            finding.rejected[0].detail,
            "1 test, each skipped, expected to fail or a placeholder (`assert False`, `pass`)"
        );
    }

    #[test]
    fn images_built_and_documentation_sites_deliver_nothing() {
        for pipeline in [
            "on: push\njobs:\n  t:\n    steps:\n      - run: pytest\n      - run: docker build -t churn-deploy-api .\n",
            "on: push\njobs:\n  t:\n    steps:\n      - run: pytest\n      - run: mkdocs gh-deploy --force\n",
            "on: push\njobs:\n  t:\n    steps:\n      - run: pytest\n      - uses: docker/build-push-action@v6\n        with:\n          push: false\n",
        ] {
            check(&[(".github/workflows/ci.yml", pipeline)], &[]);
        }
        // Through the script a pipeline runs, tests and a push count.
        check(
            &[
                (
                    ".github/workflows/ci.yml",
                    "on: push\njobs:\n  t:\n    steps:\n      - run: bash scripts/ci.sh\n",
                ),
                (
                    "scripts/ci.sh",
                    "python -m pytest tests\ndocker push registry/app:latest\n",
                ),
            ],
            &["app-ci-cd"],
        );
        assert_eq!(
            evidence_of(
                &[
                    (
                        ".pipelines/ci.yml",
                        "trigger: [main]\npool:\n  vmImage: ubuntu-latest\nsteps:\n  - script: bash scripts/ci.sh\n",
                    ),
                    ("scripts/ci.sh", "pytest\n"),
                ],
                "app-ci-cd"
            ),
            [
                ".pipelines/ci.yml: Azure Pipelines pipeline (recognised by its content), runs on every change: runs the tests (pytest), through `scripts/ci.sh`"
            ]
        );
    }
}
