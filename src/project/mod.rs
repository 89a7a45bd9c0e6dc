//! A generated project as data and on disk.
//!
//! - `tree`: [`Tree`], a whole project in memory; `rel_path`: [`RelPath`], the only kind of path
//!   that enters a tree, a manifest or a plan.
//! - `manifest`: `.mlops/manifest.toml`, the project's record of its level, answers and files.
//! - `read`: reading a user's file safely (regular files only, bounded, never blocking).
//! - `apply`: the only writer of project files, through `confined`, which keeps every write and
//!   delete inside the project; `target`: where `mlops new` may write; `git`: everything git2.

pub(crate) mod apply;
mod confined;
pub(crate) mod git;
pub(crate) mod manifest;
pub(crate) mod read;
mod rel_path;
pub(crate) mod target;
mod tree;

pub(crate) use confined::ProjectDir;
pub(crate) use rel_path::RelPath;
pub(crate) use tree::{Entry, Ownership, Tree, blob_id, human_size};
