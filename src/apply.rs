//! The only module that writes project files.
//!
//! A new project is written whole into a hidden sibling directory, committed there if asked, and
//! renamed into place: the target either appears complete or not at all. Files of an existing
//! project are replaced through a temporary file in the same directory and a rename, so a reader
//! never sees half a file.

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

/// Replaces `root/path` atomically: the content goes to a temporary file beside it, which is then
/// renamed over the old one.
pub fn replace_file(
    root: &Path,
    path: &RelPath,
    content: &[u8],
    executable: bool,
) -> anyhow::Result<()> {
    let destination = root.join(path.as_str());
    let directory = destination
        .parent()
        .expect("a project file has a directory");
    fs::create_dir_all(directory)
        .with_context(|| format!("could not create `{}`", directory.display()))?;
    let file_name = destination
        .file_name()
        .expect("a project file has a name")
        .to_string_lossy();
    let temporary = directory.join(format!(".{file_name}.mlops-tmp-{}", std::process::id()));
    write_file(&temporary, content, executable)?;
    fs::rename(&temporary, &destination).map_err(|error| {
        let _ = fs::remove_file(&temporary);
        anyhow::Error::new(error).context(format!("could not replace `{}`", destination.display()))
    })
}
