//! Carrying out planned steps: the check that nothing uncommitted would be overwritten, then the
//! writes through `apply`, and with `--commit` one commit per step that has no conflicts.

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
        return Ok(false);
    }
    let repository = repository.context("`--commit` needs a git repository")?;
    let mut committed = false;
    for plan in plans {
        let writes = plan.writes();
        apply::write_transaction(root, &writes, &manifest_path())?;
        if plan.has_conflicts() {
            break;
        }
        let message = format!("Upgrade to MLOps level {}", plan.to);
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
