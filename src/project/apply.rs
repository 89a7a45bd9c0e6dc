//! The only module that writes project files.
//!
//! A new project is written whole into a hidden sibling directory, committed there if asked, and
//! renamed into place: the target either appears complete or not at all. Files of an existing
//! project are replaced through a temporary file in the same directory and a rename, so a reader
//! never sees half a file.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::confined::{ProjectDir, Staged};
use super::target::Target;
use super::{RelPath, Tree};
use crate::exit::Refused;

/// A directory that is removed when dropped unless kept.
struct Staging {
    path: PathBuf,
    keep: bool,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Writes `tree` as the new project at `target`. `before_rename` runs in the staged directory,
/// with every file written (this is where the git repository is created).
///
/// A new directory is staged beside the target and renamed into place. An existing empty
/// directory (`mlops new .`) is kept, so a shell inside it stays there: the project is staged in
/// a hidden directory inside it and each top-level entry is moved up, never over anything that
/// appeared meanwhile; if a move fails, the ones already moved are moved back.
pub(crate) fn write_new_project(
    target: &Target,
    tree: &Tree,
    before_rename: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let name = target.name().unwrap_or_else(|| "project".to_owned());
    let staging_parent = if target.exists {
        target.path.as_path()
    } else {
        target.parent()
    };
    let staging = create_staging_dir(staging_parent, &name)?;
    let staged_project = ProjectDir::open(&staging.path)?;
    for (path, entry) in tree {
        staged_project
            .stage(path, &entry.content, entry.executable)?
            .commit()?;
    }
    before_rename(&staging.path)?;

    if target.exists {
        move_entries_up(&staging.path, &target.path)?;
        return Ok(());
    }
    fs::rename(&staging.path, &target.path).with_context(|| {
        format!(
            "could not move the generated project into `{}`",
            target.given.display()
        )
    })?;
    let mut staging = staging;
    staging.keep = true;
    Ok(())
}

/// Moves every entry of `staging` into `target`, its parent; undoes the moves if one fails.
fn move_entries_up(staging: &Path, target: &Path) -> anyhow::Result<()> {
    let entries: Vec<_> = fs::read_dir(staging)
        .with_context(|| format!("could not list `{}`", staging.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("could not list `{}`", staging.display()))?;
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    for entry in entries {
        let from = entry.path();
        let to = target.join(entry.file_name());
        if let Err(error) = rename_no_replace(&from, &to) {
            for (from, to) in moved.iter().rev() {
                let _ = fs::rename(to, from);
            }
            return Err(error).with_context(|| {
                format!(
                    "could not move `{}` into `{}`; nothing was left there",
                    entry.file_name().to_string_lossy(),
                    target.display()
                )
            });
        }
        moved.push((from, to));
    }
    Ok(())
}

/// Renames `from` to `to`, failing if `to` exists rather than replacing it.
fn rename_no_replace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            // Filesystems without the flag: check, then rename, below.
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {}
            Err(error) => return Err(error.into()),
        }
    }
    if fs::symlink_metadata(to).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("`{}` appeared meanwhile", to.display()),
        ));
    }
    fs::rename(from, to)
}

fn create_staging_dir(parent: &Path, name: &str) -> anyhow::Result<Staging> {
    // Created with `create_dir`, not a temp-file crate, so that it gets the user's usual
    // permissions (0777 less the umask) instead of 0700 once it is renamed into place.
    let pid = std::process::id();
    for attempt in 0..100 {
        let path = parent.join(format!(".{name}.mlops-new-{pid}-{attempt}"));
        match fs::create_dir(&path) {
            Ok(()) => return Ok(Staging { path, keep: false }),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return Err(error).with_context(|| {
                    format!(
                        "cannot write in `{}`: choose a directory you can write to",
                        parent.display()
                    )
                });
            }
        }
    }
    anyhow::bail!(
        "could not find a free temporary name in `{}`",
        parent.display()
    )
}

/// One change to a file of an existing project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileWrite {
    Write { content: Vec<u8>, executable: bool },
    Remove,
}

/// Applies `writes` to the project at `root` as one transaction: every new content is first
/// written to a temporary file beside its target (a failure there changes nothing), then each is
/// renamed into place, `last` after all the others. If a rename fails part-way, the error names
/// the files already replaced and how to get them back. Every write and delete stays inside the
/// project (see `confined`).
pub(crate) fn write_transaction(
    root: &Path,
    writes: &BTreeMap<RelPath, FileWrite>,
    last: &RelPath,
) -> anyhow::Result<()> {
    let project = ProjectDir::open(root)?;
    let mut ordered: Vec<(&RelPath, &FileWrite)> =
        writes.iter().filter(|(path, _)| *path != last).collect();
    ordered.extend(writes.get_key_value(last));

    // Every path is checked before anything is written, so a refusal changes nothing.
    for (path, _) in &ordered {
        project.check(path).map_err(Refused::new)?;
    }
    let mut staged: Vec<Staged> = Vec::new();
    for (path, write) in &ordered {
        if let FileWrite::Write {
            content,
            executable,
        } = write
        {
            match project.stage(path, content, *executable) {
                Ok(file) => staged.push(file),
                Err(error) => {
                    for file in staged {
                        file.discard();
                    }
                    return Err(error.context("nothing was changed"));
                }
            }
        }
    }

    let mut done: Vec<&RelPath> = Vec::new();
    let mut pending = staged.into_iter();
    for (path, write) in &ordered {
        let result = match write {
            FileWrite::Write { .. } => {
                let file = pending.next().expect("one staged file per write");
                let result = file.commit();
                if result.is_err() {
                    file.discard();
                }
                result
            }
            FileWrite::Remove => project.remove(path),
        };
        if let Err(error) = result {
            for file in pending {
                file.discard();
            }
            let replaced: Vec<String> = done.iter().map(|path| format!("`{path}`")).collect();
            let how = if replaced.is_empty() {
                "nothing was changed".to_owned()
            } else {
                format!(
                    "already written: {}; restore them with `git checkout -- <path>` (or delete the ones git does not know)",
                    replaced.join(", ")
                )
            };
            return Err(anyhow::anyhow!("{error:#}; {how}"));
        }
        done.push(path);
    }
    Ok(())
}
