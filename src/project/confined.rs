//! Writing inside the project and nowhere else.
//!
//! Every directory between the project root and a file is opened component by component without
//! following symlinks, so a `.github`, `tests` or `.mlops/base` committed as a symlink to a
//! directory elsewhere is refused by name rather than written through. A file's new content goes
//! to a temporary file created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`) in that directory and
//! is renamed over the file, so neither a planted temporary name nor a symlink at the file itself
//! sends the content anywhere else: rename replaces the link, it does not follow it. Deletes go
//! through the same opened directories. On Unix the checks hold against races because the opened
//! directory descriptors are used, not paths; elsewhere each ancestor is checked before use.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::RelPath;
use crate::exit::Refused;

/// Why a path cannot be reached inside the project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Escape {
    #[error(
        "`{prefix}` is a symlink: mlops never writes through one, since it may lead out of the \
         project; replace it with a real directory, or move the files it points to into the project"
    )]
    Symlink { prefix: String },
    #[error("`{prefix}` is not a directory, but `{path}` needs it to be one")]
    NotADirectory { prefix: String, path: String },
}

/// The project's root directory, opened once.
pub(crate) struct ProjectDir {
    root: PathBuf,
    #[cfg(unix)]
    fd: rustix::fd::OwnedFd,
}

/// A file's new content, written to a temporary file beside it, not yet in place.
pub(crate) struct Staged {
    path: RelPath,
    temporary: String,
    #[cfg(unix)]
    parent: rustix::fd::OwnedFd,
    #[cfg(not(unix))]
    parent: PathBuf,
}

impl Staged {
    /// Moves a staged file into place.
    pub(crate) fn commit(&self) -> anyhow::Result<()> {
        let name = file_name(&self.path);
        #[cfg(unix)]
        let result = rustix::fs::renameat(&self.parent, &self.temporary, &self.parent, name)
            .map_err(std::io::Error::from);
        #[cfg(not(unix))]
        let result = std::fs::rename(self.parent.join(&self.temporary), self.parent.join(name));
        result.with_context(|| format!("could not replace `{}`", self.path))
    }

    /// Removes a staged file that will not be used.
    pub(crate) fn discard(self) {
        #[cfg(unix)]
        let _ = rustix::fs::unlinkat(&self.parent, &self.temporary, rustix::fs::AtFlags::empty());
        #[cfg(not(unix))]
        let _ = std::fs::remove_file(self.parent.join(&self.temporary));
    }
}

/// The file name a path ends in.
fn file_name(path: &RelPath) -> &str {
    path.as_str().rsplit('/').next().unwrap_or(path.as_str())
}

/// The directories above a path's file, as `(prefix, component)`: `a/b/c` gives `(a, a)` and
/// `(a/b, b)`.
fn ancestors(path: &RelPath) -> Vec<(&str, &str)> {
    let text = path.as_str();
    let mut found = Vec::new();
    let mut start = 0;
    while let Some(offset) = text[start..].find('/') {
        let end = start + offset;
        found.push((&text[..end], &text[start..end]));
        start = end + 1;
    }
    found
}

impl ProjectDir {
    /// The project at `root`. The root itself may be reached through a symlink (it is where the
    /// user pointed); nothing below it is.
    pub(crate) fn open(root: &Path) -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use rustix::fs::{Mode, OFlags};
            let fd = rustix::fs::open(
                root,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .with_context(|| {
                format!("could not open the project directory `{}`", root.display())
            })?;
            Ok(Self {
                root: root.to_path_buf(),
                fd,
            })
        }
        #[cfg(not(unix))]
        {
            anyhow::ensure!(
                root.is_dir(),
                "could not open the project directory `{}`",
                root.display()
            );
            Ok(Self {
                root: root.to_path_buf(),
            })
        }
    }

    /// Checks, without creating anything, that every directory above `path` that exists is a real
    /// directory inside the project.
    pub(crate) fn check(&self, path: &RelPath) -> Result<(), Escape> {
        self.parent(path, false).map(|_| ())
    }

    /// Writes `content` to a new temporary file beside `path`, creating the directories above it
    /// as needed.
    pub(crate) fn stage(
        &self,
        path: &RelPath,
        content: &[u8],
        executable: bool,
    ) -> anyhow::Result<Staged> {
        let parent = self
            .parent(path, true)
            .map_err(Refused::new)?
            .expect("created when missing");
        let pid = std::process::id();
        for attempt in 0u32..100 {
            let temporary = format!(".{}.mlops-tmp-{pid}-{attempt}", file_name(path));
            match create_exclusive(&parent, &temporary, executable) {
                Ok(mut file) => {
                    let written = file.write_all(content).and_then(|()| file.flush());
                    let staged = Staged {
                        path: path.clone(),
                        temporary,
                        parent,
                    };
                    if let Err(error) = written {
                        staged.discard();
                        return Err(error).with_context(|| format!("could not write `{path}`"));
                    }
                    return Ok(staged);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => {
                    return Err(error).with_context(|| {
                        format!("could not create a temporary file for `{path}`")
                    });
                }
            }
        }
        anyhow::bail!("could not find a free temporary name beside `{path}`")
    }

    /// Removes the file at `path`; a file that is already gone is not an error.
    pub(crate) fn remove(&self, path: &RelPath) -> anyhow::Result<()> {
        let Some(parent) = self.parent(path, false).map_err(Refused::new)? else {
            return Ok(());
        };
        #[cfg(unix)]
        let result = rustix::fs::unlinkat(&parent, file_name(path), rustix::fs::AtFlags::empty())
            .map_err(std::io::Error::from);
        #[cfg(not(unix))]
        let result = std::fs::remove_file(parent.join(file_name(path)));
        match result {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(error).with_context(|| format!("could not remove `{path}`"))
            }
            _ => Ok(()),
        }
    }

    /// The directory holding `path`, or `None` when it does not exist and `create` is false.
    #[cfg(unix)]
    fn parent(&self, path: &RelPath, create: bool) -> Result<Option<rustix::fd::OwnedFd>, Escape> {
        use rustix::fs::{Mode, OFlags};
        use rustix::io::Errno;
        let mut current = rustix::io::dup(&self.fd).map_err(|_| Escape::NotADirectory {
            prefix: ".".to_owned(),
            path: path.to_string(),
        })?;
        for (prefix, component) in ancestors(path) {
            let open = |directory: &rustix::fd::OwnedFd| {
                rustix::fs::openat(
                    directory,
                    component,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
            };
            let opened = match open(&current) {
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&current, component, Mode::from_bits_truncate(0o777))
                    {
                        Ok(()) | Err(Errno::EXIST) => open(&current),
                        Err(error) => Err(error),
                    }
                }
                Err(Errno::NOENT) => return Ok(None),
                other => other,
            };
            current = match opened {
                Ok(fd) => fd,
                Err(_) => return Err(self.why_not_a_directory(prefix, path)),
            };
        }
        Ok(Some(current))
    }

    #[cfg(not(unix))]
    fn parent(&self, path: &RelPath, create: bool) -> Result<Option<PathBuf>, Escape> {
        let mut current = self.root.clone();
        for (prefix, component) in ancestors(path) {
            current.push(component);
            match std::fs::symlink_metadata(&current) {
                Ok(metadata) if metadata.is_dir() => {}
                Ok(_) => return Err(self.why_not_a_directory(prefix, path)),
                Err(_) if create => {
                    std::fs::create_dir(&current)
                        .map_err(|_| self.why_not_a_directory(prefix, path))?;
                }
                Err(_) => return Ok(None),
            }
        }
        Ok(Some(current))
    }

    fn why_not_a_directory(&self, prefix: &str, path: &RelPath) -> Escape {
        let is_symlink = std::fs::symlink_metadata(self.root.join(prefix))
            .is_ok_and(|metadata| metadata.file_type().is_symlink());
        if is_symlink {
            Escape::Symlink {
                prefix: prefix.to_owned(),
            }
        } else {
            Escape::NotADirectory {
                prefix: prefix.to_owned(),
                path: path.to_string(),
            }
        }
    }
}

#[cfg(unix)]
fn create_exclusive(
    parent: &rustix::fd::OwnedFd,
    name: &str,
    executable: bool,
) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    // The umask applies, as it does to any file the user creates.
    let mode = if executable { 0o777 } else { 0o666 };
    let fd = rustix::fs::openat(
        parent,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_bits_truncate(mode),
    )?;
    Ok(std::fs::File::from(fd))
}

#[cfg(not(unix))]
fn create_exclusive(
    parent: &Path,
    name: &str,
    _executable: bool,
) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(parent.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> RelPath {
        RelPath::new(text).unwrap()
    }

    #[test]
    fn files_are_written_and_removed_inside_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        let staged = project.stage(&path("a/b/c.txt"), b"hello", false).unwrap();
        assert!(
            !dir.path().join("a/b/c.txt").exists(),
            "not in place before commit"
        );
        staged.commit().unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("a/b/c.txt")).unwrap(),
            b"hello"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a/b")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left");
        project.remove(&path("a/b/c.txt")).unwrap();
        assert!(!dir.path().join("a/b/c.txt").exists());
        project.remove(&path("a/b/c.txt")).unwrap();
        project.remove(&path("nowhere/c.txt")).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_directories_are_refused_by_name() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".mlops")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join(".mlops/base")).unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        let target = path(".mlops/base/x.base");
        assert_eq!(
            project.check(&target),
            Err(Escape::Symlink {
                prefix: ".mlops/base".to_owned()
            })
        );
        let error = project.stage(&target, b"secret", false).err().unwrap();
        assert!(
            error.to_string().starts_with("`.mlops/base` is a symlink"),
            "{error}"
        );
        std::fs::write(outside.path().join("x.base"), b"theirs").unwrap();
        assert!(project.remove(&target).is_err());
        assert_eq!(
            std::fs::read(outside.path().join("x.base")).unwrap(),
            b"theirs"
        );
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn planted_temporary_names_and_symlinked_files_send_nothing_out() {
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, b"untouched").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pid = std::process::id();
        // A link at every temporary name this process could try, and one at the file itself.
        for attempt in 0..3 {
            std::os::unix::fs::symlink(
                &victim,
                dir.path().join(format!(".f.mlops-tmp-{pid}-{attempt}")),
            )
            .unwrap();
        }
        std::os::unix::fs::symlink(&victim, dir.path().join("f")).unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        let staged = project.stage(&path("f"), b"new", false).unwrap();
        staged.commit().unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
        let replaced = std::fs::symlink_metadata(dir.path().join("f")).unwrap();
        assert!(replaced.is_file(), "the link itself was replaced by a file");
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"new");
    }

    #[test]
    fn ancestors_of_a_path() {
        assert_eq!(ancestors(&path("a/b/c")), vec![("a", "a"), ("a/b", "b")]);
        assert!(ancestors(&path("c")).is_empty());
    }
}
