//! The structure of a CI pipeline beyond its triggers: the name other pipelines call it by, the
//! pipelines whose success starts it (GitHub `workflow_run`, Azure `resources: pipelines`), its
//! jobs with the jobs each needs (GitHub and GitLab `needs`) and the pipeline files a job starts
//! (GitLab `trigger: include`, GitHub reusable workflows); and its commands: the code with
//! display names and trigger blocks taken out.

use serde_json::Value;

use super::ci::Provider;

/// What a pipeline says about its place among the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pipeline {
    /// Its `name:`, lowercase: what `workflow_run` and Azure pipeline resources refer to.
    pub(crate) name: Option<String>,
    /// The names of the pipelines whose runs start this one, lowercase.
    pub(crate) upstream: Vec<String>,
    /// Its jobs, for the providers whose jobs run in parallel unless they say what they need.
    pub(crate) jobs: Vec<Job>,
}

/// One job of a pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Job {
    pub(crate) name: String,
    /// The jobs that must succeed before this one starts.
    pub(crate) needs: Vec<String>,
    /// Its commands and settings, lowercase, one string value a line, display names left out.
    pub(crate) code: String,
    /// Pipeline files it starts (a GitLab child pipeline, a GitHub reusable workflow), as written.
    pub(crate) starts: Vec<String>,
}

impl Pipeline {
    pub(super) fn of(provider: Provider, text: &str) -> Self {
        match provider {
            Provider::GithubActions => github(text).unwrap_or_default(),
            Provider::GitlabCi => gitlab(text).unwrap_or_default(),
            Provider::AzurePipelines => azure(text),
            _ => Self::default(),
        }
    }
}

fn github(text: &str) -> Option<Pipeline> {
    let workflow: Value = serde_saphyr::from_str(text).ok()?;
    let mut pipeline = Pipeline {
        name: workflow
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_lowercase),
        ..Pipeline::default()
    };
    if let Some(workflows) = workflow
        .get("on")
        .and_then(|on| on.get("workflow_run"))
        .and_then(|run| run.get("workflows"))
    {
        pipeline.upstream = strings(workflows);
    }
    if let Some(jobs) = workflow.get("jobs").and_then(Value::as_object) {
        for (name, job) in jobs {
            let starts = job
                .get("uses")
                .and_then(Value::as_str)
                .filter(|uses| uses.starts_with("./"))
                .map(|uses| vec![uses.to_lowercase()])
                .unwrap_or_default();
            pipeline.jobs.push(Job {
                name: name.to_lowercase(),
                needs: job.get("needs").map(strings).unwrap_or_default(),
                code: job_code(job),
                starts,
            });
        }
    }
    Some(pipeline)
}

/// GitLab's global keywords, which are not jobs.
const GITLAB_KEYWORDS: &[&str] = &[
    "stages",
    "variables",
    "default",
    "include",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

fn gitlab(text: &str) -> Option<Pipeline> {
    let file: Value = serde_saphyr::from_str(text).ok()?;
    let mut pipeline = Pipeline::default();
    for (name, job) in file.as_object()? {
        let is_job = !GITLAB_KEYWORDS.contains(&name.as_str())
            && !name.starts_with('.')
            && (job.get("script").is_some() || job.get("trigger").is_some());
        if !is_job {
            continue;
        }
        let needs = job
            .get("needs")
            .and_then(Value::as_array)
            .map(|needs| {
                needs
                    .iter()
                    .filter_map(|need| {
                        need.as_str()
                            .or_else(|| need.get("job").and_then(Value::as_str))
                            .map(str::to_lowercase)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let starts = job
            .get("trigger")
            .and_then(|trigger| trigger.get("include"))
            .map(|include| {
                let mut paths = strings(include);
                if let Some(items) = include.as_array() {
                    for item in items {
                        if let Some(local) = item.get("local").and_then(Value::as_str) {
                            paths.push(local.to_lowercase());
                        }
                    }
                }
                paths
            })
            .unwrap_or_default();
        pipeline.jobs.push(Job {
            name: name.to_lowercase(),
            needs,
            code: job_code(job),
            starts,
        });
    }
    Some(pipeline)
}

/// Azure Pipelines, read by lines: its top-level `name:`, and the `source:` of each pipeline
/// resource (`resources: pipelines: - pipeline: training source: train-model`).
fn azure(text: &str) -> Pipeline {
    let mut pipeline = Pipeline::default();
    let mut in_resources = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let top_level = line.len() == trimmed.len();
        if top_level {
            in_resources = trimmed.starts_with("resources:");
            if let Some(name) = trimmed.strip_prefix("name:") {
                let name = unquoted(name);
                if !name.is_empty() && !name.contains("$(") {
                    pipeline.name = Some(name.to_lowercase());
                }
            }
            continue;
        }
        let key = trimmed.trim_start_matches("- ").trim_start();
        if in_resources && let Some(source) = key.strip_prefix("source:") {
            let source = unquoted(source);
            if !source.is_empty() {
                pipeline.upstream.push(source.to_lowercase());
            }
        }
    }
    pipeline
}

fn unquoted(value: &str) -> &str {
    let value = value.trim();
    let value = value.split(" #").next().unwrap_or(value).trim();
    value.trim_matches(['"', '\''])
}

/// A string or a list of strings, lowercase.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.to_lowercase()],
        Value::Array(many) => many
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect(),
        _ => Vec::new(),
    }
}

/// Every string of a job, a line each, without its display names.
fn job_code(job: &Value) -> String {
    fn collect(value: &Value, code: &mut String) {
        match value {
            Value::String(text) => {
                code.push_str(&text.to_lowercase());
                code.push('\n');
            }
            Value::Array(items) => items.iter().for_each(|item| collect(item, code)),
            Value::Object(map) => {
                for (key, value) in map {
                    if !matches!(key.as_str(), "name" | "displayName") {
                        code.push_str(&key.to_lowercase());
                        code.push_str(":\n");
                        collect(value, code);
                    }
                }
            }
            _ => {}
        }
    }
    let mut code = String::new();
    collect(job, &mut code);
    code
}

/// Keys whose blocks say when a pipeline runs or what it is called, not what it does.
const NOT_COMMANDS: &[&str] = &[
    "name:",
    "displayname:",
    "run-name:",
    "on:",
    "\"on\":",
    "trigger:",
    "pr:",
    "resources:",
    "schedules:",
    "rules:",
    "only:",
    "except:",
    "changes:",
    "workflow:",
];

/// `code` (lowercase, comments removed) without display names and trigger blocks: each such
/// key's line and the lines indented below it.
pub(super) fn commands(code: &str) -> String {
    let mut kept = String::with_capacity(code.len());
    let mut skipping_below: Option<usize> = None;
    let mut previous_key = "";
    for line in code.lines() {
        // An agent pool's name (`pool:` then `name: gpu-agents`) says where a job runs.
        let names_a_pool = previous_key == "pool:";
        previous_key = line.trim();
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(block_indent) = skipping_below {
            // A list item at the block's own indentation belongs to the block (`paths:` then
            // `- src/**` at the same column is valid YAML).
            let continues = indent > block_indent
                || (indent == block_indent && trimmed.starts_with("- ") && !is_key_item(trimmed));
            if continues {
                continue;
            }
            skipping_below = None;
        }
        let key = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        if let Some(not_command) = NOT_COMMANDS
            .iter()
            .find(|prefix| key.starts_with(**prefix))
            .filter(|_| !names_a_pool)
        {
            // The item's own indentation: what is below belongs to the key.
            let key_indent = indent + (trimmed.len() - key.len());
            // `- name: x` starts an item whose other keys (`run:`) are commands.
            if key.len() == not_command.len() || !trimmed.starts_with("- ") {
                skipping_below = Some(key_indent);
            }
            if trimmed.starts_with("- ") {
                kept.push_str(&line[..indent]);
                kept.push_str("-\n");
            }
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// A list item that starts a mapping with a key of its own (`- task: x`), not a scalar item.
fn is_key_item(trimmed: &str) -> bool {
    trimmed[2..]
        .split_once(':')
        .is_some_and(|(key, _)| !key.contains(' ') && !key.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_leave_out_names_and_triggers() {
        let code = "name: model docs\non:\n  push:\n    paths:\n      - training/**\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n      - name: build the model docs\n        run: mkdocs build\n      - run: pytest\n";
        assert_eq!(
            commands(code),
            "jobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n      -\n        run: mkdocs build\n      - run: pytest\n"
        );
        let gitlab = "train:\n  script: [python -m pkg.fit]\n  rules:\n    - changes:\n        - src/train/**\n  tags: [gpu]\n";
        assert_eq!(
            commands(gitlab),
            "train:\n  script: [python -m pkg.fit]\n  tags: [gpu]\n"
        );
    }

    #[test]
    fn upstream_pipelines_and_jobs() {
        let github = Pipeline::of(
            Provider::GithubActions,
            "name: Deploy\non:\n  workflow_run:\n    workflows: [Train model]\n    types: [completed]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - name: Push\n        run: docker push x\n  rollout:\n    needs: build\n    uses: ./.github/workflows/rollout.yml\n",
        );
        assert_eq!(github.name.as_deref(), Some("deploy"));
        assert_eq!(github.upstream, ["train model"]);
        assert_eq!(github.jobs[1].needs, ["build"]);
        assert_eq!(github.jobs[1].starts, ["./.github/workflows/rollout.yml"]);
        assert!(github.jobs[0].code.contains("docker push x"));
        assert!(!github.jobs[0].code.contains("push\n"));

        let gitlab = Pipeline::of(
            Provider::GitlabCi,
            "stages: [train, deploy]\ntrain:\n  stage: train\n  script: [python -m pkg.fit]\ndeploy:\n  stage: deploy\n  needs: [train]\n  script: [helm upgrade api ./chart]\nrelease:\n  needs:\n    - job: deploy\n  trigger:\n    include: ci/release.yml\n",
        );
        let names: Vec<&str> = gitlab.jobs.iter().map(|job| job.name.as_str()).collect();
        assert_eq!(names, ["deploy", "release", "train"]);
        assert_eq!(gitlab.jobs[0].needs, ["train"]);
        assert_eq!(gitlab.jobs[1].needs, ["deploy"]);
        assert_eq!(gitlab.jobs[1].starts, ["ci/release.yml"]);

        let azure = Pipeline::of(
            Provider::AzurePipelines,
            "name: deploy-online-endpoint\ntrigger: none\nresources:\n  pipelines:\n    - pipeline: training\n      source: 'deploy-model-training-pipeline'\n      trigger: true\nstages:\n  - stage: Deploy\n",
        );
        assert_eq!(azure.name.as_deref(), Some("deploy-online-endpoint"));
        assert_eq!(azure.upstream, ["deploy-model-training-pipeline"]);
    }
}
