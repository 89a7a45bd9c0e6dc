//! Level 2's trackers and registries: experiment results tracked (MLflow, W&B and the like,
//! directly or through a framework's logger or callback; Vertex AI Experiments; Azure ML runs;
//! SageMaker Experiments; DVC metrics), and training code and resulting models versioned (a
//! training script, and a model registry: MLflow's, W&B's, Vertex AI's `Model.upload`, Azure
//! ML's `Model.register` and `az ml model create`, SageMaker model packages, DVC outputs, LFS).

use super::signals::is_training_code;
use super::{Found, Repo};
use crate::assess::facts::{Kind, Source};

/// Trackers: the module imported, the tracker's name, and the calls that record a run with it
/// (`None`: the calls common to most trackers, [`TRACKING_CALLS`]).
const TRACKERS: &[(&str, &str, Option<&[&str]>)] = &[
    ("mlflow", "MLflow", None),
    ("wandb", "Weights & Biases", None),
    ("neptune", "Neptune", None),
    ("comet_ml", "Comet", None),
    ("clearml", "ClearML", None),
    ("dvclive", "DVCLive", None),
    ("aim", "Aim", None),
    ("sacred", "Sacred", None),
    ("guild", "Guild AI", None),
    ("polyaxon", "Polyaxon", None),
    (
        "azureml.core",
        "Azure ML",
        Some(&["run.log", ".log(", "log_list(", "log_row(", "log_table("]),
    ),
    (
        "google.cloud.aiplatform",
        "Vertex AI Experiments",
        Some(&[
            "experiment=",
            "start_run(",
            "log_metrics(",
            "log_params(",
            "log_time_series_metrics(",
        ]),
    ),
    (
        "sagemaker.experiments",
        "SageMaker Experiments",
        Some(&["log_metric(", "log_parameter", "run("]),
    ),
    (
        "kfp",
        "Kubeflow Pipelines metrics",
        Some(&["log_metric(", "metrics]"]),
    ),
];

/// Calls that record a run with most trackers.
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
    "= run(",
    "run.log",
    "track(",
];

/// Loggers and callbacks of training frameworks (Ray, Lightning, Keras, Hugging Face) that
/// record runs in a tracker: the class or argument, and the tracker.
const TRACKER_CALLBACKS: &[(&str, &str)] = &[
    (
        "mlflowloggercallback",
        "MLflow, through Ray's MLflowLoggerCallback",
    ),
    ("mlflowlogger(", "MLflow, through Lightning's MLFlowLogger"),
    ("mlflowcallback", "MLflow, through an MLflowCallback"),
    (
        "report_to=\"mlflow\"",
        "MLflow, through the Trainer's report_to",
    ),
    (
        "report_to='mlflow'",
        "MLflow, through the Trainer's report_to",
    ),
    (
        "wandbloggercallback",
        "Weights & Biases, through Ray's WandbLoggerCallback",
    ),
    (
        "wandblogger(",
        "Weights & Biases, through Lightning's WandbLogger",
    ),
    ("wandbcallback", "Weights & Biases, through a WandbCallback"),
    (
        "wandbmetricslogger",
        "Weights & Biases, through Keras's WandbMetricsLogger",
    ),
    (
        "report_to=\"wandb\"",
        "Weights & Biases, through the Trainer's report_to",
    ),
    (
        "report_to='wandb'",
        "Weights & Biases, through the Trainer's report_to",
    ),
    (
        "neptunelogger(",
        "Neptune, through Lightning's NeptuneLogger",
    ),
    ("cometlogger(", "Comet, through Lightning's CometLogger"),
];

/// How `code` records runs, if it does.
fn tracks(code: &Source<'_>) -> Option<String> {
    for (module, tracker, calls) in TRACKERS {
        if !code.imports(module) {
            continue;
        }
        if let Some(call) = code.has_any(calls.unwrap_or(TRACKING_CALLS)) {
            let call = call.trim_end_matches(['(', '=']);
            return Some(format!("records runs with {tracker} ({call})"));
        }
    }
    TRACKER_CALLBACKS
        .iter()
        .find(|(callback, _)| code.has(callback))
        .map(|(_, tracker)| format!("records runs with {tracker}"))
}

pub(in crate::assess) fn experiments_tracked(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python modules and notebooks", repo.product_code());
    for code in repo.product_code() {
        if let Some(detail) = tracks(code) {
            found.add(code, detail);
        } else if let Some((_, tracker, _)) =
            TRACKERS.iter().find(|(module, _, _)| code.imports(module))
            && *tracker != "Vertex AI Experiments"
            && *tracker != "Azure ML"
        {
            found.reject(
                code,
                format!("imports {tracker} but records no run with it"),
            );
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
        } else if config.has("_target_:")
            && let Some((_, tracker)) = TRACKER_CALLBACKS.iter().find(|(callback, _)| {
                callback.ends_with('(') && config.has(callback.trim_end_matches('('))
            })
        {
            found.add(
                config,
                format!("records runs with {tracker}, configured for Hydra (`_target_`)"),
            );
        }
    }
    found.met_if_any()
}

/// Signs in code that models are versioned: a registry, tracked artifacts.
const MODEL_VERSIONING: &[(&str, &str)] = &[
    (
        "register_model(",
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
    (
        "save_artifact=true",
        "logs the model checkpoints to the tracker (save_artifact)",
    ),
    (
        "model.upload(",
        "uploads the model to the Vertex AI Model Registry (Model.upload)",
    ),
    (
        "model.register(",
        "registers the model with Azure ML (Model.register)",
    ),
    (
        "models.create_or_update(",
        "registers the model with Azure ML",
    ),
    (
        "registermodel(",
        "registers a SageMaker model package (RegisterModel)",
    ),
    (
        "create_model_package",
        "registers a SageMaker model package",
    ),
    ("modelpackage", "registers a SageMaker model package"),
];

/// Commands that register a model, in scripts and pipelines.
const MODEL_REGISTRATION_COMMANDS: &[(&str, &str)] = &[
    (
        "az ml model create",
        "registers the model with Azure ML (az ml model create)",
    ),
    (
        "az ml model register",
        "registers the model with Azure ML (az ml model register)",
    ),
    (
        "create-model-package",
        "registers a SageMaker model package",
    ),
    (
        "gcloud ai models upload",
        "uploads the model to the Vertex AI Model Registry",
    ),
];

pub(in crate::assess) fn code_and_models_versioned(repo: &Repo<'_>) -> Found {
    let mut found = Found::default();
    found.reads("Python modules", repo.modules());
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
    for source in &repo.sources {
        if !matches!(
            source.kind,
            Kind::Shell | Kind::Ci(_) | Kind::Makefile | Kind::Config
        ) {
            continue;
        }
        if let Some((_, detail)) = MODEL_REGISTRATION_COMMANDS
            .iter()
            .find(|(command, _)| source.has(command))
        {
            versioned = true;
            found.add(source, *detail);
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

#[cfg(test)]
mod tests {
    use super::super::testing::{check, evidence_of};

    const BOTH: &[&str] = &["experiments-tracked", "code-and-models-versioned"];

    const MLFLOW_TRAIN: (&str, &str) = (
        "src/pkg/train.py",
        "import mlflow\nfrom sklearn.linear_model import LogisticRegression\n\nwith mlflow.start_run():\n    model = LogisticRegression().fit(x, y)\n    mlflow.log_metric('f1', f1)\n    mlflow.sklearn.log_model(model, name='model', registered_model_name='pkg')\n",
    );

    #[test]
    fn experiment_tracking_and_model_versioning() {
        check(&[MLFLOW_TRAIN], BOTH);
        check(
            &[(
                "train.py",
                "import wandb\nrun = wandb.init(project='p')\nwandb.log({'loss': 1})\nartifact = wandb.Artifact('model', type='model')\nrun.log_artifact(artifact)\nmodel.fit(x)\n",
            )],
            BOTH,
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
            BOTH,
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
    fn the_clouds_trackers_and_registries() {
        check(
            &[(
                "trainer/task.py",
                "from google.cloud import aiplatform as vertex_ai\nvertex_ai.init(project=p, experiment='churn')\nvertex_ai.start_run('run-1')\nmodel.fit(x, y)\nvertex_ai.log_metrics({'auc': auc})\nvertex_ai.Model.upload(display_name='churn', artifact_uri=uri)\n",
            )],
            &[
                "experiments-tracked",
                "code-and-models-versioned",
                "compute-managed",
            ],
        );
        check(
            &[(
                "diabetes/training/train.py",
                "from azureml.core import Run, Model\nrun = Run.get_context()\nmodel = Ridge().fit(x, y)\nrun.log('mse', mse)\nModel.register(workspace=ws, model_path='model.pkl', model_name='diabetes')\n",
            )],
            &[
                "experiments-tracked",
                "code-and-models-versioned",
                "compute-managed",
            ],
        );
        check(
            &[
                (
                    "pipelines/churn/evaluate.py",
                    "from sagemaker.experiments.run import Run\nwith Run(experiment_name='churn') as run:\n    run.log_metric(name='auc', value=auc)\n",
                ),
                (
                    "pipelines/churn/pipeline.py",
                    "from sagemaker.workflow.step_collections import RegisterModel\nstep_args = estimator.fit(inputs)\nRegisterModel(name='Register', model_package_group_name=group)\n",
                ),
            ],
            &[
                "experiments-tracked",
                "code-and-models-versioned",
                "compute-managed",
            ],
        );
        // The CLI registers, the training script is in the repository.
        check(
            &[
                (
                    ".github/workflows/register.yml",
                    "on: workflow_dispatch\njobs:\n  r:\n    runs-on: ubuntu-latest\n    steps:\n      - run: az ml model create --name taxi --path azureml://jobs/$RUN/outputs/model\n",
                ),
                (
                    "src/train.py",
                    "model = GradientBoostingRegressor().fit(x, y)\n",
                ),
            ],
            &["code-and-models-versioned"],
        );
    }

    #[test]
    fn trackers_used_through_callbacks() {
        check(
            &[(
                "src/pkg/tune.py",
                "from ray.air.integrations.mlflow import MLflowLoggerCallback\ntuner = Tuner(trainer, run_config=RunConfig(callbacks=[MLflowLoggerCallback(tracking_uri=uri)]))\n",
            )],
            &["experiments-tracked", "compute-managed"],
        );
        for code in [
            "from lightning.pytorch.loggers import MLFlowLogger\ntrainer = Trainer(logger=MLFlowLogger(experiment_name='x'))\n",
            "from transformers import TrainingArguments\nargs = TrainingArguments(output_dir='out', report_to=\"wandb\")\n",
        ] {
            check(&[("src/pkg/tune.py", code)], &["experiments-tracked"]);
        }
        assert_eq!(
            evidence_of(
                &[(
                    "src/pkg/tune.py",
                    "import mlflow\nprint(mlflow.__version__)\n"
                )],
                "experiments-tracked"
            ),
            Vec::<String>::new()
        );
    }
}
