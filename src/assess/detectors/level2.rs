//! Level 2, Automated Training: experiments tracked, training code and models versioned,
//! compute managed, the scoring script versioned and tested, and CI for the model.

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::AhoCorasick;

use super::signals::{defines_tests, is_scoring_name, is_test_like};
use super::training::{pipeline_trains, submits_to};
use super::{Found, Repo, dedup, pipeline};
use crate::assess::facts::{Kind, Provider, Source};

pub(in crate::assess) use super::tracking::{code_and_models_versioned, experiments_tracked};

/// Services and frameworks that run training on managed compute.
const MANAGED_COMPUTE: &[(&str, &str)] = &[
    ("sagemaker", "SageMaker"),
    ("azure.ai.ml", "Azure Machine Learning"),
    ("azureml", "Azure Machine Learning"),
    ("google.cloud.aiplatform", "Vertex AI"),
    ("kfp", "Kubeflow Pipelines"),
    ("ray", "Ray"),
    ("modal", "Modal"),
    ("sky", "SkyPilot"),
    ("runhouse", "Runhouse"),
    ("metaflow", "Metaflow"),
    ("flytekit", "Flyte"),
    ("databricks", "Databricks"),
    ("coiled", "Coiled"),
];

/// Kubernetes and workflow-engine resources that run a job.
const JOB_RESOURCES: &[&str] = &[
    "kind: job",
    "kind: cronjob",
    "kind: pytorchjob",
    "kind: tfjob",
    "kind: rayjob",
    "kind: workflow",
    "kind: trainingjob",
];

/// A CI runner chosen by configuration: a variable, a label, a pool or an agent.
fn configurable_runner(ci: &Source<'_>) -> Option<&'static str> {
    let lines: Vec<&str> = ci.code.lines().map(str::trim).collect();
    let by_variable = lines
        .iter()
        .any(|line| line.starts_with("runs-on:") && line.contains("${{"));
    if by_variable {
        return Some("a runner chosen by a variable");
    }
    if ci.has("self-hosted") {
        return Some("a self-hosted runner");
    }
    // A runner label that is not one of GitHub's hosted images: a runner the team provides.
    let by_label = ci.provider() == Some(Provider::GithubActions)
        && lines.iter().any(|line| {
            line.strip_prefix("runs-on:").is_some_and(|value| {
                let value = value.trim().trim_matches(['"', '\'', '[', ']']);
                !value.is_empty()
                    && !["ubuntu-", "windows-", "macos-", "${{"]
                        .iter()
                        .any(|hosted| value.starts_with(hosted))
            })
        });
    if by_label {
        return Some("a runner chosen by label");
    }
    if ci.provider() == Some(Provider::GitlabCi)
        && lines.iter().any(|line| line.starts_with("tags:"))
    {
        return Some("a runner chosen by tags");
    }
    // An Azure pool by name (`pool: gpu` or `pool:` then `name: gpu`), not a hosted `vmImage`.
    let named_pool = lines.iter().enumerate().any(|(index, line)| {
        line.strip_prefix("pool:").is_some_and(|value| {
            let value = value.trim();
            (!value.is_empty() && !value.starts_with('{'))
                || lines
                    .get(index + 1)
                    .is_some_and(|next| next.starts_with("name:"))
        })
    });
    if named_pool {
        return Some("a named agent pool");
    }
    if ci.has("agent {") && (ci.has("label") || ci.has("kubernetes")) {
        return Some("an agent chosen by label");
    }
    None
}

/// Settings that run a job on a Databricks cluster.
const DATABRICKS_CLUSTERS: &[&str] = &[
    "new_cluster:",
    "job_clusters:",
    "job_cluster_key:",
    "existing_cluster_id:",
];

pub(in crate::assess) fn compute_managed(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python modules and notebooks", repo.product_code());
    found.reads("configuration files", repo.of_kind(Kind::Config));
    found.reads("CI pipelines", repo.ci());
    for code in repo.product_code() {
        let service = MANAGED_COMPUTE
            .iter()
            .find(|(module, _)| code.imports(module))
            .map(|(_, name)| *name);
        if let Some(service) = service {
            found.add(code, format!("runs on {service}"));
        }
    }
    for config in repo.of_kind(Kind::Config) {
        let stem = &config.stem;
        let names_compute = ["compute", "cluster", "runner", "resources"]
            .iter()
            .any(|word| stem.contains(word));
        let declares = [
            "runner", "instance", "machine", "gpu", "cpu", "node", "target", "cluster",
        ]
        .iter()
        .any(|key| config.has_word_start(key));
        let declares_compute_target = config
            .code
            .lines()
            .any(|line| line.trim_start().starts_with("compute:"));
        if (names_compute && declares) || declares_compute_target {
            found.add(config, "compute configuration");
        } else if let Some(cluster) = config.has_any(DATABRICKS_CLUSTERS)
            && config.has_word_start("train")
        {
            let cluster = cluster.trim_end_matches(':');
            found.add(
                config,
                format!("training as a Databricks job on a cluster ({cluster})"),
            );
        } else if let Some(resource) = config.has_any(JOB_RESOURCES)
            && config.has_word_start("train")
        {
            found.add(config, format!("training as a cluster job ({resource})"));
        }
    }
    for ci in repo.ci() {
        let Some(trains) = pipeline_trains(repo, ci) else {
            continue;
        };
        if let Some(runner) = configurable_runner(ci) {
            found.add(ci, format!("{}: {trains}, on {runner}", pipeline(ci)));
        } else if let Some((service, via)) = repo.find_in_pipeline(ci, submits_to) {
            let detail = super::through(format!("{trains}, on {service}"), via);
            found.add(ci, format!("{}: {detail}", pipeline(ci)));
        }
    }
    found.met_if_any()
}

pub(in crate::assess) fn scoring_versioned_tested(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python modules", repo.modules());
    found.reads("Python test modules", repo.tests());
    // Smoke and release tests of a scoring service are tests, not scoring code.
    let modules: Vec<&Source<'_>> = repo
        .modules()
        .filter(|module| is_scoring_name(&module.stem) && !is_test_like(module))
        .collect();
    let tests_by_stem = tests_by_stem(repo, &modules);
    for module in modules {
        let stem = module.stem.as_str();
        let Some(tests) = tests_by_stem.get(stem) else {
            found.add_partial(module, "scoring module, not tested");
            continue;
        };
        found.add(module, "scoring module");
        for test in tests {
            found.add(test, format!("tests `{stem}`"));
        }
    }
    dedup(found).met_if_any()
}

/// For the stem of each of `modules`, the tests that name it (in their own stem) or import it
/// (as the last part of a module path), in the order of `repo.tests()`. One pass over the
/// tests finds them for every module at once: a repository of thousands of scoring modules
/// and thousands of tests costs thousands of steps, not millions.
fn tests_by_stem<'r, 'a>(
    repo: &'r Repo<'a>,
    modules: &[&'r Source<'a>],
) -> BTreeMap<&'r str, Vec<&'r Source<'a>>> {
    let stems: Vec<&'r str> = modules
        .iter()
        .map(|module| module.stem.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut by_stem: BTreeMap<&'r str, Vec<&'r Source<'a>>> = BTreeMap::new();
    if stems.is_empty() {
        return by_stem;
    }
    // File names: far below the automaton's limits.
    let automaton = AhoCorasick::new(&stems).expect("an automaton of file names");
    for test in repo.tests().filter(|test| defines_tests(test)) {
        let mut named: BTreeSet<usize> = automaton
            .find_overlapping_iter(test.stem.as_str())
            .map(|found| found.pattern().as_usize())
            .collect();
        named.extend(
            test.imports
                .iter()
                .filter_map(|import| import.rsplit('.').next())
                .filter_map(|last| stems.binary_search(&last).ok()),
        );
        for index in named {
            by_stem.entry(stems[index]).or_default().push(test);
        }
    }
    by_stem
}

/// Commands that evaluate a model, described.
fn evaluates(source: &Source<'_>) -> Option<&'static str> {
    (source.has_word_start("evaluat") || source.has_word("gate")).then_some("evaluates the model")
}

pub(in crate::assess) fn model_ci(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("CI pipelines", repo.ci());
    for ci in repo.ci() {
        let what = pipeline_trains(repo, ci).or_else(|| {
            repo.find_in_pipeline(ci, evaluates)
                .map(|(what, via)| super::through(what, via))
        });
        let Some(what) = what else {
            if ci.has_word("cml") {
                found.reject(
                    ci,
                    "uses CML to report, which trains and evaluates nothing by itself",
                );
            } else if let Some(service) = submits_to(ci) {
                found.reject(
                    ci,
                    format!(
                        "submits a job to {service}, but what the job runs is not in the repository"
                    ),
                );
            }
            continue;
        };
        if ci.triggers.on_change {
            found.add(ci, format!("{}: {what}", pipeline(ci)));
        } else {
            found.add_partial(ci, format!("{}: {what}, but not on changes", pipeline(ci)));
        }
    }
    found.met_if_any()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check, evidence_of};
    use super::*;
    use crate::assess::scan::ScannedFile;

    #[test]
    fn managed_compute_by_configuration_runner_or_service() {
        check(
            &[(
                "configs/compute.yaml",
                "target: local\nrunner: ubuntu-latest\n",
            )],
            &["compute-managed"],
        );
        check(
            &[(
                ".github/workflows/train.yml",
                "on: workflow_dispatch\njobs:\n  train:\n    runs-on: ${{ vars.TRAINING_RUNNER || 'ubuntu-latest' }}\n    steps:\n      - run: make train\n",
            )],
            &["compute-managed"],
        );
        check(
            &[(
                "configs/train.yaml",
                "estimator: logistic_regression\ncompute:\n  target: ci-runner\n",
            )],
            &["compute-managed"],
        );
        check(
            &[(
                "launch.py",
                "from google.cloud import aiplatform\naiplatform.CustomTrainingJob(display_name='train').run()\n",
            )],
            &["compute-managed"],
        );
        check(
            &[(
                "launch.py",
                "from sagemaker.estimator import Estimator\nEstimator(image_uri=uri, instance_type='ml.m5.large').fit()\n",
            )],
            &["compute-managed"],
        );
        check(
            &[(
                ".github/workflows/train.yml",
                "on: workflow_dispatch\njobs:\n  train:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make train\n",
            )],
            &[],
        );
    }

    #[test]
    fn scoring_module_with_its_tests() {
        let scoring = (
            "src/pkg/scoring.py",
            "def score(model, frame):\n    return model.predict(frame)\n",
        );
        check(&[scoring], &[]);
        assert_eq!(
            evidence_of(&[scoring], "scoring-versioned-tested"),
            ["src/pkg/scoring.py: scoring module, not tested"]
        );
        let test = (
            "tests/test_batch.py",
            "from pkg.scoring import score\n\ndef test_scores_every_row():\n    assert len(score(model, frame)) == 3\n",
        );
        check(
            &[scoring, test],
            &[
                "app-unit-tests",
                "model-integration-tests",
                "scoring-versioned-tested",
            ],
        );
        assert_eq!(
            evidence_of(&[scoring, test], "scoring-versioned-tested"),
            [
                "src/pkg/scoring.py: scoring module",
                "tests/test_batch.py: tests `scoring`"
            ]
        );
    }

    #[test]
    fn model_ci_runs_on_changes() {
        let makefile = (
            "Makefile",
            "ci-model:\n\t$(PYTHON) -m pkg.pipeline --sample\n\t$(PYTHON) -m pkg.gate\n",
        );
        let on_changes = (
            ".github/workflows/model.yml",
            "on:\n  pull_request:\n    paths: ['src/**', 'configs/**']\njobs:\n  model:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make ci-model\n",
        );
        check(&[makefile, on_changes], &["model-ci"]);
        assert_eq!(
            evidence_of(&[makefile, on_changes], "model-ci"),
            [
                ".github/workflows/model.yml: GitHub Actions pipeline, runs on changes to some paths: evaluates the model"
            ]
        );
        check(
            &[(".gitlab-ci.yml", "train:\n  script:\n    - dvc repro\n")],
            &["model-ci"],
        );
        check(
            &[(
                ".github/workflows/train.yml",
                "on: workflow_dispatch\njobs:\n  train:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python train.py\n",
            )],
            &[],
        );
    }

    /// The scoring detector as it was first written, a test against every module for every
    /// scoring module: the reference for the one-pass version.
    fn scoring_reference(repo: &Repo<'_>) -> Found {
        let mut found = Found::default();
        for module in repo.modules() {
            let stem = module.stem.as_str();
            if !is_scoring_name(stem) {
                continue;
            }
            let tests: Vec<&Source<'_>> = repo
                .tests()
                .filter(|test| defines_tests(test))
                .filter(|test| {
                    test.stem.contains(stem)
                        || test
                            .imports
                            .iter()
                            .any(|import| import.rsplit('.').next() == Some(stem))
                })
                .collect();
            if tests.is_empty() {
                found.add_partial(module, "scoring module, not tested");
                continue;
            }
            found.add(module, "scoring module");
            for test in tests {
                found.add(test, format!("tests `{stem}`"));
            }
        }
        dedup(found).met_if_any()
    }

    #[test]
    fn scoring_tests_are_found_as_by_comparing_every_pair() {
        const NAMES: &[&str] = &[
            "predict",
            "predict_model",
            "batch_predict",
            "scoring",
            "score",
            "inference",
            "infer",
            "model",
            "__init__",
            "predict_2",
        ];
        let mut state: u64 = 0x5EED_5C02;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % below as u64).unwrap()
        };
        for _ in 0..200 {
            let mut files: Vec<(String, String)> = Vec::new();
            for index in 0..next(6) {
                let name = NAMES[next(NAMES.len())];
                files.push((format!("src/pkg{index}/{name}.py"), "x = 1\n".to_owned()));
            }
            for index in 0..next(8) {
                let named = [NAMES[next(NAMES.len())], NAMES[next(NAMES.len())]].join("_");
                let imported = NAMES[next(NAMES.len())];
                let body = if next(4) == 0 {
                    "pass"
                } else {
                    "def test_it():\n    pass"
                };
                files.push((
                    format!("tests/t{index}/test_{named}.py"),
                    format!("from pkg.{imported} import run\n{body}\n"),
                ));
            }
            let scanned: Vec<ScannedFile> = files
                .iter()
                .map(|(path, text)| ScannedFile::new(path, text))
                .collect();
            let repo = Repo::new(&scanned);
            assert_eq!(
                scoring_versioned_tested(&repo).into_evidence(),
                scoring_reference(&repo).into_evidence(),
                "{files:#?}"
            );
        }
    }
}
