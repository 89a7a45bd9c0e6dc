//! What a CI pipeline reaches through the files it runs: a script (`bash scripts/test.sh`), a
//! job spec it submits to a compute service (`az ml job create -f job.yml`, `anyscale jobs
//! submit deploy/jobs/train.yaml`), a template it includes, a module it runs (`python -m
//! pkg.pipeline`), and from scripts and job specs one hop further (the job spec's `entrypoint:
//! bash deploy/jobs/train.sh`). Two hops at most, a bounded number of files, inside the
//! repository: the paths named in the pipeline's code, resolved against the repository's files.
//!
//! Paths are read as written, relative to the file that names them or to the root, or by the
//! end of their path when one file alone ends that way (`train.sh` found as `deploy/train.sh`).

use std::collections::HashMap;

use crate::assess::facts::{Kind, Source};

/// How many files one pipeline reaches at most.
const MAX_REACHED: usize = 32;

/// Extensions of the files a pipeline may run.
const RUNNABLE: &[&str] = &[".sh", ".bash", ".yml", ".yaml", ".py", ".ipynb"];

/// A file named in code, as written there.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reference {
    /// A path, with `./`, variables before it and `@repository` after it taken off.
    Path(String),
    /// A Python module run with `python -m`, dotted.
    Module(String),
    /// A job of a Databricks bundle run by its key (`databricks bundle run model_training_job`),
    /// defined in a YAML file of the repository.
    BundleJob(String),
}

/// The paths and modules named in `code` (lowercase).
fn references(code: &str) -> Vec<Reference> {
    let separators = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\''
                    | '`'
                    | '='
                    | ','
                    | ';'
                    | '('
                    | ')'
                    | '['
                    | ']'
                    | '{'
                    | '|'
                    | '&'
                    | '<'
                    | '>'
            )
    };
    let tokens: Vec<&str> = code
        .split(separators)
        .filter(|token| !token.is_empty())
        .collect();
    let mut found = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        if *token == "run" && index > 0 && tokens[index - 1] == "bundle" {
            if let Some(key) = bundle_job(&tokens[index + 1..]) {
                found.push(Reference::BundleJob(key.to_owned()));
            }
            continue;
        }
        if *token == "-m"
            && index > 0
            && tokens[index - 1].contains("python")
            && let Some(module) = tokens.get(index + 1)
        {
            let module = module.trim_end_matches(':');
            if module
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                found.push(Reference::Module(module.to_owned()));
            }
            continue;
        }
        let mut path = *token;
        // `$(System.DefaultWorkingDirectory)/x`, `${{ github.workspace }}/x`, `}}/x`.
        if let Some(end) = path.rfind(")/").or_else(|| path.rfind("}/")) {
            path = &path[end + 2..];
        }
        path = path.split('@').next().unwrap_or(path);
        path = path.trim_end_matches([':', '.', '}']);
        path = path.trim_start_matches('/');
        while let Some(rest) = path.strip_prefix("./") {
            path = rest;
        }
        if path.contains('$') || path.contains("://") || path.is_empty() {
            continue;
        }
        if RUNNABLE.iter().any(|extension| path.ends_with(extension)) {
            found.push(Reference::Path(path.to_owned()));
        }
    }
    found.dedup();
    found
}

/// The job key of `databricks bundle run [FLAGS] KEY`, from the tokens after `run`.
fn bundle_job<'t>(tokens: &[&'t str]) -> Option<&'t str> {
    let mut rest = tokens.iter();
    while let Some(token) = rest.next() {
        if matches!(*token, "-t" | "--target" | "-p" | "--profile" | "--var") {
            rest.next();
        } else if !token.starts_with('-') {
            return Some(token);
        }
    }
    None
}

/// The repository's runnable files by lowercase path and by lowercase file name.
struct Index {
    by_path: HashMap<String, usize>,
    /// For each file name, the lowercase paths of the files of that name and their indexes.
    by_name: HashMap<String, Vec<(String, usize)>>,
}

impl Index {
    fn new(sources: &[Source<'_>]) -> Self {
        let mut by_path = HashMap::new();
        let mut by_name: HashMap<String, Vec<(String, usize)>> = HashMap::new();
        for (index, source) in sources.iter().enumerate() {
            let runnable = matches!(
                source.kind,
                Kind::Shell | Kind::Config | Kind::Python | Kind::Notebook | Kind::Ci(_)
            );
            if !runnable {
                continue;
            }
            let path = source.path.to_lowercase();
            by_path.insert(path.clone(), index);
            by_name
                .entry(source.name.clone())
                .or_default()
                .push((path, index));
        }
        Self { by_path, by_name }
    }

    /// The file `path` names, written in the file at `from`.
    fn resolve(&self, path: &str, from: &str) -> Option<usize> {
        let directory = from.rsplit_once('/').map_or("", |(directory, _)| directory);
        let beside = normalized(&format!("{directory}/{path}"));
        for candidate in [beside, normalized(path)].into_iter().flatten() {
            if let Some(index) = self.by_path.get(&candidate) {
                return Some(*index);
            }
        }
        // By the end of its path, when one file alone ends that way.
        let tail = path.trim_start_matches("../");
        let name = tail.rsplit('/').next().unwrap_or(tail);
        let ending = format!("/{tail}");
        let mut matching = self
            .by_name
            .get(name)?
            .iter()
            .filter(|(candidate, _)| candidate == tail || candidate.ends_with(&ending));
        let (_, first) = matching.next()?;
        matching.next().is_none().then_some(*first)
    }

    fn resolve_module(&self, module: &str) -> Option<usize> {
        let as_path = module.replace('.', "/");
        [format!("{as_path}.py"), format!("{as_path}/__main__.py")]
            .iter()
            .find_map(|path| self.resolve(path, ""))
    }
}

/// `a/./b/../c` as `a/c`, or `None` if it leaves the repository.
fn normalized(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Whether a reached file may run something: scripts and modules do; a YAML file does when it is
/// a job spec, a template or a pipeline (it has commands), not when it is plain configuration.
fn runs_something(source: &Source<'_>) -> bool {
    match source.kind {
        Kind::Shell | Kind::Python | Kind::Notebook | Kind::Ci(_) => true,
        Kind::Config => [
            "command:",
            "entrypoint:",
            "steps:",
            "jobs:",
            "script:",
            "tasks:",
            "inlinescript:",
        ]
        .iter()
        .any(|key| source.has(key)),
        _ => false,
    }
}

/// For each CI pipeline among `sources`, the indexes of the files it reaches, in the order
/// found; every other source reaches nothing.
pub(super) fn reached(sources: &[Source<'_>]) -> Vec<Vec<usize>> {
    let mut reached = vec![Vec::new(); sources.len()];
    let named: Vec<(usize, Vec<Reference>)> = sources
        .iter()
        .enumerate()
        .filter(|(_, source)| source.is_ci())
        .map(|(index, source)| (index, references(&source.code)))
        .filter(|(_, references)| !references.is_empty())
        .collect();
    if named.is_empty() {
        return reached;
    }
    let index = Index::new(sources);
    let resolve = |reference: &Reference, from: &str| match reference {
        Reference::Path(path) => index.resolve(path, from),
        Reference::Module(module) => index.resolve_module(module),
        Reference::BundleJob(key) => {
            let definition = format!("{key}:");
            sources.iter().position(|source| {
                source.kind == Kind::Config
                    && source.has(&definition)
                    && source.has("tasks:")
                    && source.code.lines().any(|line| line.trim() == definition)
            })
        }
    };
    for (pipeline, named_references) in named {
        let from = sources[pipeline].path;
        let mut found: Vec<usize> = Vec::new();
        let add = |target: usize, found: &mut Vec<usize>| {
            if target != pipeline
                && !found.contains(&target)
                && found.len() < MAX_REACHED
                && runs_something(&sources[target])
            {
                found.push(target);
            }
        };
        for reference in &named_references {
            if let Some(target) = resolve(reference, from) {
                add(target, &mut found);
            }
        }
        // One hop further, from the scripts, job specs and pipelines reached.
        let first_hop = found.clone();
        for target in first_hop {
            let source = &sources[target];
            if !matches!(source.kind, Kind::Shell | Kind::Config | Kind::Ci(_)) {
                continue;
            }
            for reference in references(&source.code) {
                if let Some(next) = resolve(&reference, source.path) {
                    add(next, &mut found);
                }
            }
        }
        reached[pipeline] = found;
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::scan::ScannedFile;

    fn check(files: &[(&str, &str)], expected: &[&str]) {
        let scanned: Vec<ScannedFile> = files
            .iter()
            .map(|(path, text)| ScannedFile::new(path, text))
            .collect();
        let sources: Vec<Source<'_>> = scanned
            .iter()
            .filter_map(|file| Source::new(&file.path, &file.text))
            .collect();
        let reached = reached(&sources);
        let pipeline = sources.iter().position(Source::is_ci).unwrap();
        let paths: Vec<&str> = reached[pipeline]
            .iter()
            .map(|index| sources[*index].path)
            .collect();
        assert_eq!(paths, expected);
    }

    #[test]
    fn references_are_paths_and_modules() {
        assert_eq!(
            references(
                "run: bash ./scripts/test.sh && python -m pkg.train --config=configs/a.yaml\n- template: templates/train.yml@mlops-templates\nfile: $(system.defaultworkingdirectory)/jobs/job.yml\n"
            ),
            [
                Reference::Path("scripts/test.sh".to_owned()),
                Reference::Module("pkg.train".to_owned()),
                Reference::Path("configs/a.yaml".to_owned()),
                Reference::Path("templates/train.yml".to_owned()),
                Reference::Path("jobs/job.yml".to_owned()),
            ]
        );
        assert_eq!(
            references("run: curl https://x/a.sh | sh\necho $file.py\n"),
            []
        );
    }

    #[test]
    fn a_pipeline_reaches_scripts_job_specs_and_modules_two_hops_deep() {
        check(
            &[
                (
                    ".github/workflows/ml.yml",
                    "on: push\njobs:\n  w:\n    steps:\n      - run: anyscale jobs submit deploy/jobs/workloads.yaml\n      - run: python -m madewithml.evaluate\n",
                ),
                (
                    "deploy/jobs/workloads.yaml",
                    "name: workloads\nentrypoint: bash deploy/jobs/workloads.sh\n",
                ),
                (
                    "deploy/jobs/workloads.sh",
                    "pytest tests/code\npython madewithml/train.py --num-epochs 10\n",
                ),
                ("madewithml/train.py", "import ray\n"),
                ("madewithml/evaluate.py", "import ray\n"),
            ],
            &[
                "deploy/jobs/workloads.yaml",
                "madewithml/evaluate.py",
                "deploy/jobs/workloads.sh",
            ],
        );
        // Relative to the pipeline (Azure templates), and by a unique ending.
        // A Databricks bundle job, by its key, and the notebooks its tasks run.
        check(
            &[
                (
                    ".github/workflows/tests.yml",
                    "on: pull_request\njobs:\n  t:\n    steps:\n      - run: databricks bundle run -t test model_training_job\n",
                ),
                (
                    "resources/model-workflow-resource.yml",
                    "resources:\n  jobs:\n    model_training_job:\n      tasks:\n        - task_key: Train\n          notebook_task:\n            notebook_path: ../training/notebooks/Train.py\n",
                ),
                ("training/notebooks/Train.py", "import mlflow\n"),
            ],
            &[
                "resources/model-workflow-resource.yml",
                "training/notebooks/Train.py",
            ],
        );
        check(
            &[
                (
                    ".azuredevops/train.yml",
                    "trigger: [main]\npool: {vmimage: ubuntu-latest}\nsteps:\n  - template: templates/run-job.yml\n  - script: bash train.sh\n",
                ),
                (
                    ".azuredevops/templates/run-job.yml",
                    "parameters:\n  - name: x\nsteps:\n  - script: az ml job create --file mlops/azureml/train/pipeline.yml\n",
                ),
                (
                    "mlops/azureml/train/pipeline.yml",
                    "$schema: https://azuremlschemas.azureedge.net/latest/pipelinejob.schema.json\njobs:\n  train:\n    command: python train.py\n",
                ),
                ("scripts/train.sh", "python -m pkg.fit\n"),
                ("configs/params.yaml", "alpha: 1\n"),
            ],
            &[
                ".azuredevops/templates/run-job.yml",
                "scripts/train.sh",
                "mlops/azureml/train/pipeline.yml",
            ],
        );
    }
}
