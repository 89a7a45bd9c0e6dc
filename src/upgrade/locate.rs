//! Finding the project an upgrade starts from: the nearest directory at or above the given path
//! that holds a manifest.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::exit::Refused;
use crate::project::git;
use crate::project::manifest::MANIFEST_PATH;

/// The nearest directory at or above `start` that holds a manifest, or `None` if there is none
/// and the repository never had one (it is then adopted). A manifest deleted from a project that
/// git knows had one is refused instead, with the way back.
pub(super) fn project_root(start: &Path) -> anyhow::Result<Option<PathBuf>> {
    let absolute = start
        .canonicalize()
        .with_context(|| format!("could not resolve `{}`", start.display()))?;
    for directory in absolute.ancestors() {
        // Anything at the manifest's path marks the project, even a broken one: reading it then
        // says what is wrong, instead of adopting the project as if it had none.
        if std::fs::symlink_metadata(directory.join(MANIFEST_PATH)).is_ok() {
            return Ok(Some(directory.to_path_buf()));
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
