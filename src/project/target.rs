//! Where `mlops new` may write: a path that does not exist yet, or an empty directory, in a
//! parent that exists. Checked before anything is rendered or written.

use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;

use crate::exit::{Refused, Usage};

/// A checked target of `mlops new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The path as the user gave it, for messages.
    pub(crate) given: PathBuf,
    /// Where the project goes: the given path, or, for `.` and paths ending in `..`, the
    /// directory it names.
    pub(crate) path: PathBuf,
    /// Whether `path` is an existing empty directory (filled in place) rather than a new one.
    pub(crate) exists: bool,
}

impl Target {
    /// The directory's name: the default project name.
    pub(crate) fn name(&self) -> Option<String> {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
    }

    /// The directory the project is created in.
    pub(crate) fn parent(&self) -> &Path {
        parent_of(&self.path)
    }
}

/// Checks that `given` can receive a new project.
pub(crate) fn check(given: &Path) -> anyhow::Result<Target> {
    check_components(given)?;
    let shown = given.display();
    let path = if given.file_name().is_none() {
        // `.`, `..` or `/`: the directory it names, whose own name is the project's.
        given
            .canonicalize()
            .with_context(|| format!("could not resolve the target `{shown}`"))?
    } else {
        given.to_path_buf()
    };
    if path.file_name().is_none() {
        return Err(Usage::new(format!(
            "target path `{shown}` does not name a directory a project can go in: give a path such as `./demo`"
        ))
        .into());
    }
    let exists = match std::fs::symlink_metadata(&path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => false,
        Err(error) => {
            return Err(error).with_context(|| format!("could not inspect the target `{shown}`"));
        }
        Ok(metadata) if metadata.is_dir() => {
            let mut entries =
                std::fs::read_dir(&path).with_context(|| format!("could not list `{shown}`"))?;
            if entries.next().is_some() {
                return Err(Refused::new(format!(
                    "target `{shown}` already exists and is not empty: choose a new directory, or run \
                     `mlops upgrade {shown}` to take an existing project to its next level"
                ))
                .into());
            }
            true
        }
        Ok(_) => {
            return Err(Refused::new(format!(
                "target `{shown}` exists and is not a directory: choose another path"
            ))
            .into());
        }
    };
    let parent = parent_of(&path);
    if !parent.is_dir() {
        return Err(Usage::new(format!(
            "the parent directory `{}` does not exist: create it first",
            parent.display()
        ))
        .into());
    }
    Ok(Target {
        given: given.to_path_buf(),
        path,
        exists,
    })
}

/// A path such as `my/../x` walks into a directory and back out: refuse it rather than guess
/// which directory was meant.
fn check_components(target: &Path) -> anyhow::Result<()> {
    let mut seen_normal = false;
    for component in target.components() {
        match component {
            Component::Normal(_) => seen_normal = true,
            Component::ParentDir if seen_normal => {
                return Err(Usage::new(format!(
                    "target path `{}` goes into a directory and back out with `..`: give the path without it",
                    target.display()
                ))
                .into());
            }
            _ => {}
        }
    }
    Ok(())
}

fn parent_of(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_directory_is_a_target_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let target = check(&empty.join(".")).unwrap();
        assert!(target.exists);
        assert_eq!(target.name().as_deref(), Some("empty"));
        std::fs::write(empty.join("x"), "").unwrap();
        let error = check(&empty.join(".")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("already exists and is not empty"),
            "{error}"
        );
    }

    #[test]
    fn a_new_path_in_an_existing_parent() {
        let dir = tempfile::tempdir().unwrap();
        let target = check(&dir.path().join("demo")).unwrap();
        assert!(!target.exists);
        assert_eq!(target.name().as_deref(), Some("demo"));
        assert_eq!(target.parent(), dir.path());
        assert!(check(Path::new("my/../x")).is_err());
        assert!(check(&dir.path().join("nowhere/demo")).is_err());
    }
}
