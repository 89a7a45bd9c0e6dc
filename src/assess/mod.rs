//! Evidence of maturity in any repository: the files of a scan (see `scan.rs`) in, for each of
//! the sixteen criteria (see `criteria.rs`) whether it holds and which files show it, and the
//! level reached: the highest one whose criteria, and those of every level below, all hold.
//!
//! Pure: no IO. Each criterion has one detector, a function from the repository's files to the
//! evidence found and whether it is enough. Detectors look for generic signals (imports, calls,
//! CI triggers and commands, file roles) rather than this generator's file names, so that
//! projects laid out by other teams and tools are recognised; they read code and CI files only,
//! with comments and docstrings removed, so that a word in prose proves nothing. A criterion
//! that does not hold may still list what was found, when that is part of the way there.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

pub mod criteria;
mod facts;
pub mod scan;

use criteria::Criterion;
use facts::{Kind, MakeTargets, Provider, Source};
use scan::ScannedFile;

/// Whether `assess` reads the file at `path`: code, notebooks, CI, containers, DVC and configuration.
pub fn wanted(path: &str) -> bool {
    Kind::of(path).is_some()
}

/// A file that shows (part of) a criterion, and what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub path: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub criterion: &'static Criterion,
    pub met: bool,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub level: u8,
    /// One per criterion, in the order of `criteria::ALL`.
    pub findings: Vec<Finding>,
}

impl Assessment {
    /// The next level and the criteria it requires that do not hold, or `None` at the top.
    pub fn next_level_missing(&self) -> Option<(u8, Vec<&Finding>)> {
        let next = self
            .level
            .checked_add(1)
            .filter(|next| *next <= criteria::max_level())?;
        let missing = self
            .findings
            .iter()
            .filter(|finding| finding.criterion.level <= next && !finding.met)
            .collect();
        Some((next, missing))
    }
}

/// Assesses the files of a repository.
pub fn assess(files: &[ScannedFile]) -> Assessment {
    let repo = Repo::new(files);
    let findings: Vec<Finding> = parallel_map(&criteria::ALL, |criterion| {
        let (met, evidence) = detect(&repo, criterion.id);
        Finding {
            criterion,
            met,
            evidence,
        }
    });
    let level = (1..=criteria::max_level())
        .take_while(|level| {
            findings
                .iter()
                .filter(|finding| finding.criterion.level == *level)
                .all(|finding| finding.met)
        })
        .last()
        .unwrap_or(0);
    Assessment { level, findings }
}

fn detect(repo: &Repo<'_>, id: &str) -> (bool, Vec<Evidence>) {
    let detector: fn(&Repo<'_>) -> Found = match id {
        "data-gathered-automatically" => data_gathered_automatically,
        "app-unit-tests" => app_unit_tests,
        "model-integration-tests" => model_integration_tests,
        "app-ci-cd" => app_ci_cd,
        "experiments-tracked" => experiments_tracked,
        "code-and-models-versioned" => code_and_models_versioned,
        "compute-managed" => compute_managed,
        "scoring-versioned-tested" => scoring_versioned_tested,
        "model-ci" => model_ci,
        "automated-model-release" => automated_model_release,
        "release-tests-per-model" => release_tests_per_model,
        "ab-metrics" => ab_metrics,
        "retraining-on-production-metrics" => retraining_on_production_metrics,
        "post-deployment-metrics" => post_deployment_metrics,
        "compute-tracked" => compute_tracked,
        "automatic-bug-tracking" => automatic_bug_tracking,
        other => unreachable!("no detector for criterion `{other}`"),
    };
    let mut found = detector(repo);
    if !found.met {
        found.evidence.append(&mut found.partial);
    }
    (found.met, found.evidence)
}

/// `map` applied to every item, in order, on all cores. Large repositories have tens of thousands
/// of files to analyse, and the criteria are independent of each other.
fn parallel_map<'t, T: Sync, R: Send>(items: &'t [T], map: impl Fn(&'t T) -> R + Sync) -> Vec<R> {
    let n_threads = std::thread::available_parallelism().map_or(1, usize::from);
    if n_threads == 1 || items.len() < 2 {
        return items.iter().map(map).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n_threads.min(items.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            break done;
                        };
                        done.push((index, map(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a detector does not panic"))
            .collect()
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The repository's files, analysed once.
struct Repo<'a> {
    sources: Vec<Source<'a>>,
}

impl<'a> Repo<'a> {
    fn new(files: &'a [ScannedFile]) -> Self {
        let mut sources: Vec<Source<'a>> =
            parallel_map(files, |file| Source::new(&file.path, &file.text))
                .into_iter()
                .flatten()
                .collect();
        // CI pipelines are thin: what `make test` or `make train` runs is part of what they do.
        let make_targets = sources
            .iter()
            .find(|source| source.kind == Kind::Makefile && !source.path.contains('/'))
            .map(|makefile| MakeTargets::parse(&makefile.code))
            .unwrap_or_default();
        for source in sources.iter_mut().filter(|source| source.is_ci()) {
            let expanded = make_targets.expand(&source.code);
            if !expanded.is_empty() {
                source.append_code(&expanded);
            }
        }
        Self { sources }
    }

    fn product_code(&self) -> impl Iterator<Item = &Source<'a>> {
        self.sources
            .iter()
            .filter(|source| source.is_product_code())
    }

    /// Python scripts and modules, not notebooks and not tests.
    fn modules(&self) -> impl Iterator<Item = &Source<'a>> {
        self.sources
            .iter()
            .filter(|source| source.kind == Kind::Python && !source.is_test)
    }

    fn tests(&self) -> impl Iterator<Item = &Source<'a>> {
        self.sources
            .iter()
            .filter(|source| source.kind == Kind::Python && source.is_test)
    }

    fn ci(&self) -> impl Iterator<Item = &Source<'a>> {
        self.sources.iter().filter(|source| source.is_ci())
    }

    fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Source<'a>> {
        self.sources
            .iter()
            .filter(move |source| source.kind == kind)
    }
}

/// What a detector found: the evidence for the criterion, and what goes some of the way but
/// not far enough, which is reported only when the criterion does not hold.
#[derive(Default)]
struct Found {
    met: bool,
    evidence: Vec<Evidence>,
    partial: Vec<Evidence>,
}

impl Found {
    fn add(&mut self, source: &Source<'_>, detail: impl Into<String>) {
        self.evidence.push(Evidence {
            path: source.path.to_owned(),
            detail: detail.into(),
        });
    }

    fn add_partial(&mut self, source: &Source<'_>, detail: impl Into<String>) {
        self.partial.push(Evidence {
            path: source.path.to_owned(),
            detail: detail.into(),
        });
    }

    /// Met when any evidence was found.
    fn met_if_any(mut self) -> Self {
        self.met = !self.evidence.is_empty();
        self
    }
}

/// A CI pipeline's description in evidence: `GitHub Actions pipeline, runs on every change`.
fn pipeline(source: &Source<'_>) -> String {
    let provider = source.provider().map_or("CI", |provider| provider.label());
    let triggers = source.triggers;
    let mut on = Vec::new();
    if triggers.on_change {
        on.push(if triggers.path_filters {
            "changes to some paths"
        } else {
            "every change"
        });
    }
    if triggers.on_tag {
        on.push("tags");
    }
    if triggers.after_event {
        on.push("another pipeline or event");
    }
    if triggers.schedule {
        on.push("a schedule");
    }
    if triggers.manual {
        on.push("demand");
    }
    if on.is_empty() {
        format!("{provider} pipeline")
    } else {
        format!("{provider} pipeline, runs on {}", on.join(", "))
    }
}

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

const ORCHESTRATORS: &[&str] = &[
    "airflow", "prefect", "dagster", "luigi", "kedro", "zenml", "metaflow", "flytekit",
];

fn data_gathered_automatically(repo: &Repo<'_>) -> Found {
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

/// A test module with test functions or test cases.
fn defines_tests(test: &Source<'_>) -> bool {
    test.stem != "conftest" && (test.has("def test") || test.has("testcase"))
}

fn app_unit_tests(repo: &Repo<'_>) -> Found {
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

fn model_integration_tests(repo: &Repo<'_>) -> Found {
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

fn is_scoring_name(stem: &str) -> bool {
    stem != "__init__" && SCORING_NAMES.iter().any(|name| stem.contains(name))
}

const TEST_RUNNERS: &[&str] = &["pytest", "unittest", "tox", "nox", "manage.py test"];

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

fn runs_tests(ci: &Source<'_>) -> Option<&'static str> {
    TEST_RUNNERS
        .iter()
        .copied()
        .find(|runner| ci.has_word(runner))
}

fn app_ci_cd(repo: &Repo<'_>) -> Found {
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

fn experiments_tracked(repo: &Repo<'_>) -> Found {
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

/// A training script: a module named for training, or one that fits a model.
fn is_training_code(source: &Source<'_>) -> bool {
    let stem = &source.stem;
    source.kind == Kind::Python
        && !source.is_test
        && (stem.split(['_', '-']).any(|part| part.starts_with("train")) || source.has(".fit("))
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

fn code_and_models_versioned(repo: &Repo<'_>) -> Found {
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

fn compute_managed(repo: &Repo<'_>) -> Found {
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

/// Module names of scoring code.
const SCORING_NAMES: &[&str] = &["scor", "predict", "inference", "infer"];

fn scoring_versioned_tested(repo: &Repo<'_>) -> Found {
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

fn dedup(mut found: Found) -> Found {
    let mut seen = BTreeSet::new();
    found
        .evidence
        .retain(|evidence| seen.insert((evidence.path.clone(), evidence.detail.clone())));
    found
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

fn model_ci(repo: &Repo<'_>) -> Found {
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

fn automated_model_release(repo: &Repo<'_>) -> Found {
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

const HTTP_CLIENTS: &[&str] = &[
    "requests",
    "httpx",
    "urllib.request",
    "aiohttp",
    "locust",
    "urllib3",
];

fn names_a_url(source: &Source<'_>) -> bool {
    ["base_url", "_url", "--url", "endpoint", "scoring_uri"]
        .iter()
        .any(|name| source.has(name))
}

/// Takes a value from the environment or the command line.
fn is_configurable(source: &Source<'_>) -> bool {
    ["environ", "getenv", "addoption", "getoption", "argparse"]
        .iter()
        .any(|from| source.has(from))
}

/// A test module that calls a deployed service at a URL it is given.
fn targets_a_url(test: &Source<'_>) -> bool {
    names_a_url(test) && is_configurable(test) && test.imports_any(HTTP_CLIENTS).is_some()
}

fn release_tests_per_model(repo: &Repo<'_>) -> Found {
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

fn ab_metrics(repo: &Repo<'_>) -> Found {
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

const DRIFT_LIBRARIES: &[(&str, &str)] = &[
    ("evidently", "Evidently"),
    ("alibi_detect", "Alibi Detect"),
    ("nannyml", "NannyML"),
    ("whylogs", "whylogs"),
    ("deepchecks", "Deepchecks"),
    ("frouros", "Frouros"),
];

/// Code that measures production data or performance: drift, monitoring.
fn monitors(source: &Source<'_>) -> Option<String> {
    if let Some((_, name)) = DRIFT_LIBRARIES
        .iter()
        .find(|(module, _)| source.imports(module))
    {
        return Some(format!("{name} drift checks"));
    }
    for (word, detail) in [
        ("drift", "drift checks"),
        ("ks_2samp", "drift checks (Kolmogorov-Smirnov)"),
        ("population_stability", "drift checks (PSI)"),
        ("psi", "drift checks (PSI)"),
        ("monitor", "monitoring"),
    ] {
        if source.has_word_start(word) {
            return Some(detail.to_owned());
        }
    }
    None
}

/// Starting another pipeline or flow from code or a pipeline: a workflow dispatch, a DAG run.
fn dispatches(source: &Source<'_>) -> Option<&'static str> {
    [
        ("gh workflow run", "dispatches the training workflow"),
        ("/dispatches", "dispatches the training workflow"),
        ("create_dispatch", "dispatches the training workflow"),
        ("createworkflowdispatch", "dispatches the training workflow"),
        ("trigger_dag", "triggers the training flow"),
        ("run_deployment", "triggers the training flow"),
    ]
    .into_iter()
    .find(|(phrase, _)| source.has(phrase))
    .map(|(_, detail)| detail)
}

/// Starting a training run: a dispatch, or training itself.
fn starts_training(source: &Source<'_>) -> Option<&'static str> {
    if let Some(detail) = dispatches(source) {
        return Some(detail);
    }
    if source.has("dvc repro") {
        return Some("retrains (dvc repro)");
    }
    (source.has_word_start("retrain") || source.has_word_start("train"))
        .then_some("starts training")
}

fn is_scheduled(source: &Source<'_>) -> bool {
    match source.kind {
        Kind::Ci(_) => source.triggers.schedule,
        Kind::Config => source.has("kind: cronjob") || source.has("kind: cronworkflow"),
        Kind::Python => {
            source.imports_any(ORCHESTRATORS).is_some()
                && (source.has("schedule") || source.has("cron"))
        }
        _ => false,
    }
}

fn retraining_on_production_metrics(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    let monitoring_code: Vec<(&Source<'_>, String)> = repo
        .product_code()
        .filter_map(|code| monitors(code).map(|detail| (code, detail)))
        .collect();
    // The code a scheduled monitor runs may decide and dispatch training itself.
    let code_triggers = monitoring_code
        .iter()
        .find_map(|(code, _)| starts_training(code).map(|detail| (*code, detail)))
        .or_else(|| {
            repo.product_code()
                .find_map(|code| dispatches(code).map(|detail| (code, detail)))
        });
    for scheduled in repo.sources.iter().filter(|source| is_scheduled(source)) {
        let described = if scheduled.is_ci() {
            pipeline(scheduled)
        } else {
            "scheduled job".to_owned()
        };
        let watches = monitors(scheduled);
        let retrains = starts_training(scheduled);
        match (&watches, retrains) {
            (Some(watch), Some(retrain)) => {
                found.met = true;
                found.add(scheduled, format!("{described}: {watch}, then {retrain}"));
            }
            (Some(watch), None) if code_triggers.is_some() => {
                found.met = true;
                found.add(scheduled, format!("{described}: {watch}"));
            }
            (Some(watch), None) => {
                found.add_partial(scheduled, format!("{described}: {watch}, no retraining"));
            }
            (None, Some(retrain)) => found.add_partial(
                scheduled,
                format!("{described}: {retrain} on a schedule, not on production metrics"),
            ),
            (None, None) => {}
        }
    }
    if found.met {
        for (code, detail) in &monitoring_code {
            found.add(code, detail.clone());
        }
        if let Some((code, detail)) = code_triggers {
            found.add(code, detail);
        }
    }
    dedup(found)
}

const METRICS_EXPORTERS: &[(&str, &str)] = &[
    ("prometheus_client", "Prometheus metrics"),
    ("prometheus_fastapi_instrumentator", "Prometheus metrics"),
    ("prometheus_flask_exporter", "Prometheus metrics"),
    ("starlette_exporter", "Prometheus metrics"),
    ("aioprometheus", "Prometheus metrics"),
    ("opentelemetry", "OpenTelemetry metrics"),
    ("statsd", "StatsD metrics"),
    ("datadog", "Datadog metrics"),
    ("ddtrace", "Datadog metrics"),
    ("newrelic", "New Relic metrics"),
];

fn post_deployment_metrics(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for code in repo.product_code() {
        if let Some((_, detail)) = METRICS_EXPORTERS
            .iter()
            .find(|(module, _)| code.imports(module))
        {
            found.add(code, format!("exports {detail}"));
        } else if code.has("put_metric_data") {
            found.add(code, "sends CloudWatch metrics");
        }
    }
    for config in repo.of_kind(Kind::Config) {
        if config.has("scrape_configs:") || config.has("kind: servicemonitor") {
            found.add(config, "Prometheus scrape configuration");
        }
    }
    found.met_if_any()
}

/// Measurements of the compute a run used.
const RESOURCE_MEASURES: &[(&str, &str)] = &[
    ("enable_system_metrics_logging", "MLflow system metrics"),
    ("log_system_metrics", "MLflow system metrics"),
    ("codecarbon", "CodeCarbon"),
    ("emissionstracker", "CodeCarbon"),
    ("psutil", "psutil"),
    ("getrusage", "resource usage"),
    ("tracemalloc", "tracemalloc"),
    ("pynvml", "NVML"),
    ("max_memory_allocated", "GPU memory"),
    ("process_time", "CPU time"),
];

fn compute_tracked(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for module in repo.modules() {
        let Some((_, measure)) = RESOURCE_MEASURES
            .iter()
            .find(|(needle, _)| module.has(needle))
        else {
            continue;
        };
        let built_in = measure.starts_with("MLflow") || *measure == "CodeCarbon";
        let logged = ["log_metric", "wandb.log", "log_param", "set_tag"]
            .iter()
            .any(|call| module.has(call));
        if built_in || logged || is_training_code(module) {
            found.add(module, format!("records the compute of a run ({measure})"));
        }
    }
    found.met_if_any()
}

fn automatic_bug_tracking(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    for source in &repo.sources {
        let relevant = source.is_product_code() || matches!(source.kind, Kind::Ci(_) | Kind::Shell);
        if !relevant {
            continue;
        }
        let via_api = source.has("/issues")
            && (source.has("/repos/") || source.has("/projects/"))
            && source.has_word("post");
        let detail = if via_api {
            Some("opens issues through the tracker's API")
        } else if source
            .has_any(&[
                "gh issue create",
                "create_issue",
                "issues.create",
                "create-an-issue",
                "create-issue",
            ])
            .is_some()
        {
            Some("opens issues automatically")
        } else if source
            .imports_any(&[
                "sentry_sdk",
                "rollbar",
                "bugsnag",
                "honeybadger",
                "airbrake",
            ])
            .is_some()
        {
            Some("reports errors to an error tracker")
        } else {
            None
        };
        if let Some(detail) = detail {
            found.add(source, detail);
        }
    }
    found.met_if_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessed(files: &[(&str, &str)]) -> Assessment {
        let scanned: Vec<ScannedFile> = files
            .iter()
            .map(|(path, text)| ScannedFile::new(path, text))
            .collect();
        assess(&scanned)
    }

    /// Asserts which criteria hold, by id, in the order of `criteria::ALL`.
    fn check(files: &[(&str, &str)], expected: &[&str]) {
        let assessment = assessed(files);
        let met: Vec<&str> = assessment
            .findings
            .iter()
            .filter(|finding| finding.met)
            .map(|finding| finding.criterion.id)
            .collect();
        assert_eq!(met, expected, "{files:#?}");
    }

    fn evidence_of(files: &[(&str, &str)], id: &str) -> Vec<String> {
        let assessment = assessed(files);
        let finding = assessment
            .findings
            .iter()
            .find(|finding| finding.criterion.id == id)
            .unwrap();
        finding
            .evidence
            .iter()
            .map(|evidence| format!("{}: {}", evidence.path, evidence.detail))
            .collect()
    }

    const PYTEST_APP: (&str, &str) = (
        "tests/test_app.py",
        "from app import app\n\ndef test_health():\n    assert app.test_client().get('/health').status_code == 200\n",
    );

    const MODEL_TEST: (&str, &str) = (
        "tests/test_model.py",
        "import joblib\n\ndef test_predicts_labels():\n    model = joblib.load('models/model.pkl')\n    assert model.predict([[1.0]]).shape == (1,)\n",
    );

    const DOWNLOAD: (&str, &str) = (
        "scripts/download_data.py",
        "import requests\n\nresponse = requests.get(URL, timeout=60)\nopen('data/raw.csv', 'wb').write(response.content)\n",
    );

    const APP_CI_CD: (&str, &str) = (
        ".github/workflows/ci.yml",
        "on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n  image:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker/build-push-action@v6\n",
    );

    const LEVEL_1: [(&str, &str); 4] = [PYTEST_APP, MODEL_TEST, DOWNLOAD, APP_CI_CD];

    #[test]
    fn an_empty_repository_is_at_level_0() {
        let assessment = assessed(&[]);
        assert_eq!(assessment.level, 0);
        let (next, missing) = assessment.next_level_missing().unwrap();
        assert_eq!(next, 1);
        assert_eq!(missing.len(), 4);
    }

    #[test]
    fn prose_and_comments_prove_nothing() {
        check(
            &[
                (
                    "README.md",
                    "We track experiments with mlflow and deploy with kubectl.",
                ),
                (
                    "train.py",
                    "\"\"\"Later: import mlflow and mlflow.log_metric.\"\"\"\n# import wandb\n# wandb.init()\nprint('hi')\n",
                ),
                (
                    "notebooks/eda.ipynb",
                    r#"{"cells": [{"cell_type": "markdown", "source": ["import mlflow\n", "mlflow.log_metric('a', 1)"]}]}"#,
                ),
            ],
            &[],
        );
    }

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

    #[test]
    fn retraining_needs_a_schedule_a_production_metric_and_a_trigger() {
        let monitor = (
            ".github/workflows/monitor.yml",
            "on:\n  schedule:\n    - cron: '0 * * * *'\n  workflow_dispatch:\njobs:\n  monitor:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pkg.monitoring.drift --window 24h\n      - if: steps.policy.outputs.fire == 'true'\n        run: gh workflow run train.yml\n",
        );
        check(&[monitor], &["retraining-on-production-metrics"]);
        let nightly = (
            ".github/workflows/nightly.yml",
            "on:\n  schedule:\n    - cron: '0 3 * * *'\njobs:\n  retrain:\n    steps:\n      - run: python train.py\n",
        );
        check(&[nightly], &[]);
        assert_eq!(
            evidence_of(&[nightly], "retraining-on-production-metrics"),
            [
                ".github/workflows/nightly.yml: GitHub Actions pipeline, runs on a schedule: starts training on a schedule, not on production metrics"
            ]
        );
        // The scheduled job monitors; the code it runs dispatches training when the policy fires.
        check(
            &[
                (
                    ".github/workflows/monitor.yml",
                    "on:\n  schedule:\n    - cron: '0 * * * *'\njobs:\n  m:\n    steps:\n      - run: python -m pkg.monitor\n",
                ),
                (
                    "src/pkg/monitor.py",
                    "from scipy.stats import ks_2samp\nimport urllib.request\n\ndef dispatch():\n    urllib.request.urlopen(f'{API}/repos/{REPO}/actions/workflows/train.yml/dispatches')\n",
                ),
            ],
            &["retraining-on-production-metrics"],
        );
        // The monitor decides; a module of its own dispatches training.
        check(
            &[
                (
                    ".github/workflows/monitor.yml",
                    "on:\n  schedule:\n    - cron: '0 * * * *'\njobs:\n  m:\n    steps:\n      - run: make monitor\n",
                ),
                ("Makefile", "monitor:\n\tpython -m pkg.monitoring.run\n"),
                (
                    "src/pkg/monitoring/run.py",
                    "from pkg.monitoring.drift import psi\nfrom pkg.retrain import request_training\n",
                ),
                (
                    "src/pkg/retrain.py",
                    "import json\nimport urllib.request\n\ndef request_training(repo, token):\n    url = f'https://api.github.com/repos/{repo}/actions/workflows/train.yml/dispatches'\n    urllib.request.urlopen(urllib.request.Request(url, method='POST'))\n",
                ),
            ],
            &["retraining-on-production-metrics"],
        );
    }

    #[test]
    fn production_metrics_compute_and_bugs() {
        check(
            &[(
                "src/pkg/app.py",
                "from prometheus_client import Counter, make_asgi_app\nREQUESTS = Counter('requests_total', 'requests')\n",
            )],
            &["post-deployment-metrics"],
        );
        check(
            &[(
                "src/pkg/train.py",
                "import resource\nimport time\nimport mlflow\nusage = resource.getrusage(resource.RUSAGE_SELF)\nmlflow.log_metric('peak_memory_mb', usage.ru_maxrss / 1024)\n",
            )],
            &["experiments-tracked", "compute-tracked"],
        );
        check(
            &[(
                "src/pkg/health.py",
                "import psutil\nload = psutil.cpu_percent()\n",
            )],
            &[],
        );
        check(
            &[(
                "src/pkg/issues.py",
                "import json\nimport urllib.request\n\ndef open_issue(repo, title, fingerprint):\n    request = urllib.request.Request(f'https://api.github.com/repos/{repo}/issues', method='POST')\n",
            )],
            &["automatic-bug-tracking"],
        );
        check(
            &[(
                "src/pkg/app.py",
                "import sentry_sdk\nsentry_sdk.init(dsn=DSN)\n",
            )],
            &["automatic-bug-tracking"],
        );
        check(
            &[(
                "src/pkg/app.py",
                "LINK = 'https://github.com/org/repo/issues'\n@app.post('/predict')\ndef predict(): ...\n",
            )],
            &[],
        );
    }

    #[test]
    fn the_level_is_the_highest_with_every_criterion_below_it() {
        let assessment = assessed(&LEVEL_1);
        assert_eq!(assessment.level, 1);
        let (next, missing) = assessment.next_level_missing().unwrap();
        assert_eq!(next, 2);
        let missing: Vec<&str> = missing.iter().map(|finding| finding.criterion.id).collect();
        assert_eq!(
            missing,
            [
                "experiments-tracked",
                "code-and-models-versioned",
                "compute-managed",
                "scoring-versioned-tested",
                "model-ci"
            ]
        );
        // Level-4 evidence does not lift a repository that misses level 2.
        let mut files = LEVEL_1.to_vec();
        files.push(("src/pkg/app.py", "from prometheus_client import Counter\n"));
        assert_eq!(assessed(&files).level, 1);
        files.retain(|(path, _)| *path != DOWNLOAD.0);
        assert_eq!(assessed(&files).level, 0);
    }
}
