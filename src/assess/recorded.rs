//! The level a project's manifest records, reported beside the assessed one. A corrupt or
//! unreadable manifest is reported, not fatal: the repository is assessed all the same. The
//! manifest is read as the scan reads files: a regular file only, not through a symbolic link.

use std::path::Path;

use super::scan;
use crate::manifest::{MANIFEST_PATH, Manifest};

/// Far larger than the manifest of any project, which lists its files.
const MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// What the manifest says about the level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recorded {
    Absent,
    Level(u8),
    Unreadable(String),
}

/// The level recorded in the manifest of the project at `root`.
pub(crate) fn recorded_level(root: &Path) -> Recorded {
    let path = root.join(MANIFEST_PATH);
    match scan::read_regular_file(&path, MANIFEST_BYTES) {
        Ok(text) => match Manifest::parse(&text, MANIFEST_PATH) {
            Ok(manifest) => Recorded::Level(manifest.level),
            Err(error) => Recorded::Unreadable(error.to_string()),
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Recorded::Absent,
        Err(error) => Recorded::Unreadable(format!("cannot read `{MANIFEST_PATH}`: {error}")),
    }
}
