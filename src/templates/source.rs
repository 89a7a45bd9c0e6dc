//! Where the bundles' files come from: embedded in the binary, or a directory of the same layout
//! named by `MLOPS_TEMPLATES_DIR` (for template authors, and for tests with bundles of their own).
//!
//! Reading a directory is the only IO of the templates. It takes regular files and directories
//! only, never through a symlink, never a FIFO or a device (opened without blocking), each file
//! and the whole set within a size limit, so a bundle from anywhere cannot hang, exhaust memory,
//! or smuggle in a file from elsewhere.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::level::Level;
use crate::project::read::{self, FileRead, Follow};

static EMBEDDED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// Replaces the embedded bundles with the ones in a directory of the same layout.
pub(crate) const TEMPLATES_DIR_ENV: &str = "MLOPS_TEMPLATES_DIR";

/// The largest template file read from a directory; the largest real one is a few dozen KiB.
const FILE_LIMIT: u64 = 4 * 1024 * 1024;
/// The most a directory of bundles may hold in all.
const TOTAL_LIMIT: u64 = 64 * 1024 * 1024;

/// One level's files before they are checked: `bundle.toml`'s text, and every other file as
/// (path relative to the templates directory, contents).
pub(crate) struct RawBundle {
    pub(crate) meta: Cow<'static, str>,
    pub(crate) files: Vec<(Cow<'static, str>, Cow<'static, [u8]>)>,
}

/// Where the templates came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    Embedded,
    Directory(PathBuf),
}

/// Every level's files, level 0 first, through the first level there is none of.
pub(crate) struct RawTemplates {
    pub(crate) bundles: Vec<RawBundle>,
    pub(crate) origin: Origin,
}

impl RawTemplates {
    /// The directory `MLOPS_TEMPLATES_DIR` names, or the embedded templates.
    pub(crate) fn from_environment() -> Result<Self, (Origin, String)> {
        match std::env::var_os(TEMPLATES_DIR_ENV).filter(|dir| !dir.is_empty()) {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                Self::from_dir(&dir).map_err(|error| (Origin::Directory(dir), error))
            }
            None => Self::embedded().map_err(|error| (Origin::Embedded, error)),
        }
    }

    /// The templates built into the binary.
    pub(crate) fn embedded() -> Result<Self, String> {
        let mut bundles = Vec::new();
        for level in Level::all() {
            let name = format!("level-{level}");
            let Some(dir) = EMBEDDED.get_dir(&name) else {
                break;
            };
            let meta_path = format!("{name}/bundle.toml");
            let meta = dir
                .get_file(&meta_path)
                .and_then(|file| file.contents_utf8())
                .ok_or_else(|| format!("{meta_path} is missing or not UTF-8"))?;
            let mut files = Vec::new();
            collect_embedded(dir, &mut |file| {
                let path = file.path().to_str().expect("template paths are UTF-8");
                if path != meta_path {
                    files.push((Cow::Borrowed(path), Cow::Borrowed(file.contents())));
                }
            });
            bundles.push(RawBundle {
                meta: Cow::Borrowed(meta),
                files,
            });
        }
        Ok(Self {
            bundles,
            origin: Origin::Embedded,
        })
    }

    /// The bundles in `dir/level-N/`.
    pub(crate) fn from_dir(dir: &Path) -> Result<Self, String> {
        let mut budget = TOTAL_LIMIT;
        let mut bundles = Vec::new();
        for level in Level::all() {
            let name = format!("level-{level}");
            let bundle_dir = dir.join(&name);
            match std::fs::symlink_metadata(&bundle_dir) {
                Ok(metadata) if metadata.is_dir() => {}
                Ok(_) => return Err(format!("`{name}` is not a directory")),
                Err(_) => break,
            }
            let meta = read_template(&bundle_dir.join("bundle.toml"), &mut budget)
                .map_err(|error| format!("{name}/bundle.toml: {error}"))?;
            let meta =
                String::from_utf8(meta).map_err(|_| format!("{name}/bundle.toml is not UTF-8"))?;
            let mut files = Vec::new();
            let mut pending = vec![bundle_dir.clone()];
            while let Some(directory) = pending.pop() {
                let entries = std::fs::read_dir(&directory)
                    .map_err(|error| format!("{}: {error}", directory.display()))?;
                for entry in entries {
                    let entry =
                        entry.map_err(|error| format!("{}: {error}", directory.display()))?;
                    let path = entry.path();
                    let relative = path
                        .strip_prefix(dir)
                        .expect("under the templates directory")
                        .to_str()
                        .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?
                        .replace('\\', "/");
                    let kind = entry
                        .file_type()
                        .map_err(|error| format!("`{relative}`: {error}"))?;
                    if kind.is_symlink() {
                        return Err(format!(
                            "`{relative}` is a symlink: a bundle holds only files and directories"
                        ));
                    }
                    if kind.is_dir() {
                        pending.push(path);
                    } else if path != bundle_dir.join("bundle.toml") {
                        let contents = read_template(&path, &mut budget)
                            .map_err(|error| format!("`{relative}`: {error}"))?;
                        files.push((Cow::Owned(relative), Cow::Owned(contents)));
                    }
                }
            }
            files.sort();
            bundles.push(RawBundle {
                meta: Cow::Owned(meta),
                files,
            });
        }
        Ok(Self {
            bundles,
            origin: Origin::Directory(dir.to_path_buf()),
        })
    }

    /// Bundles from files in memory, as (path relative to the templates directory, contents);
    /// a level's `bundle.toml` is empty unless given.
    #[cfg(test)]
    pub(crate) fn from_memory(files: &[(&'static str, &'static [u8])]) -> Self {
        let mut bundles = Vec::new();
        for level in Level::all() {
            let prefix = format!("level-{level}/");
            let found: Vec<_> = files
                .iter()
                .filter(|(path, _)| path.starts_with(&prefix))
                .collect();
            if found.is_empty() {
                break;
            }
            let meta_path = format!("{prefix}bundle.toml");
            let meta = found
                .iter()
                .find(|(path, _)| *path == meta_path)
                .map_or("", |(_, contents)| {
                    std::str::from_utf8(contents).expect("test metadata is UTF-8")
                });
            bundles.push(RawBundle {
                meta: Cow::Borrowed(meta),
                files: found
                    .into_iter()
                    .filter(|(path, _)| *path != meta_path)
                    .map(|(path, contents)| (Cow::Borrowed(*path), Cow::Borrowed(*contents)))
                    .collect(),
            });
        }
        Self {
            bundles,
            origin: Origin::Embedded,
        }
    }
}

/// A template file's contents: a regular file within the limits.
fn read_template(path: &Path, budget: &mut u64) -> Result<Vec<u8>, String> {
    let limit = FILE_LIMIT.min(*budget);
    match read::read_file(path, limit, Follow::No).map_err(|error| error.to_string())? {
        FileRead::Regular(contents) => {
            *budget -= contents.len() as u64;
            Ok(contents)
        }
        FileRead::Missing => Err("it is missing".to_owned()),
        FileRead::Symlink => {
            Err("it is a symlink: a bundle holds only files and directories".to_owned())
        }
        FileRead::NotAFile(what) => Err(format!(
            "it is {what}: a bundle holds only files and directories"
        )),
        FileRead::TooLarge(size) => Err(format!(
            "it has {size} bytes, more than a template may ({FILE_LIMIT} each, {TOTAL_LIMIT} in all)"
        )),
    }
}

fn collect_embedded(
    dir: &'static Dir<'static>,
    visit: &mut dyn FnMut(&'static include_dir::File<'static>),
) {
    for file in dir.files() {
        visit(file);
    }
    for child in dir.dirs() {
        collect_embedded(child, visit);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn bundle_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("level-0/files")).unwrap();
        std::fs::write(dir.path().join("level-0/bundle.toml"), "level = 0\n").unwrap();
        std::fs::write(dir.path().join("level-0/files/README.md"), "hi\n").unwrap();
        dir
    }

    #[test]
    fn a_directory_of_files_is_read() {
        let dir = bundle_dir();
        let raw = RawTemplates::from_dir(dir.path()).unwrap();
        assert_eq!(raw.bundles.len(), 1);
        assert_eq!(raw.bundles[0].files.len(), 1);
        assert_eq!(raw.bundles[0].files[0].0, "level-0/files/README.md");
    }

    #[test]
    fn symlinks_fifos_and_devices_are_refused_without_blocking() {
        let dir = bundle_dir();
        let files = dir.path().join("level-0/files");
        std::os::unix::fs::symlink("/etc/passwd", files.join("passwd")).unwrap();
        let error = RawTemplates::from_dir(dir.path()).err().unwrap();
        assert_eq!(
            error,
            "`level-0/files/passwd` is a symlink: a bundle holds only files and directories"
        );
        std::fs::remove_file(files.join("passwd")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(files.join("fifo"))
            .status()
            .unwrap();
        assert!(status.success());
        let error = RawTemplates::from_dir(dir.path()).err().unwrap();
        assert_eq!(
            error,
            "`level-0/files/fifo`: it is a FIFO: a bundle holds only files and directories"
        );
    }
}
