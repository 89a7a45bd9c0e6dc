//! What starts training, for the detectors of several levels: a command that trains (`python
//! train.py`, `dvc repro`, `mlflow run`), the start of a managed training pipeline or job
//! (SageMaker, Vertex AI, Azure ML, Databricks, Kubeflow), whether a CI pipeline runs it itself
//! or through the scripts, job specs and modules it reaches; and which compute service a
//! pipeline submits work to.

use super::signals::is_training_code;
use super::{Repo, through};
use crate::assess::facts::Source;

/// Commands that train, whatever they are called: pipelines of stages, managed training jobs
/// and pipelines started from a CLI. Their description says what starts.
const TRAINING_COMMANDS: &[(&str, &str)] = &[
    ("dvc repro", "runs the DVC pipeline (dvc repro)"),
    ("dvc exp run", "runs a DVC experiment (dvc exp run)"),
    ("mlflow run", "runs an MLflow project (mlflow run)"),
    (
        "start-pipeline-execution",
        "starts a SageMaker pipeline (start-pipeline-execution)",
    ),
    (
        "create-training-job",
        "starts a SageMaker training job (create-training-job)",
    ),
    (
        "custom-jobs create",
        "starts a Vertex AI custom job (gcloud ai custom-jobs create)",
    ),
    (
        "hp-tuning-jobs create",
        "starts a Vertex AI tuning job (gcloud ai hp-tuning-jobs create)",
    ),
    (
        "databricks bundle run",
        "runs a Databricks job (databricks bundle run)",
    ),
    (
        "databricks jobs run-now",
        "runs a Databricks job (databricks jobs run-now)",
    ),
    (
        "kfp run create",
        "starts a Kubeflow pipeline run (kfp run create)",
    ),
];

/// Calls that start a managed training pipeline or job from Python.
const PIPELINE_STARTS: &[(&str, &str)] = &[
    ("pipelinejob(", "starts a Vertex AI pipeline"),
    ("customjob(", "starts a Vertex AI custom job"),
    ("customtrainingjob(", "starts a Vertex AI training job"),
    (
        "customcontainertrainingjob(",
        "starts a Vertex AI training job",
    ),
    ("start_pipeline_execution", "starts a SageMaker pipeline"),
    ("create_training_job", "starts a SageMaker training job"),
    ("jobs.create_or_update(", "submits an Azure ML job"),
    ("published_pipeline.submit(", "submits an Azure ML pipeline"),
    ("experiment.submit(", "submits an Azure ML experiment"),
    (
        "create_run_from_pipeline_func",
        "starts a Kubeflow pipeline run",
    ),
    (
        "create_run_from_pipeline_package",
        "starts a Kubeflow pipeline run",
    ),
    ("run_pipeline(", "starts a Kubeflow pipeline run"),
    ("jobs.run_now(", "runs a Databricks job"),
    ("jobs.submit(", "runs a Databricks job"),
];

/// How `source` (a CI pipeline, a script, a job spec) trains, if it does: a command that
/// trains, or the word.
pub(super) fn trains_by_command(source: &Source<'_>) -> Option<&'static str> {
    training_command(source).or_else(|| trains_by_word(source))
}

/// A command of `source` that trains whatever it is called.
fn training_command(source: &Source<'_>) -> Option<&'static str> {
    TRAINING_COMMANDS
        .iter()
        .find(|(command, _)| source.has(command))
        .map(|(_, detail)| *detail)
}

/// `train` as a word of `source` (`python train.py`, `make train`, `--training-data`).
fn trains_by_word(source: &Source<'_>) -> Option<&'static str> {
    source.has_word_start("train").then_some("trains the model")
}

/// How the Python module `source` starts a managed training pipeline or job, if it does:
/// a SageMaker pipeline is started by `.start()` on a pipeline of `sagemaker.workflow`, or
/// created or updated (`upsert`) and started.
pub(super) fn starts_a_pipeline(source: &Source<'_>) -> Option<&'static str> {
    if let Some((_, detail)) = PIPELINE_STARTS.iter().find(|(call, _)| source.has(call)) {
        return Some(detail);
    }
    let sagemaker = source.imports("sagemaker.workflow") || source.has(".upsert(");
    (sagemaker && source.has(".start(")).then_some("starts a SageMaker pipeline")
}

/// How the CI pipeline `ci` trains, directly or through what it runs, said with the file
/// it was seen in.
///
/// What a pipeline runs says more than the words it uses: a training command first, then the
/// training modules it runs, and only then the word `train`.
pub(super) fn pipeline_trains(repo: &Repo<'_>, ci: &Source<'_>) -> Option<String> {
    if let Some((detail, via)) = repo.find_in_pipeline(ci, training_command) {
        return Some(through(detail, via));
    }
    let by_module = repo.reached_modules(ci).find_map(|module| {
        let detail = starts_a_pipeline(module)
            .or_else(|| is_training_code(module).then_some("runs the training code"))?;
        Some(through(detail, Some(module.path)))
    });
    by_module.or_else(|| {
        repo.find_in_pipeline(ci, trains_by_word)
            .map(|(detail, via)| through(detail, via))
    })
}

/// Commands that submit work to a compute service.
const SUBMISSIONS: &[(&str, &str)] = &[
    (
        "az ml job create",
        "Azure Machine Learning (az ml job create)",
    ),
    ("anyscale job submit", "Anyscale (anyscale job submit)"),
    ("anyscale jobs submit", "Anyscale (anyscale jobs submit)"),
    ("gcloud ai custom-jobs", "Vertex AI (gcloud ai custom-jobs)"),
    ("aws sagemaker", "SageMaker (aws sagemaker)"),
    (
        "databricks bundle run",
        "Databricks (databricks bundle run)",
    ),
    (
        "databricks jobs run-now",
        "Databricks (databricks jobs run-now)",
    ),
    ("sky launch", "SkyPilot (sky launch)"),
    ("sky jobs launch", "SkyPilot (sky jobs launch)"),
    ("cml runner", "a cloud runner (cml runner)"),
    ("modal run", "Modal (modal run)"),
];

/// The compute service `source` submits work to, if it does.
pub(super) fn submits_to(source: &Source<'_>) -> Option<&'static str> {
    SUBMISSIONS
        .iter()
        .find(|(command, _)| source.has(command))
        .map(|(_, service)| *service)
}

#[cfg(test)]
mod tests {
    use super::super::testing::check;

    #[test]
    fn training_started_without_the_word() {
        for (command, expected) in [
            (
                "aws sagemaker start-pipeline-execution --pipeline-name churn",
                &["compute-managed", "model-ci"][..],
            ),
            (
                "databricks bundle run model_job -t staging",
                &["compute-managed", "model-ci"],
            ),
            ("dvc repro", &["model-ci"]),
        ] {
            let pipeline = format!(
                "on: push\njobs:\n  ml:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {command}\n"
            );
            check(&[(".github/workflows/ml.yml", pipeline.as_str())], expected);
        }
        // A module the pipeline runs starts a managed pipeline.
        check(
            &[
                (
                    ".github/workflows/ml.yml",
                    "on: push\njobs:\n  ml:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python -m pipelines.run_pipeline --role x\n",
                ),
                (
                    "pipelines/run_pipeline.py",
                    "from sagemaker.workflow.pipeline import Pipeline\npipeline = get_pipeline(role)\npipeline.upsert(role_arn=role)\nexecution = pipeline.start()\n",
                ),
            ],
            &["compute-managed", "model-ci"],
        );
        // A workflow whose name says "model" trains nothing.
        check(
            &[(
                ".github/workflows/docs.yml",
                "name: Model card and docs\non: push\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n      - name: Build the training guide\n        run: mkdocs build\n",
            )],
            &[],
        );
    }
}
