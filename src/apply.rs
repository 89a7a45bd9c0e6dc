//! The only module that writes project files.
//!
//! A new project is written whole into a hidden sibling directory, committed there if asked, and
//! renamed into place: the target either appears complete or not at all. Files of an existing
//! project are replaced through a temporary file in the same directory and a rename, so a reader
//! never sees half a file.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::tree::{RelPath, Tree};

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

/// Writes `tree` as a new directory `target`, which must not exist or be an empty directory.
/// `before_rename` runs in the staged directory, with every file written (this is where the git
/// repository is created).
pub fn write_new_project(
    target: &Path,
    tree: &Tree,
    before_rename: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let parent = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map_or_else(|| "project".into(), |name| name.to_string_lossy());
    let staging = create_staging_dir(&parent, &name)?;

    for (path, entry) in tree {
        let destination = staging.path.join(path.as_str());
        write_file(&destination, &entry.content, entry.executable)?;
    }
    before_rename(&staging.path)?;

    if target.is_dir() {
        // An empty directory is replaced; rename(2) refuses a non-empty one, so a directory that
        // was filled since the check is still not overwritten.
        fs::remove_dir(target).with_context(|| {
            format!(
                "could not replace the empty directory `{}`",
                target.display()
            )
        })?;
    }
    fs::rename(&staging.path, target).with_context(|| {
        format!(
            "could not move the generated project into `{}`",
            target.display()
        )
    })?;
    let mut staging = staging;
    staging.keep = true;
    Ok(())
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

/// Writes one file, creating its directories, with the executable bit if asked.
pub fn write_file(destination: &Path, content: &[u8], executable: bool) -> anyhow::Result<()> {
    if let Some(directory) = destination.parent() {
        fs::create_dir_all(directory)
            .with_context(|| format!("could not create `{}`", directory.display()))?;
    }
    let mut file = fs::File::create(destination)
        .with_context(|| format!("could not create `{}`", destination.display()))?;
    file.write_all(content)
        .with_context(|| format!("could not write `{}`", destination.display()))?;
    if executable {
        set_executable(&file, destination)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_executable(file: &fs::File, destination: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut permissions = file
        .metadata()
        .with_context(|| format!("could not stat `{}`", destination.display()))?
        .permissions();
    // Executable wherever readable, as `chmod +x` does under the usual umask.
    let mode = permissions.mode();
    permissions.set_mode(mode | ((mode & 0o444) >> 2));
    file.set_permissions(permissions)
        .with_context(|| format!("could not make `{}` executable", destination.display()))
}

#[cfg(not(unix))]
fn set_executable(_: &fs::File, _: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// One change to a file of an existing project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileWrite {
    Write { content: Vec<u8>, executable: bool },
    Remove,
}

/// Applies `writes` to the project at `root` as one transaction: every new content is first
/// written to a temporary file beside its target (a failure there changes nothing), then each is
/// renamed into place, `last` after all the others. If a rename fails part-way, the error names
/// the files already replaced and how to get them back.
pub fn write_transaction(
    root: &Path,
    writes: &BTreeMap<RelPath, FileWrite>,
    last: &RelPath,
) -> anyhow::Result<()> {
    let mut ordered: Vec<(&RelPath, &FileWrite)> =
        writes.iter().filter(|(path, _)| *path != last).collect();
    ordered.extend(writes.get_key_value(last));

    let mut staged: Vec<(PathBuf, PathBuf, &RelPath)> = Vec::new();
    let cleanup = |staged: &[(PathBuf, PathBuf, &RelPath)]| {
        for (temporary, _, _) in staged {
            let _ = fs::remove_file(temporary);
        }
    };
    for (path, write) in &ordered {
        if let FileWrite::Write {
            content,
            executable,
        } = write
        {
            let destination = root.join(path.as_str());
            let temporary = temporary_beside(&destination);
            let written = destination
                .parent()
                .map_or(Ok(()), |directory| {
                    fs::create_dir_all(directory)
                        .with_context(|| format!("could not create `{}`", directory.display()))
                })
                .and_then(|()| write_file(&temporary, content, *executable));
            if let Err(error) = written {
                cleanup(&staged);
                let _ = fs::remove_file(&temporary);
                return Err(anyhow::anyhow!("{error:#}; nothing was changed"));
            }
            staged.push((temporary, destination, path));
        }
    }

    let mut done: Vec<&RelPath> = Vec::new();
    let mut pending = staged.iter();
    for (path, write) in &ordered {
        let result = match write {
            FileWrite::Write { .. } => {
                let (temporary, destination, _) =
                    pending.next().expect("one staged file per write");
                fs::rename(temporary, destination)
                    .with_context(|| format!("could not replace `{path}`"))
            }
            FileWrite::Remove => match fs::remove_file(root.join(path.as_str())) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    Err(error).with_context(|| format!("could not remove `{path}`"))
                }
                _ => Ok(()),
            },
        };
        if let Err(error) = result {
            let rest: Vec<_> = pending.cloned().collect();
            cleanup(&rest);
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

fn temporary_beside(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map_or_else(|| "file".into(), |name| name.to_string_lossy());
    destination.with_file_name(format!(".{name}.mlops-tmp-{}", std::process::id()))
}
