//! Carrying out planned steps: the check that nothing uncommitted would be overwritten, then the
//! writes through `apply`, with `--commit` one commit per step that has no conflicts, and the
//! conflicts of the last step recorded in git's index as unmerged, as `git merge` leaves them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context as _;

use super::plan::{Plan, manifest_path};
use crate::exit::Refused;
use crate::project::RelPath;
use crate::project::{apply, git};

/// Refuses to write over changes git does not have, unless told to.
pub(super) fn check_clean(
    root: &Path,
    repository: Option<&git2::Repository>,
    plans: &[Plan],
    allow_dirty: bool,
) -> anyhow::Result<()> {
    if allow_dirty {
        return Ok(());
    }
    let Some(repository) = repository else {
        return Err(Refused::new(format!(
            "`{}` is not in a git repository, so nothing could restore your files if the merge is not what you \
             want: commit the project to git first, or pass `--allow-dirty`",
            root.display()
        ))
        .into());
    };
    let written: BTreeSet<RelPath> = plans
        .iter()
        .flat_map(|plan| plan.writes().into_keys())
        .collect();
    let dirty = git::uncommitted(repository, root, written.iter().map(RelPath::as_str))?;
    if dirty.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = dirty.iter().map(|path| format!("`{path}`")).collect();
    Err(Refused::new(format!(
        "uncommitted changes to files this upgrade would write: {}: commit or stash them first (the dry run, \
         `mlops upgrade --dry-run`, shows the plan without writing), or pass `--allow-dirty`",
        listed.join(", ")
    ))
    .into())
}

/// Writes the plans; returns whether they were committed. Without `--commit` the final state is
/// written as one transaction; with it, each step is written and committed in turn, except a
/// step with conflicts, which is left for the user to resolve.
pub(super) fn write(
    root: &Path,
    repository: Option<&git2::Repository>,
    plans: &[Plan],
    commit: bool,
) -> anyhow::Result<bool> {
    if !commit {
        let mut all = BTreeMap::new();
        for plan in plans {
            all.extend(plan.writes());
        }
        apply::write_transaction(root, &all, &manifest_path())?;
        if let (Some(repository), Some(last)) = (repository, plans.last()) {
            record_conflicts(root, repository, last)?;
        }
        return Ok(false);
    }
    let repository = repository.context("`--commit` needs a git repository")?;
    let mut committed = false;
    for plan in plans {
        let writes = plan.writes();
        apply::write_transaction(root, &writes, &manifest_path())?;
        if plan.has_conflicts() {
            record_conflicts(root, repository, plan)?;
            break;
        }
        let message = if plan.is_update() {
            format!(
                "Update the MLOps level {} templates to mlops-scaffold {}",
                plan.to,
                crate::project::manifest::GENERATOR_VERSION
            )
        } else {
            format!("Upgrade to MLOps level {}", plan.to)
        };
        git::commit_paths(
            repository,
            root,
            writes.keys().map(RelPath::as_str),
            &message,
        )
        .with_context(|| format!("level {} was written but not committed", plan.to))?;
        committed = true;
    }
    Ok(committed)
}

/// Records the conflicts of `plan` as unmerged entries of git's index.
fn record_conflicts(root: &Path, repository: &git2::Repository, plan: &Plan) -> anyhow::Result<()> {
    let stages: Vec<git::ConflictStages<'_>> = plan
        .changes
        .iter()
        .filter(|change| change.action.is_conflict())
        .filter_map(|change| {
            let sides = change.conflict_sides.as_ref()?;
            Some(git::ConflictStages {
                path: change.location().as_str(),
                base: sides.base.as_deref(),
                ours: change.before.as_deref().unwrap_or_default(),
                theirs: &sides.theirs,
                executable: change.executable,
            })
        })
        .collect();
    git::record_conflicts(repository, root, &stages)
        .context("the upgrade was written, but its conflicts could not be recorded in git's index")
}
