//! `mlops upgrade`: take a project up one level at a time, merging each level's template changes
//! into the user's files.
//!
//! - `locate`: the project an upgrade starts from; `adoption` (with `derive`, pure): a repository
//!   `mlops new` did not make, given the manifest it would have had.
//! - `base` (pure): recovering what the generator wrote for the recorded level.
//! - `plan` (pure): one step, (base, ours, theirs) for every file, classified, with the one
//!   write set the step applies; `merge` (pure): the 3-way file merge.
//! - `workspace`: the files as the next step sees them; `walk`: the levels an upgrade goes
//!   through, each planned against what the steps before it leave.
//! - `execute`: the dirty check, the writes (through `project::apply`) and the commits.
//! - `report` (pure): a run as the text preview or JSON.
//!
//! Every step is planned in memory first, so a dry run and a real run compute the same plans;
//! then the checks run; only then is anything written, manifest last.

mod adoption;
mod base;
mod derive;
mod execute;
mod locate;
mod merge;
mod plan;
mod report;
mod walk;
mod workspace;

use std::path::{Path, PathBuf};

pub(crate) use report::{Outcome, json, text};

use crate::answers::AnswerArgs;
use crate::exit::Usage;
use crate::level::Level;
use crate::project::git;
use crate::project::manifest::{MANIFEST_PATH, Manifest};
use crate::templates::Templates;
use plan::Plan;

/// What the user asked for.
pub(crate) struct Request<'a> {
    /// The project, or any directory inside it.
    pub(crate) start: &'a Path,
    /// `--to`: the level to go up to.
    pub(crate) to: Option<Level>,
    pub(crate) dry_run: bool,
    pub(crate) allow_dirty: bool,
    pub(crate) commit: bool,
    /// The answers' flags: only for a repository without a manifest, which is adopted.
    pub(crate) answers: AnswerArgs<'a>,
    /// The templates the project is rendered from.
    pub(crate) templates: &'a Templates<'a>,
}

/// What an upgrade did, or would do in a dry run.
pub(crate) struct Upgrade {
    pub(crate) root: PathBuf,
    /// The manifest before the upgrade.
    pub(crate) recorded: Manifest,
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
        if !request.answers.flags.is_empty() || request.answers.answers_file.is_some() {
            return Err(Usage::new(format!(
                "`--set` and `--answers` apply only when adopting a repository without a manifest; this \
                 project's answers are recorded in `{MANIFEST_PATH}`"
            ))
            .into());
        }
        let manifest = read_manifest(&root)?;
        (root, manifest, None)
    } else {
        let adoption = adoption::adopt(request.start, request.answers, request.templates)?;
        (
            adoption.root,
            adoption.manifest,
            Some(adoption.assessed_level),
        )
    };
    let target = walk::target_level(
        recorded.level,
        request.to,
        request.templates.highest_level(),
    )?;
    let repository = git::repository_of(&root);

    let mut workspace = workspace::Workspace::new(&root)?;
    let plans = walk::plan_steps(
        request.templates,
        &root,
        &recorded,
        target,
        &mut workspace,
        repository.as_ref(),
    )?;
    workspace.check_writes(&plans)?;
    let has_conflicts = plans.last().is_some_and(Plan::has_conflicts);

    let outcome = match (request.dry_run, has_conflicts) {
        (true, _) => Outcome::DryRun,
        (false, true) => Outcome::Conflicts,
        (false, false) => Outcome::Applied,
    };
    let mut committed = false;
    if !request.dry_run {
        execute::check_clean(&root, repository.as_ref(), &plans, request.allow_dirty)?;
        committed = execute::write(&root, repository.as_ref(), &plans, request.commit)?;
    }
    Ok(Upgrade {
        root,
        recorded,
        plans,
        outcome,
        committed,
        adopted_at,
    })
}

fn read_manifest(root: &Path) -> anyhow::Result<Manifest> {
    match Manifest::read(root) {
        Ok(Some(manifest)) => Ok(manifest),
        Ok(None) => Err(anyhow::anyhow!(
            "`{}` disappeared while mlops was reading it",
            root.join(MANIFEST_PATH).display()
        )),
        Err(error) => Err(crate::exit::Refused::new(error).into()),
    }
}
