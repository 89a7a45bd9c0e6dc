//! A project as data: relative paths mapped to file contents, in sorted order.
//!
//! Everything the generator produces is a [`Tree`] before anything touches the disk, so a tree can
//! be printed (the dry run), compared (tests, the upgrade plan) and hashed (the manifest) without
//! IO. Paths are [`RelPath`]s, checked when they enter a tree, so no rendered path can escape the
//! project.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rel_path::RelPath;
use crate::level::Level;

/// Who owns a file after the generator first writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Ownership {
    /// Kept in step with the templates: an upgrade merges template changes into it.
    Generated,
    /// Written once as a starting point, then the team's: an upgrade never changes it.
    Seeded,
}

impl Ownership {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Generated => "generated",
            Self::Seeded => "seeded",
        }
    }
}

/// One file of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) content: Vec<u8>,
    pub(crate) executable: bool,
    pub(crate) ownership: Ownership,
    /// The maturity level whose bundle introduced the file.
    pub(crate) level: Level,
}

impl Entry {
    /// The git blob id of the content: how the manifest identifies exactly what was generated,
    /// and how a later upgrade finds that content again in the repository's history.
    pub(crate) fn blob_id(&self) -> String {
        blob_id(&self.content)
    }
}

/// The git blob id (SHA-1 of `blob <len>\0<content>`) of some bytes.
pub(crate) fn blob_id(content: &[u8]) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, content)
        .expect("hashing bytes in memory cannot fail")
        .to_string()
}

/// A whole project in memory, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tree {
    entries: BTreeMap<RelPath, Entry>,
}

impl Tree {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn insert(&mut self, path: RelPath, entry: Entry) -> Option<Entry> {
        self.entries.insert(path, entry)
    }

    pub(crate) fn get(&self, path: &RelPath) -> Option<&Entry> {
        self.entries.get(path)
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn remove(&mut self, path: &RelPath) -> Option<Entry> {
        self.entries.remove(path)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&RelPath, &Entry)> {
        self.entries.iter()
    }

    pub(crate) fn paths(&self) -> impl Iterator<Item = &RelPath> {
        self.entries.keys()
    }

    pub(crate) fn total_size(&self) -> u64 {
        self.entries
            .values()
            .map(|entry| entry.content.len() as u64)
            .sum()
    }
}

#[cfg(test)]
impl Tree {
    /// Text files generated at level 0, for tests.
    pub(crate) fn from_texts(files: &[(&str, &str)]) -> Self {
        let mut tree = Self::new();
        for (path, content) in files {
            let entry = Entry {
                content: content.as_bytes().to_vec(),
                executable: false,
                ownership: Ownership::Generated,
                level: Level::ZERO,
            };
            tree.insert(RelPath::new(path).expect("a valid test path"), entry);
        }
        tree
    }
}

impl<'a> IntoIterator for &'a Tree {
    type Item = (&'a RelPath, &'a Entry);
    type IntoIter = std::collections::btree_map::Iter<'a, RelPath, Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// A size for people: `812 B`, `3.4 KiB`.
pub(crate) fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        #[allow(clippy::cast_precision_loss)]
        let kib = bytes as f64 / 1024.0;
        if kib < 1024.0 {
            format!("{kib:.1} KiB")
        } else {
            format!("{:.1} MiB", kib / 1024.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(3482), "3.4 KiB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MiB");
    }
}
