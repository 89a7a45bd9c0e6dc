//! CI pipelines: their providers, what starts them (a change, a tag, a schedule, a person,
//! another pipeline), which pipelines they follow, and their jobs. GitHub Actions workflows are
//! parsed; the other providers are read for the keywords of their trigger syntax. A pipeline's
//! code, as detectors search it, is its commands and structure: display names (`name:`,
//! `displayName:`) and trigger blocks (`on:`, `trigger:`, `rules:`, path filters) are taken out,
//! so that a workflow called "Model docs" or a filter on `training/**` is not read as training.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    GithubActions,
    GitlabCi,
    AzurePipelines,
    Jenkins,
    CircleCi,
    Bitbucket,
    Travis,
    CloudBuild,
    CodeBuild,
    Other,
}

impl Provider {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::GithubActions => "GitHub Actions",
            Self::GitlabCi => "GitLab CI",
            Self::AzurePipelines => "Azure Pipelines",
            Self::Jenkins => "Jenkins",
            Self::CircleCi => "CircleCI",
            Self::Bitbucket => "Bitbucket Pipelines",
            Self::Travis => "Travis CI",
            Self::CloudBuild => "Cloud Build",
            Self::CodeBuild => "AWS CodeBuild",
            Self::Other => "CI",
        }
    }
}

/// What starts a CI pipeline. Independent facts, any combination possible, hence the bools.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Triggers {
    /// A push to a branch or a pull or merge request: it runs whenever the code changes.
    pub(crate) on_change: bool,
    /// Only on changes to some paths.
    pub(crate) path_filters: bool,
    /// A tag or a published release: a person decides.
    pub(crate) on_tag: bool,
    pub(crate) schedule: bool,
    /// Can be started by hand (`workflow_dispatch`).
    pub(crate) manual: bool,
    /// Waits for a person somewhere: `when: manual`, a Jenkins `input`, a manual validation.
    pub(crate) approval: bool,
    /// Another pipeline or an event: `workflow_run`, `repository_dispatch`, a pipeline resource.
    pub(crate) after_event: bool,
}

impl Triggers {
    /// Runs by itself, when code changes or another pipeline or event calls it.
    pub(crate) fn automatic(self) -> bool {
        self.on_change || self.after_event
    }
}

/// What starts a pipeline of `provider`, from its text and its code (lowercase, no comments).
pub(super) fn triggers(provider: Provider, text: &str, code: &str) -> Triggers {
    if provider == Provider::GithubActions {
        return github_triggers(text).unwrap_or_else(|| github_triggers_from_text(code));
    }
    let has = |needle: &str| code.contains(needle);
    let mut triggers = Triggers {
        on_change: true,
        ..Triggers::default()
    };
    match provider {
        Provider::GitlabCi => {
            triggers.schedule = has("\"schedule\"") || has("- schedules");
            triggers.approval = has("when: manual");
            triggers.after_event =
                has("\"pipeline\"") || has("\"trigger\"") || has("\"api\"") || has("- triggers");
            triggers.on_tag = has("$ci_commit_tag") || has("- tags");
        }
        Provider::AzurePipelines => {
            triggers.schedule = has("schedules:");
            triggers.after_event = has("pipelines:") && has("resources:");
            let no_trigger = has("trigger: none");
            let no_pr = !has("pr:") || has("pr: none");
            triggers.on_change = !(no_trigger && no_pr);
            triggers.manual = !triggers.on_change;
            triggers.approval = has("manualvalidation");
        }
        Provider::Jenkins => {
            triggers.schedule = has("cron(") || has("cron '") || has("cron \"");
            triggers.approval = has("input(") || has("input {") || has("input message");
            triggers.after_event = has("upstream(");
        }
        Provider::CircleCi
        | Provider::Bitbucket
        | Provider::Travis
        | Provider::CloudBuild
        | Provider::CodeBuild
        | Provider::Other => {
            // A `schedule:` or `cron:` key, not a word: `--lr_scheduler` is no schedule.
            triggers.schedule = code.lines().any(|line| {
                let key = line.trim_start().trim_start_matches("- ");
                key.starts_with("schedule:") || key.starts_with("cron:")
            });
        }
        Provider::GithubActions => unreachable!("handled above"),
    }
    triggers
}

/// The `on:` of a GitHub Actions workflow, parsed.
fn github_triggers(text: &str) -> Option<Triggers> {
    let workflow: serde_json::Value = serde_saphyr::from_str(text).ok()?;
    let on = workflow.get("on")?;
    let mut events: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    match on {
        serde_json::Value::String(event) => {
            events.insert(event.clone(), serde_json::Value::Null);
        }
        serde_json::Value::Array(list) => {
            for event in list.iter().filter_map(serde_json::Value::as_str) {
                events.insert(event.to_owned(), serde_json::Value::Null);
            }
        }
        serde_json::Value::Object(map) => {
            events.extend(map.iter().map(|(key, value)| (key.clone(), value.clone())));
        }
        _ => return None,
    }
    let mut triggers = Triggers::default();
    for (event, filters) in &events {
        let has_filter = |key: &str| filters.get(key).is_some();
        match event.as_str() {
            "push" => {
                let tags_only = (has_filter("tags") || has_filter("tags-ignore"))
                    && !has_filter("branches")
                    && !has_filter("branches-ignore")
                    && !has_filter("paths");
                if tags_only {
                    triggers.on_tag = true;
                } else {
                    triggers.on_change = true;
                }
                triggers.path_filters |= has_filter("paths");
            }
            "pull_request" | "pull_request_target" | "merge_group" => {
                triggers.on_change = true;
                triggers.path_filters |= has_filter("paths");
            }
            "release" => triggers.on_tag = true,
            "schedule" => triggers.schedule = true,
            "workflow_dispatch" => triggers.manual = true,
            "workflow_run"
            | "repository_dispatch"
            | "registry_package"
            | "deployment"
            | "deployment_status" => triggers.after_event = true,
            _ => {}
        }
    }
    Some(triggers)
}

/// The triggers of a workflow that does not parse (a prefix cut short), from its text.
fn github_triggers_from_text(code: &str) -> Triggers {
    let has = |needle: &str| code.contains(needle);
    Triggers {
        on_change: has("pull_request")
            || code.lines().any(|line| {
                let line = line.trim();
                line == "push:" || line.starts_with("on: push") || line.starts_with("on: [push")
            }),
        path_filters: has("paths:"),
        on_tag: has("tags:"),
        schedule: has("schedule:") || has("cron:"),
        manual: has("workflow_dispatch"),
        approval: false,
        after_event: has("workflow_run") || has("repository_dispatch"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Source;
    use super::*;

    fn check_triggers(path: &str, text: &str, expected: Triggers) {
        assert_eq!(
            Source::new(path, text).unwrap().triggers,
            expected,
            "{text}"
        );
    }

    #[test]
    fn github_triggers_are_parsed() {
        let default = Triggers::default();
        check_triggers(
            ".github/workflows/a.yml",
            "on: [push, pull_request]\njobs: {}\n",
            Triggers {
                on_change: true,
                ..default
            },
        );
        check_triggers(
            ".github/workflows/a.yml",
            "on:\n  push:\n    tags: [\"v*\"]\n",
            Triggers {
                on_tag: true,
                ..default
            },
        );
        check_triggers(
            ".github/workflows/a.yml",
            "on:\n  pull_request:\n    paths: [\"src/**\"]\n  workflow_dispatch:\n  schedule:\n    - cron: \"0 3 * * *\"\n  workflow_run:\n    workflows: [Train]\n",
            Triggers {
                on_change: true,
                path_filters: true,
                schedule: true,
                manual: true,
                after_event: true,
                ..default
            },
        );
        check_triggers(
            ".github/workflows/a.yml",
            "on:\n  workflow_dispatch:\njobs:\n  x: [\n",
            Triggers {
                manual: true,
                ..default
            },
        );
    }

    #[test]
    fn other_providers_run_on_change_unless_told_otherwise() {
        let gitlab = Source::new(
            ".gitlab-ci.yml",
            "deploy:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"schedule\"\n  when: manual\n",
        )
        .unwrap();
        assert!(gitlab.triggers.on_change && gitlab.triggers.schedule && gitlab.triggers.approval);
        let azure = Source::new("azure-pipelines.yml", "trigger: none\npr: none\n").unwrap();
        assert!(!azure.triggers.automatic());
        let jenkins = Source::new("Jenkinsfile", "triggers { cron('H 2 * * *') }").unwrap();
        assert!(jenkins.triggers.schedule);
    }
}
