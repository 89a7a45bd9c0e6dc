//! The multi-level walk: which levels an upgrade goes through, and each step planned against the
//! workspace the steps before it leave. A step that leaves conflicts is the last one planned:
//! later levels wait until its conflicts are resolved. Before the first step, generated files the
//! team moved are found (git's rename detection) and recorded in the manifest the steps start
//! from, so every step reads and writes them where they live.

use std::collections::{BTreeMap, BTreeSet};

use super::base;
use super::plan::{self, Plan, StepInput};
use super::workspace::Workspace;
use crate::exit::Refused;
use crate::level::Level;
use crate::project::RelPath;
use crate::project::git;
use crate::project::manifest::Manifest;
use crate::templates::Templates;

/// The level an upgrade from `current` goes to, with `--to` as `requested`; `highest` is the
/// highest level this build has a bundle for.
pub(super) fn target_level(
    current: Level,
    requested: Option<Level>,
    highest: Level,
) -> anyhow::Result<Level> {
    if current >= highest && requested.is_none_or(|to| to >= current) {
        return Err(Refused::new(format!(
            "the project is already at level {current}, the highest level: there is nothing to upgrade to"
        ))
        .into());
    }
    match requested {
        None => Ok(current.next().expect("below the highest level")),
        Some(to) if to < current => Err(Refused::new(format!(
            "the project is at level {current}; `--to {to}` would go down a level, which upgrades never do"
        ))
        .into()),
        Some(to) if to == current => Err(Refused::new(format!(
            "the project is already at level {current}: pass `--to {}` or higher",
            current.number() + 1
        ))
        .into()),
        Some(to) if to > highest => Err(crate::exit::Usage::new(format!(
            "level {to} has no template bundle in this build: the highest is {highest}"
        ))
        .into()),
        Some(to) => Ok(to),
    }
}

/// Plans each of `steps` (the levels to go to in turn; the recorded level itself for an update),
/// stopping after the first step that leaves conflicts.
pub(super) fn plan_steps(
    templates: &Templates<'_>,
    root: &std::path::Path,
    recorded: &Manifest,
    steps: &[Level],
    workspace: &mut Workspace,
    repository: Option<&git2::Repository>,
) -> anyhow::Result<Vec<Plan>> {
    let rendered_base = templates.render(recorded.level, &recorded.answers).ok();
    let stored = |path: &RelPath| workspace.stored_base(path);
    // Searched only if rendering and the store do not have a file's base.
    let generated = std::cell::OnceCell::new();
    let from_git = |path: &RelPath, blob: &str| {
        let repository = repository?;
        let generated = generated.get_or_init(|| git::generated_in_history(repository, root));
        if !generated.contains(&(path.clone(), blob.to_owned())) {
            return None;
        }
        git::find_blob(repository, blob)
    };
    let mut bases = base::recover(recorded, rendered_base.as_ref(), &stored, &from_git);

    let mut manifest = recorded.clone();
    let mut plans = Vec::new();
    for &to in steps {
        let theirs = templates.render(to, &manifest.answers)?;
        if plans.is_empty()
            && let Some(repository) = repository
        {
            follow_moves(root, repository, &mut manifest, &theirs, workspace)?;
        }
        let paths: BTreeSet<&RelPath> = manifest.files.keys().chain(theirs.paths()).collect();
        let mut ours = BTreeMap::new();
        for path in paths {
            let location = manifest
                .files
                .get(path)
                .map_or(path, |record| record.location(path));
            if let Some(file) = workspace.read(location)? {
                ours.insert(path.clone(), file);
            }
        }
        let stored_bases: BTreeSet<RelPath> = manifest
            .files
            .keys()
            .chain(theirs.paths())
            .filter(|path| workspace.stored_base(path).is_some())
            .cloned()
            .collect();
        let plan = plan::plan(&StepInput {
            from: manifest.level,
            to,
            manifest: &manifest,
            bases: &bases,
            ours: &ours,
            theirs: &theirs,
            stored_bases: &stored_bases,
        });
        workspace.apply(&plan);
        manifest = plan.manifest.clone();
        // The next step's base is exactly what this step generated.
        bases = base::rendered_bases(&theirs);
        let stop = plan.has_conflicts();
        plans.push(plan);
        if stop {
            break;
        }
    }
    Ok(plans)
}

/// Records in `manifest` where generated files the team moved now live, so that the plan merges
/// into them there: each generated file missing from its place is looked for with git's rename
/// detection. A file found at a path the templates generate, or that another file lives at, is
/// not taken as moved.
fn follow_moves(
    root: &std::path::Path,
    repository: &git2::Repository,
    manifest: &mut Manifest,
    theirs: &crate::project::Tree,
    workspace: &Workspace,
) -> anyhow::Result<()> {
    let mut missing = Vec::new();
    for (path, record) in &manifest.files {
        let location = record.location(path);
        // Only what is gone is looked for; a look at the directory entry is enough to know.
        let gone = std::fs::symlink_metadata(root.join(location.as_str()))
            .is_err_and(|error| error.kind() == std::io::ErrorKind::NotFound);
        if gone && workspace.read(location)?.is_none() {
            missing.push((location.clone(), record.blob.clone()));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let moved = git::moved_files(repository, root, &missing);
    let taken: BTreeSet<RelPath> = manifest
        .files
        .iter()
        .flat_map(|(path, record)| [path.clone(), record.location(path).clone()])
        .chain(theirs.paths().cloned())
        .collect();
    for (path, record) in &mut manifest.files {
        let Some(to) = moved.get(record.location(path)) else {
            continue;
        };
        if to == path {
            record.moved_to = None;
        } else if !taken.contains(to) {
            record.moved_to = Some(to.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(number: u8) -> Level {
        Level::new(number).unwrap()
    }

    fn check(current: u8, requested: Option<u8>, expected: Result<u8, &str>) {
        let actual = target_level(level(current), requested.map(level), Level::MAX)
            .map(Level::number)
            .map_err(|error| error.to_string());
        assert_eq!(
            actual,
            expected.map_err(str::to_owned),
            "{current} -> {requested:?}"
        );
    }

    #[test]
    fn targets() {
        check(1, None, Ok(2));
        check(1, Some(4), Ok(4));
        check(
            4,
            None,
            Err(
                "the project is already at level 4, the highest level: there is nothing to upgrade to",
            ),
        );
        check(
            3,
            Some(2),
            Err(
                "the project is at level 3; `--to 2` would go down a level, which upgrades never do",
            ),
        );
        check(
            2,
            Some(2),
            Err("the project is already at level 2: pass `--to 3` or higher"),
        );
    }
}
