//! Finding the project an upgrade starts from: the nearest directory at or above the given path
//! that holds a manifest.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::exit::Refused;
use crate::project::git;
use crate::project::manifest::MANIFEST_PATH;

/// The nearest directory at or above `start`, within its git work tree, that holds a manifest,
/// or `None` if there is none and the repository never had one (it is then adopted). A manifest
/// deleted from a project that git knows had one is refused instead, with the way back.
///
/// The search never leaves the work tree: an inner repository is a project of its own, not a
/// part of the one around it. Outside any repository only `start` itself is the project; a
/// manifest further up is named, not used, since nothing would restore the files it receives.
pub(super) fn project_root(start: &Path) -> anyhow::Result<Option<PathBuf>> {
    let absolute = start
        .canonicalize()
        .with_context(|| format!("could not resolve `{}`", start.display()))?;
    let work_tree = git::work_tree_of(&absolute).and_then(|tree| tree.canonicalize().ok());
    // Anything at the manifest's path marks the project, even a broken one: reading it then says
    // what is wrong, instead of adopting the project as if it had none.
    let has_manifest =
        |directory: &Path| std::fs::symlink_metadata(directory.join(MANIFEST_PATH)).is_ok();
    for directory in absolute.ancestors() {
        if has_manifest(directory) {
            if work_tree.is_none() && directory != absolute {
                return Err(Refused::new(format!(
                    "`{}` has a manifest, but `{}` is not in a git repository, so mlops does not look for the \
                     project above it: run `mlops upgrade {}` if that is the project",
                    directory.display(),
                    start.display(),
                    directory.display()
                ))
                .into());
            }
            return Ok(Some(directory.to_path_buf()));
        }
        if work_tree.as_deref().is_some_and(|tree| directory == tree) {
            break;
        }
    }
    if let Some(deleted) =
        git::repository_of(&absolute).and_then(|repository| deleted_manifest(&repository))
    {
        return Err(Refused::new(format!(
            "`{}` is gone from the working tree but committed in git: restore it with `git checkout -- {}`, \
             then run `mlops upgrade` again",
            deleted.display(),
            deleted.display()
        ))
        .into());
    }
    Ok(None)
}

/// A manifest that HEAD has and the working tree lacks, as a path relative to the work tree.
fn deleted_manifest(repository: &git2::Repository) -> Option<PathBuf> {
    let workdir = repository.workdir()?;
    let tree = repository.head().ok()?.peel_to_tree().ok()?;
    let mut found = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |directory, entry| {
        let path = Path::new(directory).join(entry.name().unwrap_or_default());
        if path.ends_with(MANIFEST_PATH) && !workdir.join(&path).exists() {
            found = Some(path);
            return git2::TreeWalkResult::Abort;
        }
        git2::TreeWalkResult::Ok
    })
    .ok();
    found
}
