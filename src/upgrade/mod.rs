//! `mlops upgrade`: take a project up one level at a time, merging each level's template changes
//! into the user's files; `mlops update`: merge what this build's templates generate for the
//! project's own level, when they changed since it was generated.
//!
//! - `locate`: the project an upgrade starts from; `adoption` (with `derive`, pure): a repository
//!   `mlops new` did not make, given the manifest it would have had.
//! - `base` (pure): recovering what the generator wrote for the recorded level, and where
//!   `.mlops/base/` keeps it.
//! - `plan` (pure): one step, (base, ours, theirs) for every file, classified (`action`), with
//!   the one write set the step applies; `merge` (pure): the 3-way file merge, structured where
//!   the file has a structure, else by lines.
//! - `workspace`: the files as the next step sees them; `walk`: the levels an upgrade goes
//!   through, each planned against what the steps before it leave.
//! - `execute`: the dirty check, the writes (through `project::apply`) and the commits.
//! - `report` (pure): a run as the text preview or JSON.
//! - `update` (pure): whether this build's templates are newer than the project's.
//!
//! Every step is planned in memory first, so a dry run and a real run compute the same plans;
//! then the checks run; only then is anything written, manifest last.

mod action;
mod adoption;
mod base;
mod derive;
mod execute;
mod locate;
mod merge;
mod plan;
mod report;
mod update;
mod walk;
mod workspace;

use std::path::{Path, PathBuf};

pub(crate) use merge::has_conflict_markers;
pub(crate) use report::{Outcome, json, text};

use crate::answers::{AnswerArgs, AnswerKey, Choice as _, Compute};
use crate::exit::{Refused, Usage};
use crate::level::Level;
use crate::project::git;
use crate::project::manifest::{GENERATOR_VERSION, MANIFEST_PATH, Manifest};
use crate::templates::Templates;
use plan::Plan;

/// Which command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
    /// Up one or more levels.
    Upgrade,
    /// The same level, this build's templates.
    Update,
}

/// What the user asked for.
// Each flag is a switch the user sets, as on the command line.
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct Request<'a> {
    pub(crate) kind: Kind,
    /// The project, or any directory inside it.
    pub(crate) start: &'a Path,
    /// `--to`: the level to go up to (upgrades only).
    pub(crate) to: Option<Level>,
    pub(crate) dry_run: bool,
    /// `--check`: only say whether the project is behind (a higher level, or newer templates).
    pub(crate) check: bool,
    pub(crate) allow_dirty: bool,
    pub(crate) commit: bool,
    /// The answers' flags: only for a repository without a manifest, which is adopted.
    pub(crate) answers: AnswerArgs<'a>,
    /// The templates the project is rendered from.
    pub(crate) templates: &'a Templates<'a>,
}

/// What an upgrade did, or would do in a dry run.
pub(crate) struct Upgrade {
    pub(crate) kind: Kind,
    pub(crate) root: PathBuf,
    /// The manifest before the upgrade.
    pub(crate) recorded: Manifest,
    /// The level asked for; the plans stop short of it when a step leaves conflicts.
    pub(crate) target: Level,
    pub(crate) plans: Vec<Plan>,
    pub(crate) outcome: Outcome,
    pub(crate) committed: bool,
    /// The assessed level a repository without a manifest was adopted at.
    pub(crate) adopted_at: Option<Level>,
}

pub(crate) fn upgrade(request: &Request<'_>) -> anyhow::Result<Upgrade> {
    if !request.start.is_dir() {
        return Err(Usage::new(format!("`{}` is not a directory", request.start.display())).into());
    }
    let (root, recorded, adopted_at) = if let Some(root) = locate::project_root(request.start)? {
        if let Some(asked) = request
            .answers
            .flags
            .iter()
            .find(|flag| flag.key == AnswerKey::CiProvider)
        {
            let recorded = read_manifest(&root)?.answers.ci_provider;
            return Err(
                Usage::new(another_ci_provider(&recorded.to_string(), &asked.value)).into(),
            );
        }
        let compute = request
            .answers
            .flags
            .iter()
            .find(|flag| flag.key == AnswerKey::Compute);
        let other_flags = request
            .answers
            .flags
            .iter()
            .any(|flag| flag.key != AnswerKey::Compute);
        if other_flags || request.answers.answers_file.is_some() {
            return Err(Usage::new(format!(
                "`--set` and `--answers` apply only when adopting a repository without a manifest; this \
                 project's answers are recorded in `{MANIFEST_PATH}`"
            ))
            .into());
        }
        let mut manifest = read_manifest(&root)?;
        if let Some(asked) = compute {
            manifest.answers.compute = compute_for_upgrade(&manifest, &asked.value)
                .map_err(|message| anyhow::Error::from(Usage::new(message)))?;
        }
        (root, manifest, None)
    } else if request.kind == Kind::Update {
        return Err(Refused::new(format!(
            "`{}` is not in a project `mlops new` made (there is no `{MANIFEST_PATH}`): `mlops update` needs one; \
             `mlops upgrade` adopts a repository without one",
            request.start.display()
        ))
        .into());
    } else {
        let adoption = adoption::adopt(request.start, request.answers, request.templates)?;
        (
            adoption.root,
            adoption.manifest,
            Some(adoption.assessed_level),
        )
    };
    let (target, steps) = steps(request, &recorded)?;
    let mut upgrade = Upgrade {
        kind: request.kind,
        root,
        recorded,
        target,
        plans: Vec::new(),
        outcome: Outcome::UpToDate,
        committed: false,
        adopted_at,
    };
    if steps.is_empty() {
        return Ok(upgrade);
    }
    let root = &upgrade.root;
    let repository = git::repository_of(root);

    let mut workspace = workspace::Workspace::new(root)?;
    let plans = walk::plan_steps(
        request.templates,
        root,
        &upgrade.recorded,
        &steps,
        &mut workspace,
        repository.as_ref(),
    )?;
    workspace.check_writes(&plans)?;
    refuse_unresolved_conflicts(&plans)?;
    let has_conflicts = plans.last().is_some_and(Plan::has_conflicts);

    upgrade.outcome = match (request.check, request.dry_run, has_conflicts) {
        (true, _, _) => Outcome::Behind,
        (false, true, _) => Outcome::DryRun,
        (false, false, true) => Outcome::Conflicts,
        (false, false, false) => Outcome::Applied,
    };
    if !request.dry_run && !request.check {
        execute::check_clean(root, repository.as_ref(), &plans, request.allow_dirty)?;
        upgrade.committed = execute::write(root, repository.as_ref(), &plans, request.commit)?;
    }
    upgrade.plans = plans;
    Ok(upgrade)
}

/// The level a run goes to, and the steps that take it there: none when the project is not
/// behind (a check at or above its level, an update with the same templates).
fn steps(request: &Request<'_>, recorded: &Manifest) -> anyhow::Result<(Level, Vec<Level>)> {
    let highest = request.templates.highest_level();
    match request.kind {
        Kind::Upgrade if request.check => {
            let target = match request.to {
                Some(to) if to > highest => {
                    return Err(Usage::new(format!(
                        "level {to} has no template bundle in this build: the highest is {highest}"
                    ))
                    .into());
                }
                Some(to) => to,
                None => highest,
            };
            Ok((target, recorded.level.steps_to(target).collect()))
        }
        Kind::Upgrade => {
            let target = walk::target_level(recorded.level, request.to, highest)?;
            Ok((target, recorded.level.steps_to(target).collect()))
        }
        Kind::Update => {
            update::check_version(&recorded.generator_version, GENERATOR_VERSION)
                .map_err(Refused::new)?;
            let rendered = request
                .templates
                .render(recorded.level, &recorded.answers)?;
            let steps = if update::templates_changed(recorded, &rendered) {
                vec![recorded.level]
            } else {
                Vec::new()
            };
            Ok((recorded.level, steps))
        }
    }
}

/// Refuses plans that would touch a file still holding conflict markers: an earlier merge was
/// never resolved, and merging into it again would nest new markers inside the old ones.
fn refuse_unresolved_conflicts(plans: &[Plan]) -> anyhow::Result<()> {
    let marked: Vec<String> = plans
        .iter()
        .flat_map(|plan| &plan.changes)
        .filter(|change| change.write.is_some() || change.side_file.is_some())
        .filter(|change| change.before.as_deref().is_some_and(has_conflict_markers))
        .map(|change| format!("`{}`", change.location()))
        .collect();
    if marked.is_empty() {
        return Ok(());
    }
    Err(Refused::new(format!(
        "{} still {} conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`) from an earlier merge: resolve them, \
         commit, then run this again",
        marked.join(", "),
        if marked.len() == 1 { "holds" } else { "hold" }
    ))
    .into())
}

/// Why an upgrade does not change the CI provider, and what to do instead.
fn another_ci_provider(recorded: &str, asked: &str) -> String {
    if recorded == asked {
        return format!(
            "this project's CI provider is `{recorded}` already (recorded in `{MANIFEST_PATH}`): \
             run `mlops upgrade` without `--set`"
        );
    }
    format!(
        "this project's CI provider is `{recorded}`, recorded in `{MANIFEST_PATH}`, and upgrades \
         keep it: mlops does not move a project to another CI provider. For the pipelines \
         `{asked}` would give it, generate a project beside it with `mlops new <dir> --level <N> \
         --set ci_provider={asked}` (N: this project's level) and take them from there; upgrades \
         go on changing the `{recorded}` ones"
    )
}

/// The compute engine a project upgrades with when `--set compute=...` is given: it may be chosen
/// while the project is below level 2, where it means nothing yet; from level 2 it is the
/// recorded one, and asking for another is refused with what to do instead.
fn compute_for_upgrade(recorded: &Manifest, asked: &str) -> Result<Compute, String> {
    let Some(engine) = Compute::parse(asked) else {
        return Err(format!(
            "`{asked}` is not a compute engine: choose one of {}",
            Compute::listed()
        ));
    };
    let current = recorded.answers.compute;
    if recorded.level < Level::COMPUTE_FROM {
        return Ok(engine);
    }
    if engine == current {
        return Err(format!(
            "this project's compute engine is `{current}` already (recorded in `{MANIFEST_PATH}`): \
             run `mlops upgrade` without `--set`"
        ));
    }
    Err(format!(
        "this project's compute engine is `{current}`, recorded in `{MANIFEST_PATH}` at level \
         {level}, and upgrades keep it: mlops does not move a project from one engine to another. \
         For the files `compute={engine}` would give it, generate a project beside it with \
         `mlops new <dir> --level {level} --set compute={engine}` and take them from there",
        level = recorded.level
    ))
}

fn read_manifest(root: &Path) -> anyhow::Result<Manifest> {
    match Manifest::read(root) {
        Ok(Some(manifest)) => Ok(manifest),
        Ok(None) => Err(anyhow::anyhow!(
            "`{}` disappeared while mlops was reading it",
            root.join(MANIFEST_PATH).display()
        )),
        Err(error) => Err(Refused::new(error).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::example;
    use crate::project::Tree;

    fn recorded(level: u8, compute: Compute) -> Manifest {
        let mut answers = example();
        answers.compute = compute;
        let level = Level::new(level).unwrap();
        Manifest::for_tree(level, &answers, &Tree::new(), Vec::new())
    }

    #[test]
    fn the_compute_engine_is_chosen_below_level_2_and_kept_from_it() {
        assert_eq!(
            compute_for_upgrade(&recorded(1, Compute::Local), "ray"),
            Ok(Compute::Ray)
        );
        let refused = compute_for_upgrade(&recorded(2, Compute::Local), "ray").unwrap_err();
        assert!(
            refused.starts_with(
                "this project's compute engine is `local`, recorded in `.mlops/manifest.toml` at level 2"
            ),
            "{refused}"
        );
        assert!(
            refused.contains("`mlops new <dir> --level 2 --set compute=ray`"),
            "{refused}"
        );
        let same = compute_for_upgrade(&recorded(3, Compute::Ray), "ray").unwrap_err();
        assert!(
            same.contains("run `mlops upgrade` without `--set`"),
            "{same}"
        );
        let unknown = compute_for_upgrade(&recorded(1, Compute::Local), "spark").unwrap_err();
        assert_eq!(
            unknown,
            "`spark` is not a compute engine: choose one of local, ray"
        );
    }
}
