//! Signals that detectors of more than one level read: a module of tests, a scoring module, a
//! pipeline that runs the tests or delivers the application, a training script, an
//! orchestrator, a test that calls a deployed model at a URL it is given or through a cloud
//! SDK.

use crate::assess::facts::{Kind, Source};

pub(super) const ORCHESTRATORS: &[&str] = &[
    "airflow", "prefect", "dagster", "luigi", "kedro", "zenml", "metaflow", "flytekit",
];

/// A test module with tests that test something (not skipped, not placeholders).
pub(super) fn defines_tests(test: &Source<'_>) -> bool {
    test.stem != "conftest" && test.tests.real > 0
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
    source.is_code()
        && !source.is_test
        && (stem.split(['_', '-']).any(|part| part.starts_with("train")) || source.has(".fit("))
}

/// Steps that deliver an application: images pushed, packages published, deployments.
const DELIVERY: &[&str] = &[
    "docker push",
    "buildah push",
    "podman push",
    "kaniko",
    "docker@2",
    "kubectl",
    "helm ",
    "gcloud run",
    "gcloud app deploy",
    "gcloud ai endpoints deploy-model",
    "gcloud functions deploy",
    "az webapp",
    "az containerapp",
    "az ml online-deployment",
    "az ml model deploy",
    "az ml batch-deployment",
    "az ml online-endpoint create",
    "aws lambda update-function",
    "aws cloudformation deploy",
    "aws ecs",
    "ecs deploy",
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
    "databricks bundle deploy",
    "anyscale service rollout",
    "anyscale service deploy",
    "azurewebapp",
    "kubernetesmanifest",
];

/// Deployments of documentation, which deliver no application.
const DOCS_DEPLOYMENT: &[&str] = &["gh-deploy", "deploy-pages", "gh-pages", "pages-artifact"];

/// How `ci` (a pipeline, a script, a job spec) delivers the application, if it does. An image
/// built and not pushed delivers nothing (`docker build -t app-deploy .`); nor does a
/// documentation site (`mkdocs gh-deploy`); the word `deploy` counts as a command, a script or
/// a job, not inside a name (`some-deploy-name`) or as the name of a stage.
pub(super) fn delivers(ci: &Source<'_>) -> Option<&'static str> {
    if ci.has("build-push-action") && !ci.has("push: false") {
        return Some("build-push-action");
    }
    if let Some(step) = ci.has_any(DELIVERY) {
        return Some(step.trim());
    }
    deploys_by_word(ci).then_some("deploy")
}

/// Whether `deploy` is a command, a job or a script of `ci`: a word that starts `deploy` with no
/// `-`, `_` or `.` before it and no `/` after it (a directory), outside a documentation
/// deployment and the names of stages.
pub(super) fn deploys_by_word(ci: &Source<'_>) -> bool {
    if !ci.has("deploy") {
        return false;
    }
    let bytes = ci.code.as_bytes();
    ci.code.match_indices("deploy").any(|(start, _)| {
        let line_start = ci.code[..start].rfind('\n').map_or(0, |index| index + 1);
        let line_end = ci.code[start..]
            .find('\n')
            .map_or(ci.code.len(), |index| start + index);
        let line = ci.code[line_start..line_end]
            .trim()
            .trim_start_matches("- ");
        // The name of a stage, a job or an environment says what it is for, not what it does;
        // so does a key of its own (`deploy:`, a job whose commands say what it does).
        let names_a_stage = ["stage:", "stages:", "job:", "dependson:", "environment:"]
            .iter()
            .any(|key| line.starts_with(key));
        let bare_key = line.ends_with(':') && !line.contains(' ');
        if names_a_stage || bare_key {
            return false;
        }
        let before = start.checked_sub(1).map(|index| bytes[index]);
        let starts_a_word = before.is_none_or(|byte| {
            !byte.is_ascii_alphanumeric() && !matches!(byte, b'-' | b'_' | b'.')
        });
        let rest = &ci.code[start + "deploy".len()..];
        let word_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if rest[word_end..].starts_with('/') {
            return false;
        }
        let token_start = ci.code[..start]
            .rfind(|c: char| c.is_whitespace())
            .map_or(0, |index| index + 1);
        let token_end = ci.code[start..]
            .find(|c: char| c.is_whitespace())
            .map_or(ci.code.len(), |index| start + index);
        let token = &ci.code[token_start..token_end];
        let docs = DOCS_DEPLOYMENT.iter().any(|docs| token.contains(docs))
            || token.contains("docs")
            || token.contains("pages");
        starts_a_word && !docs
    })
}

/// What a CI pipeline delivers that is a documentation site, or an image it builds without
/// pushing: said to `--explain` when nothing else is delivered.
pub(super) fn looks_like_delivery(ci: &Source<'_>) -> Option<&'static str> {
    if let Some(docs) = ci.has_any(DOCS_DEPLOYMENT) {
        return Some(match docs {
            "gh-deploy" => "deploys a documentation site (mkdocs gh-deploy), not the application",
            _ => "publishes a documentation site (GitHub Pages), not the application",
        });
    }
    if ci.has("build-push-action") {
        return Some("builds an image with `push: false`: nothing is delivered");
    }
    if ci.has("docker build") {
        return Some("builds an image (docker build) and never pushes it: nothing is delivered");
    }
    ci.has("deploy")
        .then_some("says `deploy` only in a name, a stage or a directory: nothing is deployed")
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

/// Calls of a deployed model through a cloud SDK or CLI, described.
const DEPLOYED_MODEL_CALLS: &[(&str, &str)] = &[
    (
        "invoke_endpoint(",
        "calls a SageMaker endpoint (invoke_endpoint)",
    ),
    (
        "invoke-endpoint",
        "calls a SageMaker endpoint (invoke-endpoint)",
    ),
    (
        "online_endpoints.invoke(",
        "calls an Azure ML online endpoint",
    ),
    (
        "online-endpoint invoke",
        "calls an Azure ML online endpoint",
    ),
    (
        "serving_endpoints.query(",
        "calls a Databricks serving endpoint",
    ),
    (
        "serving-endpoints query",
        "calls a Databricks serving endpoint",
    ),
    ("gcloud ai endpoints predict", "calls a Vertex AI endpoint"),
    (
        "get_deploy_client(",
        "calls a deployed model through MLflow deployments",
    ),
];

/// How `source` calls a deployed model through a cloud SDK or CLI, rather than a URL: an
/// endpoint object of a cloud SDK asked for predictions (`aiplatform.Endpoint(...).predict`,
/// a SageMaker `Predictor`), or one of the calls above.
pub(super) fn calls_a_deployed_model(source: &Source<'_>) -> Option<&'static str> {
    if let Some((_, detail)) = DEPLOYED_MODEL_CALLS
        .iter()
        .find(|(call, _)| source.has(call))
    {
        return Some(detail);
    }
    let endpoint_object = (source.imports("google.cloud.aiplatform") && source.has("endpoint("))
        || (source.imports("sagemaker") && source.has("predictor("));
    (endpoint_object && source.has(".predict(")).then_some("calls a deployed endpoint's predict")
}

/// A file that runs checks: a test module, or a script named for smoke, release or end-to-end
/// tests.
pub(super) fn is_test_like(source: &Source<'_>) -> bool {
    source.kind == Kind::Python
        && (source.is_test
            || ["smoke", "release", "e2e", "contract", "locust", "load_test"]
                .iter()
                .any(|word| source.stem.contains(word)))
}
