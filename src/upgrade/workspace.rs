//! The project's files as an upgrade step sees them: what is on disk, overlaid with what the
//! earlier planned steps of the same run would write, so a multi-level walk plans every step
//! against the state the steps before it leave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::base::base_store_path;
use super::plan::{OursFile, Plan};
use crate::exit::Refused;
use crate::project::apply::FileWrite;
use crate::project::read::{self, FileRead, Follow};
use crate::project::{ProjectDir, RelPath};

pub(super) struct Workspace {
    root: PathBuf,
    project: ProjectDir,
    overlay: BTreeMap<RelPath, Option<OursFile>>,
}

impl Workspace {
    pub(super) fn new(root: &Path) -> anyhow::Result<Self> {
        Ok(Self {
            root: root.to_path_buf(),
            project: ProjectDir::open(root)?,
            overlay: BTreeMap::new(),
        })
    }

    /// The file at `path` as the next step sees it, or `None` if there is none. Only a regular
    /// file inside the project is read; anything else is described, not followed.
    pub(super) fn read(&self, path: &RelPath) -> anyhow::Result<Option<OursFile>> {
        if let Some(planned) = self.overlay.get(path) {
            return Ok(planned.clone());
        }
        let unread = |reason| {
            Ok(Some(OursFile {
                content: Vec::new(),
                executable: false,
                unread: Some(reason),
            }))
        };
        if self.project.check(path).is_err() {
            return unread("behind a symlink or a file where a directory should be: left alone");
        }
        let full = self.root.join(path.as_str());
        match read::read_file(&full, read::DEFAULT_LIMIT, Follow::No)
            .with_context(|| format!("could not read `{path}`"))?
        {
            FileRead::Regular(content) => {
                Ok(Some(OursFile::regular(content, is_executable(&full))))
            }
            FileRead::Missing => Ok(None),
            FileRead::Symlink => unread("a symlink, never followed: left alone"),
            FileRead::NotAFile(_) => unread("not a regular file: left alone"),
            FileRead::TooLarge(_) => unread("larger than mlops reads: left alone"),
        }
    }

    /// Refuses the plans if any of their writes would go through a symlink or a file where a
    /// directory should be: a dry run says so as the real run would, and nothing is written.
    pub(super) fn check_writes(&self, plans: &[Plan]) -> anyhow::Result<()> {
        for plan in plans {
            for path in plan.writes().keys() {
                self.project.check(path).map_err(Refused::new)?;
            }
        }
        Ok(())
    }

    /// The content of `.mlops/base/<path>.base`, if there is one.
    pub(super) fn stored_base(&self, path: &RelPath) -> Option<Vec<u8>> {
        self.read(&base_store_path(path))
            .ok()
            .flatten()
            .map(|file| file.content)
    }

    /// Records what `plan` writes, so later steps see it.
    pub(super) fn apply(&mut self, plan: &Plan) {
        for (path, write) in plan.writes() {
            let file = match write {
                FileWrite::Write {
                    content,
                    executable,
                } => Some(OursFile::regular(content, executable)),
                FileWrite::Remove => None,
            };
            self.overlay.insert(path, file);
        }
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|metadata| metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}
