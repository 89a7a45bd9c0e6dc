//! The level a project's manifest records, reported beside the assessed one. A corrupt or
//! unreadable manifest is reported, not fatal: the repository is assessed all the same. The
//! manifest is read as the scan reads files: a regular file only, not through a symbolic link.

use std::path::Path;

use crate::project::manifest::Manifest;

/// What the manifest says about the level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recorded {
    Absent,
    Level(u8),
    Unreadable(String),
}

/// The level recorded in the manifest of the project at `root`.
pub(crate) fn recorded_level(root: &Path) -> Recorded {
    match Manifest::read(root) {
        Ok(Some(manifest)) => Recorded::Level(manifest.level.number()),
        Ok(None) => Recorded::Absent,
        Err(error) => Recorded::Unreadable(error.to_string()),
    }
}
