//! The project's files as an upgrade step sees them: what is on disk, overlaid with what the
//! earlier planned steps of the same run would write, so a multi-level walk plans every step
//! against the state the steps before it leave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::plan::{OursFile, Plan, base_store_path};
use crate::project::RelPath;
use crate::project::apply::FileWrite;

pub(super) struct Workspace {
    root: PathBuf,
    overlay: BTreeMap<RelPath, Option<OursFile>>,
}

impl Workspace {
    pub(super) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            overlay: BTreeMap::new(),
        }
    }

    /// The file at `path` as the next step sees it, or `None` if there is none.
    pub(super) fn read(&self, path: &RelPath) -> anyhow::Result<Option<OursFile>> {
        if let Some(planned) = self.overlay.get(path) {
            return Ok(planned.clone());
        }
        let full = self.root.join(path.as_str());
        match std::fs::read(&full) {
            Ok(content) => Ok(Some(OursFile {
                content,
                executable: is_executable(&full),
            })),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("could not read `{path}`")),
        }
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
                } => Some(OursFile {
                    content,
                    executable,
                }),
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
