//! Level 2, Automated Training: experiments tracked, training code and models versioned,
//! compute managed, the scoring script versioned and tested, and CI for the model.

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::AhoCorasick;

use super::signals::{defines_tests, is_scoring_name, is_training_code};
use super::{Found, Repo, dedup, pipeline};
use crate::assess::facts::{Kind, Provider, Source};

const TRACKERS: &[(&str, &str)] = &[
    ("mlflow", "MLflow"),
    ("wandb", "Weights & Biases"),
    ("neptune", "Neptune"),
    ("comet_ml", "Comet"),
    ("clearml", "ClearML"),
    ("dvclive", "DVCLive"),
    ("aim", "Aim"),
    ("sacred", "Sacred"),
    ("guild", "Guild AI"),
    ("polyaxon", "Polyaxon"),
    ("azureml.core", "Azure ML"),
    ("sagemaker.experiments", "SageMaker Experiments"),
];

/// Calls that record a run with one of the trackers.
const TRACKING_CALLS: &[&str] = &[
    "log_param",
    "log_metric",
    "log_input",
    "autolog",
    "start_run",
    "wandb.init",
    "wandb.log",
    "init_run",
    "neptune.init",
    "experiment(",
    "task.init",
    "live(",
    "run(",
    "run.log",
    "track(",
];

pub(in crate::assess) fn experiments_tracked(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for code in repo.product_code() {
        let tracker = TRACKERS
            .iter()
            .find(|(module, _)| code.imports(module))
            .map(|(_, name)| *name);
        if let Some(tracker) = tracker
            && let Some(call) = code.has_any(TRACKING_CALLS)
        {
            let call = call.trim_end_matches('(');
            found.add(code, format!("records runs with {tracker} ({call})"));
        }
    }
    for dvc in repo.of_kind(Kind::Dvc) {
        if dvc.is_dvc_pipeline() && (dvc.has("metrics:") || dvc.has("params:")) {
            found.add(dvc, "DVC pipeline tracking parameters and metrics");
        }
    }
    for config in repo.of_kind(Kind::Config) {
        if config.path.eq_ignore_ascii_case("mlproject") || config.path.ends_with("/MLproject") {
            found.add(config, "MLflow project");
        }
    }
    found.met_if_any()
}

/// Signs that models are versioned: a registry, tracked artifacts, DVC outputs, LFS.
const MODEL_VERSIONING: &[(&str, &str)] = &[
    (
        "register_model",
        "registers models in the MLflow model registry",
    ),
    (
        "registered_model_name",
        "registers models in the MLflow model registry",
    ),
    (
        "create_model_version",
        "creates model versions in a registry",
    ),
    (
        "set_registered_model_alias",
        "sets model aliases in the MLflow registry",
    ),
    (
        "transition_model_version_stage",
        "moves model versions between registry stages",
    ),
    ("log_model", "logs the model as a versioned artifact"),
    (
        "log_artifact",
        "logs artifacts, the model among them, with the tracker",
    ),
    ("wandb.artifact(", "versions the model as a W&B artifact"),
    ("link_model", "links the model into the W&B registry"),
    ("push_to_hub", "pushes the model to the Hugging Face Hub"),
    ("outputmodel", "versions the model with ClearML"),
    ("modelpackage", "registers a SageMaker model package"),
];

pub(in crate::assess) fn code_and_models_versioned(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    let mut training = false;
    let mut versioned = false;
    for module in repo.modules() {
        if is_training_code(module) {
            training = true;
            found.add(module, "training script");
        }
        if let Some((_, detail)) = MODEL_VERSIONING.iter().find(|(call, _)| module.has(call)) {
            versioned = true;
            found.add(module, *detail);
        } else if module.imports("bentoml") && module.has(".save_model(") {
            versioned = true;
            found.add(module, "stores the model in the BentoML model store");
        }
    }
    for dvc in repo.of_kind(Kind::Dvc) {
        let is_pointer_or_pipeline = dvc.is_dvc_pointer() || dvc.is_dvc_pipeline();
        if is_pointer_or_pipeline && dvc.has("outs:") && dvc.has_word_start("model") {
            versioned = true;
            found.add(dvc, "DVC versions the model files");
        }
    }
    for config in repo.of_kind(Kind::Config) {
        let is_attributes = config.path.ends_with(".gitattributes");
        let model_files = [
            ".pkl",
            ".joblib",
            ".onnx",
            ".pt",
            ".h5",
            ".safetensors",
            ".bin",
        ];
        if is_attributes
            && config.has("filter=lfs")
            && model_files.iter().any(|extension| config.has(extension))
        {
            versioned = true;
            found.add(config, "model files in Git LFS");
        }
    }
    found.met = training && versioned;
    found
}

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

pub(in crate::assess) fn compute_managed(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
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
        } else if let Some(resource) = config.has_any(JOB_RESOURCES)
            && config.has_word_start("train")
        {
            found.add(config, format!("training as a cluster job ({resource})"));
        }
    }
    for ci in repo.ci() {
        if trains(ci).is_some()
            && let Some(runner) = configurable_runner(ci)
        {
            found.add(ci, format!("{}: training job on {runner}", pipeline(ci)));
        }
    }
    found.met_if_any()
}

pub(in crate::assess) fn scoring_versioned_tested(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    let modules: Vec<&Source<'_>> = repo
        .modules()
        .filter(|module| is_scoring_name(&module.stem))
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

/// Commands that train a model, described.
fn trains(ci: &Source<'_>) -> Option<&'static str> {
    for (phrase, detail) in [
        ("dvc repro", "trains the model (dvc repro)"),
        ("dvc exp run", "trains the model (dvc exp run)"),
        ("mlflow run", "trains the model (mlflow run)"),
    ] {
        if ci.has(phrase) {
            return Some(detail);
        }
    }
    ci.has_word_start("train").then_some("trains the model")
}

/// Commands that train or evaluate a model, described.
fn trains_or_evaluates(ci: &Source<'_>) -> Option<&'static str> {
    trains(ci).or_else(|| {
        (ci.has_word_start("evaluat") || ci.has_word("gate") || ci.has_word("cml"))
            .then_some("evaluates the model")
    })
}

pub(in crate::assess) fn model_ci(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for ci in repo.ci() {
        let Some(what) = trains_or_evaluates(ci) else {
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

    const MLFLOW_TRAIN: (&str, &str) = (
        "src/pkg/train.py",
        "import mlflow\nfrom sklearn.linear_model import LogisticRegression\n\nwith mlflow.start_run():\n    model = LogisticRegression().fit(x, y)\n    mlflow.log_metric('f1', f1)\n    mlflow.sklearn.log_model(model, name='model', registered_model_name='pkg')\n",
    );

    #[test]
    fn experiment_tracking_and_model_versioning() {
        check(
            &[MLFLOW_TRAIN],
            &["experiments-tracked", "code-and-models-versioned"],
        );
        check(
            &[(
                "train.py",
                "import wandb\nrun = wandb.init(project='p')\nwandb.log({'loss': 1})\nartifact = wandb.Artifact('model', type='model')\nrun.log_artifact(artifact)\nmodel.fit(x)\n",
            )],
            &["experiments-tracked", "code-and-models-versioned"],
        );
        check(
            &[
                (
                    "dvc.yaml",
                    "stages:\n  train:\n    cmd: python train.py\n    outs:\n      - models/model.pkl\n    metrics:\n      - metrics.json\n",
                ),
                (
                    "train.py",
                    "import joblib\nmodel.fit(x, y)\njoblib.dump(model, 'models/model.pkl')\n",
                ),
            ],
            &["experiments-tracked", "code-and-models-versioned"],
        );
        // A registry alone, with no training script, is not training code under version control.
        check(
            &[(
                "serve.py",
                "import mlflow\nmodel = mlflow.pyfunc.load_model('models:/pkg@champion')\nmlflow.register_model(uri, 'pkg')\n",
            )],
            &[],
        );
    }

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
