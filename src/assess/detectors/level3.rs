//! Level 3, Automated Model Deployment: models released automatically by a pipeline, release
//! tests run against each deployed model, and A/B metrics.

use super::signals::is_training_code;
use super::signals::{
    HTTP_CLIENTS, calls_a_deployed_model, delivers, deploys_by_word, is_configurable, is_test_like,
    names_a_url, runs_tests, targets_a_url,
};
use super::training::{pipeline_trains, starts_a_pipeline, trains_by_command};
use super::{Found, Repo, pipeline, through};
use crate::assess::facts::{Job, Kind, Source};

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
            .find(|(word, _)| {
                if *word == "deploy" {
                    deploys_by_word(ci)
                } else {
                    ci.has_word_start(word)
                }
            })
            .map(|(_, label)| *label)
    };
    let step = by_word().or_else(|| ci.has_any(MODEL_RELEASE_PHRASES).map(str::trim))?;
    let about_a_model = ["model", "champion", "challenger", "mlflow", "dvc"]
        .iter()
        .any(|word| ci.has_word_start(word));
    about_a_model.then_some(step)
}

/// Signs that a release waits for a person to approve the model in a registry: the deployment
/// takes the latest approved model package, or an approval event starts it.
const REGISTRY_APPROVALS: &[&str] = &[
    "modelapprovalstatus",
    "approval_status",
    "model package state change",
    "approvalstatus",
];

/// How `ci`, or what it runs, waits for a person to approve the model, if it does.
fn waits_for_approval(repo: &Repo<'_>, ci: &Source<'_>) -> Option<String> {
    let approved = |source: &Source<'_>| {
        REGISTRY_APPROVALS.iter().any(|sign| source.has(sign)) && source.has("approved")
    };
    if approved(ci) {
        return Some("releases the model a person approved in the registry".to_owned());
    }
    repo.reached(ci)
        .find(|source| approved(source))
        .map(|source| {
            through(
                "releases the model a person approved in the registry",
                Some(source.path),
            )
        })
}

/// The training pipeline whose success starts `ci` (GitHub `workflow_run`, Azure pipeline
/// resources): a pipeline of the repository by that name that trains, or one named for
/// training when it is not in the repository.
fn started_by_training(repo: &Repo<'_>, ci: &Source<'_>) -> Option<String> {
    ci.pipeline.upstream.iter().find_map(|upstream| {
        let named = repo.ci().find(|other| {
            other.pipeline.name.as_deref() == Some(upstream.as_str()) || other.stem == *upstream
        });
        match named {
            Some(other) => pipeline_trains(repo, other)
                .map(|_| format!("started when `{}` (which trains) succeeds", other.path)),
            None => upstream
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|word| word.starts_with("train"))
                .then(|| format!("started when the training pipeline `{upstream}` succeeds")),
        }
    })
}

/// In a pipeline whose jobs say what they need (GitHub, GitLab), a job that delivers after a
/// training job succeeds, or starts a pipeline file that delivers.
fn delivers_after_training(repo: &Repo<'_>, ci: &Source<'_>) -> Option<String> {
    let jobs = &ci.pipeline.jobs;
    if jobs.is_empty() {
        return None;
    }
    // The training modules the pipeline runs, as a job's commands may name them.
    let training_modules: Vec<&Source<'_>> = repo
        .reached_modules(ci)
        .filter(|module| is_training_code(module) || starts_a_pipeline(module).is_some())
        .collect();
    let trains = |job: &Job| {
        let snippet = Source::new("job.sh", &job.code)?;
        trains_by_command(&snippet).or_else(|| {
            training_modules
                .iter()
                .any(|module| names_module(&job.code, module.path))
                .then_some("runs the training code")
        })
    };
    for job in jobs {
        let snippet = Source::new("job.sh", &job.code)?;
        let delivery = delivers(&snippet).map(str::to_owned).or_else(|| {
            job.starts.iter().find_map(|started| {
                let file = repo.ci().find(|other| {
                    other
                        .path
                        .eq_ignore_ascii_case(started.trim_start_matches("./"))
                })?;
                delivers(file).map(|step| format!("{step}, in `{}`", file.path))
            })
        });
        let Some(delivery) = delivery else {
            continue;
        };
        if needs_transitively(jobs, job).any(|needed| trains(needed).is_some()) {
            return Some(format!(
                "job `{}` delivers ({delivery}) after a training job succeeds",
                job.name
            ));
        }
    }
    None
}

/// Whether `code` names the module at `path`, as a path or dotted (`src/churn/pipeline.py`
/// as `churn/pipeline.py` or `churn.pipeline`).
fn names_module(code: &str, path: &str) -> bool {
    let path = path.to_lowercase();
    let without_extension = path.trim_end_matches(".py");
    let in_package = without_extension
        .strip_prefix("src/")
        .unwrap_or(without_extension);
    [
        without_extension.to_owned(),
        in_package.to_owned(),
        in_package.replace('/', "."),
    ]
    .iter()
    .any(|form| code.contains(form.as_str()))
}

/// The jobs `job` needs, and the jobs they need, each once.
fn needs_transitively<'j>(jobs: &'j [Job], job: &'j Job) -> impl Iterator<Item = &'j Job> {
    let mut seen: Vec<&'j Job> = Vec::new();
    let mut pending: Vec<&str> = job.needs.iter().map(String::as_str).collect();
    while let Some(name) = pending.pop() {
        if let Some(needed) = jobs.iter().find(|other| other.name == name)
            && !seen.iter().any(|other| std::ptr::eq(*other, needed))
        {
            seen.push(needed);
            pending.extend(needed.needs.iter().map(String::as_str));
        }
    }
    seen.into_iter()
}

pub(in crate::assess) fn automated_model_release(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("CI pipelines", repo.ci());
    for ci in repo.ci() {
        let chained = started_by_training(repo, ci)
            .and_then(|started| {
                let (step, via) = repo.find_in_pipeline(ci, delivers)?;
                Some(through(format!("{started}, deploys ({step})"), via))
            })
            .or_else(|| delivers_after_training(repo, ci));
        let named = || {
            repo.find_in_pipeline(ci, releases_a_model)
                .map(|(step, via)| through(format!("releases the model ({step})"), via))
        };
        let Some(release) = named().or(chained) else {
            continue;
        };
        let triggers = ci.triggers;
        if let Some(approval) = waits_for_approval(repo, ci) {
            found.add_partial(
                ci,
                format!("{}: {approval}, started by a person", pipeline(ci)),
            );
            found.reject(
                ci,
                "deploys on a registry approval: a person decides each release, so it is not automatic",
            );
        } else if triggers.automatic() && !triggers.approval {
            found.add(ci, format!("{}: {release}", pipeline(ci)));
        } else {
            found.add_partial(
                ci,
                format!("{}: {release}, started by a person", pipeline(ci)),
            );
        }
    }
    found.met_if_any()
}

pub(in crate::assess) fn release_tests_per_model(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads(
        "Python modules and tests",
        repo.sources
            .iter()
            .filter(|source| source.kind == Kind::Python),
    );
    // A `conftest.py` that takes the URL (`--base-url`, an environment variable) gives it to the
    // tests beside it, which then need only name it and call it.
    let url_from_conftest = repo
        .tests()
        .any(|test| test.stem == "conftest" && names_a_url(test) && is_configurable(test));
    for source in &repo.sources {
        // A module whose tests are all placeholders tests nothing; a script of checks has none.
        let only_placeholders = source.tests.real == 0 && source.tests.placeholders > 0;
        if !is_test_like(source) || only_placeholders {
            continue;
        }
        let calls_a_given_url = targets_a_url(source)
            || (url_from_conftest
                && names_a_url(source)
                && source.imports_any(HTTP_CLIENTS).is_some());
        if calls_a_given_url {
            found.met = true;
            found.add(source, "tests a deployed model at a given URL");
        } else if let Some(call) = calls_a_deployed_model(source) {
            found.met = true;
            found.add(source, format!("tests a deployed model ({call})"));
        }
    }
    // A release pipeline that calls the model it has just deployed.
    for ci in repo.ci() {
        if releases(repo, ci)
            && let Some((call, via)) = repo.find_in_pipeline(ci, calls_a_deployed_model)
        {
            found.met = true;
            found.add(
                ci,
                through(
                    format!(
                        "{}: calls the deployed model in the release ({call})",
                        pipeline(ci)
                    ),
                    via,
                ),
            );
        }
    }
    if found.met {
        for ci in repo.ci() {
            if releases(repo, ci) && repo.find_in_pipeline(ci, runs_tests).is_some() {
                found.add(ci, format!("{}: runs tests in the release", pipeline(ci)));
            }
        }
    }
    super::dedup(found)
}

/// Whether `ci` releases a model, by name or after training.
fn releases(repo: &Repo<'_>, ci: &Source<'_>) -> bool {
    repo.find_in_pipeline(ci, releases_a_model).is_some()
        || (started_by_training(repo, ci).is_some()
            && repo.find_in_pipeline(ci, delivers).is_some())
        || delivers_after_training(repo, ci).is_some()
}

fn routes_between_models(source: &Source<'_>) -> Option<&'static str> {
    let named = [
        "challenger",
        "ab_test",
        "abtest",
        "a_b_test",
        "traffic_split",
        "canarytrafficpercent",
    ]
    .into_iter()
    .find(|word| source.has_word_start(word));
    if named.is_some() {
        return named;
    }
    // A SageMaker endpoint splits traffic only between two variants or more.
    if source.has("productionvariants") && source.code.matches("variantname").count() >= 2 {
        return Some("productionvariants");
    }
    let weighted_traffic = source.has("--traffic")
        || (source.has("traffic:") && (source.has("percent") || source.has("weight:")));
    if weighted_traffic {
        return Some("traffic split");
    }
    let assigned = ["sticky", "bucket", "traffic"]
        .iter()
        .any(|word| source.has_word_start(word));
    (names_variants(source) && assigned).then_some("variant")
}

/// Whether `source` speaks of variants as something it assigns or measures, not as an argument
/// of a call (`from_pretrained(..., variant="fp16")` picks a file, not a model to route to).
fn names_variants(source: &Source<'_>) -> bool {
    source.has("variant")
        && source.code.match_indices("variant").any(|(start, _)| {
            let rest = &source.code[start..];
            let word_end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let before = source.code[..start].chars().next_back();
            let starts_a_word = before.is_none_or(|c| !c.is_ascii_alphanumeric());
            starts_a_word && !rest[word_end..].starts_with('=')
        })
}

fn metrics_per_variant(source: &Source<'_>) -> bool {
    names_variants(source)
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
    let relevant = |source: &&Source<'_>| {
        source.is_product_code() || matches!(source.kind, Kind::Config | Kind::Ci(_))
    };
    found.reads(
        "code, configuration and CI pipelines",
        repo.sources.iter().filter(relevant),
    );
    let (mut routed, mut measured) = (false, false);
    for source in repo.sources.iter().filter(relevant) {
        if source.has("variant=") && !names_variants(source) {
            found.reject(
                source,
                "`variant=` picks a model file (a precision, a revision), not a model to route to",
            );
        } else if source.has("productionvariants") && routes_between_models(source).is_none() {
            found.reject(
                source,
                "an endpoint with a single production variant routes all traffic to one model",
            );
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
