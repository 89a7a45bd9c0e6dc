//! Which CI provider's schema a YAML file follows, read from its content: teams keep Azure
//! Pipelines in `.pipelines/`, `.azuredevops/` or any folder, Cloud Build files in `build/`,
//! CodeBuild specs under any name, so a pipeline is recognised by the keys and shape its
//! provider's schema gives it, wherever it is.
//!
//! Only the top-level keys and a few shapes are read (a line scan, no parse), so that the many
//! YAML files of a large repository cost little. Files that run jobs but are not CI pipelines
//! are refused first: Azure ML job specs (their `$schema`, or `command` with `compute`),
//! Kubernetes resources (`apiVersion` with `kind`), Compose files. An Azure Pipelines template
//! (`parameters` and `steps`, no trigger or pool of its own) runs only where a pipeline includes
//! it: it stays configuration, and the pipeline that includes it reads it.

use super::ci::Provider;

/// The provider whose schema `text` follows, if it is a CI pipeline at all.
pub(super) fn provider_by_content(text: &str) -> Option<Provider> {
    let shape = Shape::of(text);
    let top = |key: &str| shape.top_level.iter().any(|found| *found == key);
    let nested = |key: &str| shape.nested.contains(&key);
    // Files that declare jobs without being CI pipelines.
    if top("$schema") || top("apiversion") || top("services") || (top("command") && top("compute"))
    {
        return None;
    }
    if top("version") && top("phases") {
        return Some(Provider::CodeBuild);
    }
    if top("pipelines")
        && ["default", "branches", "pull-requests", "tags", "custom"]
            .iter()
            .any(|key| nested(key))
    {
        return Some(Provider::Bitbucket);
    }
    let azure_only = ["trigger", "pr", "pool", "extends", "schedules"]
        .iter()
        .any(|key| top(key))
        || shape.azure_items;
    let has_work = ["stages", "jobs", "steps", "extends"]
        .iter()
        .any(|key| top(key));
    if has_work && azure_only && !top("on") {
        // A template (steps, jobs or stages, maybe parameters and variables) runs only where a
        // pipeline includes it; a pipeline says when it runs or where.
        let runs_by_itself = ["trigger", "pr", "pool", "schedules", "resources", "extends"]
            .iter()
            .any(|key| top(key));
        return runs_by_itself.then_some(Provider::AzurePipelines);
    }
    let cloud_build = shape.cloud_build_steps || (shape.image_named_steps && shape.step_arguments);
    if top("steps") && cloud_build && !top("jobs") && !top("on") {
        return Some(Provider::CloudBuild);
    }
    if top("version") && top("workflows") && top("jobs") {
        return Some(Provider::CircleCi);
    }
    let gitlab_structure = ["stages", "workflow", "default", "include"]
        .iter()
        .any(|key| top(key));
    if gitlab_structure && shape.job_scripts && !top("on") {
        return Some(Provider::GitlabCi);
    }
    None
}

/// What a line scan sees of a YAML file. Independent facts, hence the bools.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Default)]
struct Shape<'t> {
    /// Keys at column 0, lowercase (the caller's text may have any case).
    top_level: Vec<String>,
    /// Keys indented once (by any amount), lowercase, for the providers whose structure is
    /// one level down.
    nested: Vec<&'t str>,
    /// List items only Azure Pipelines has: `- task:`, `- stage:`, `- job:`, `- script:` and
    /// the like at any depth, or a hosted `vmImage`.
    azure_items: bool,
    /// Cloud Build steps: items named by a builder image in Google's registries
    /// (`- name: gcr.io/...`).
    cloud_build_steps: bool,
    /// Items named by any image (`- name: python:3.11`), and `args` or `entrypoint` under the
    /// top-level `steps`: Cloud Build steps too, together.
    image_named_steps: bool,
    step_arguments: bool,
    /// A job indented once with a `script:` of its own (GitLab).
    job_scripts: bool,
}

impl<'t> Shape<'t> {
    fn of(text: &'t str) -> Self {
        let mut shape = Self::default();
        let mut nested_indent: Option<usize> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            let lower_item = trimmed
                .strip_prefix("- ")
                .map(|item| item.trim_start().to_ascii_lowercase());
            if let Some(item) = &lower_item {
                let azure_item = [
                    "task:",
                    "stage:",
                    "job:",
                    "deployment:",
                    "script:",
                    "bash:",
                    "pwsh:",
                    "powershell:",
                    "checkout:",
                    "template:",
                    "download:",
                    "publish:",
                ]
                .iter()
                .any(|key| item.starts_with(key));
                shape.azure_items |= azure_item && !item.starts_with("script: [");
                if let Some(value) = item.strip_prefix("name:") {
                    let value = value.trim().trim_matches(['"', '\'']);
                    shape.cloud_build_steps |= ["gcr.io/", "docker.pkg.dev/"]
                        .iter()
                        .any(|registry| value.contains(registry));
                    shape.image_named_steps |=
                        !value.contains(' ') && (value.contains('/') || value.contains(':'));
                }
            }
            if indent == 0 {
                nested_indent = None;
                if let Some((key, _)) = trimmed.split_once(':') {
                    let key = key.trim().trim_matches(['"', '\'']);
                    if !key.contains(' ') {
                        shape.top_level.push(key.to_ascii_lowercase());
                    }
                }
                continue;
            }
            let first_nested = *nested_indent.get_or_insert(indent);
            if indent == first_nested
                && lower_item.is_none()
                && let Some((key, _)) = trimmed.split_once(':')
                && !key.contains(' ')
            {
                shape.nested.push(key);
            }
            if indent == first_nested && trimmed.to_ascii_lowercase().starts_with("script:") {
                shape.job_scripts = true;
            }
            let lower = trimmed.to_ascii_lowercase();
            if lower.starts_with("vmimage:") {
                shape.azure_items = true;
            }
            if (lower.starts_with("args:") || lower.starts_with("entrypoint:"))
                && shape.top_level.last().is_some_and(|key| key == "steps")
            {
                shape.step_arguments = true;
            }
        }
        shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<Provider>) {
        assert_eq!(provider_by_content(text), expected, "{text}");
    }

    #[test]
    fn pipelines_are_recognised_by_their_schema() {
        check(
            "trigger:\n  branches:\n    include: [main]\npool:\n  vmImage: ubuntu-latest\nsteps:\n  - script: pytest\n",
            Some(Provider::AzurePipelines),
        );
        check(
            "name: deploy-model-training-pipeline\nvariables:\n  - template: ../../config-infra-dev.yml\npool:\n  name: Self-hosted Agents\nstages:\n  - stage: Train\n    jobs:\n      - job: Train\n        steps:\n          - checkout: self\n",
            Some(Provider::AzurePipelines),
        );
        check(
            "steps:\n  - name: 'gcr.io/cloud-builders/git'\n    args: ['clone', '$_REPO_URL']\n  - name: 'python:3.10'\n    entrypoint: 'pytest'\ntimeout: 1800s\n",
            Some(Provider::CloudBuild),
        );
        check(
            "version: 0.2\nphases:\n  install:\n    runtime-versions:\n      python: 3.11\n  build:\n    commands:\n      - python -m pipelines.run_pipeline\n",
            Some(Provider::CodeBuild),
        );
        check(
            "stages: [test, train]\ntest:\n  stage: test\n  script:\n    - pytest\n",
            Some(Provider::GitlabCi),
        );
        check(
            "image: python:3.11\npipelines:\n  default:\n    - step:\n        script: [pytest]\n",
            Some(Provider::Bitbucket),
        );
    }

    #[test]
    fn job_specs_templates_and_configuration_are_not_pipelines() {
        // An Azure ML pipeline job: `jobs` and `steps`-like keys, but its own schema.
        check(
            "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\ntype: pipeline\njobs:\n  train:\n    command: python train.py\n",
            None,
        );
        check(
            "command: python train.py --data ${{inputs.data}}\ncompute: azureml:cpu-cluster\nenvironment: azureml:sklearn@latest\n",
            None,
        );
        check(
            "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n        - name: train\n",
            None,
        );
        // A step template, included by a pipeline that reads it there.
        check(
            "parameters:\n  - name: pipeline_file\n    type: string\nsteps:\n  - task: AzureCLI@2\n    inputs:\n      inlineScript: az ml job create --file ${{ parameters.pipeline_file }}\n",
            None,
        );
        check(
            "steps:\n  - script: az extension add -n ml -y\n    displayName: Install the Azure ML CLI\n",
            None,
        );
        check(
            "model:\n  name: resnet\n  steps: 100\ntrainer:\n  max_epochs: 3\n",
            None,
        );
        check(
            "stages:\n  train:\n    cmd: python train.py\n    deps: [data]\n",
            None,
        );
        check("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n", None);
    }
}
