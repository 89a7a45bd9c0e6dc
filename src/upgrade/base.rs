//! Recovering the base of a merge: exactly what the generator wrote for the recorded level.
//!
//! The manifest names each generated file's content by its git blob id. Three places may hold
//! that content, tried in order, each accepted only if its blob id matches: rendering the
//! recorded level again with the recorded answers (exact while the templates have not changed),
//! `.mlops/base/` (where an upgrade keeps what it generated for files whose content differs from
//! it, so it travels with clones), and the repository's git history, only where a commit shows
//! the generator writing that content (the first commit of a generated project holds every file
//! as generated; a blob id edited into the manifest has no such commit). When all three fail the
//! base is `Missing`, and the plan treats the file as added on both sides: identical content is
//! adopted, any difference is a conflict, never a guess. Pure: the caller passes the lookups.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::project::manifest::Manifest;
use crate::project::{RelPath, Tree, blob_id};

/// Where the base of a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BaseSource {
    /// Rendering the recorded level again gave exactly the recorded blob.
    Rendered,
    /// `.mlops/base/`, where an upgrade keeps what it generated for files that differ from it.
    Store,
    /// The repository's git history holds the recorded blob.
    GitHistory,
    /// The file was not generated before: there is no base.
    None,
    /// The manifest records the file but its content could not be found: merged as if the two
    /// sides had added it independently, so any difference is a conflict.
    Missing,
}

/// The recorded base of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    pub(crate) content: Option<Vec<u8>>,
    pub(crate) source: BaseSource,
}

/// The bases of a tree the generator has just rendered: each file's base is exactly its content.
pub(crate) fn rendered_bases(generated: &Tree) -> BTreeMap<RelPath, Base> {
    generated
        .iter()
        .map(|(path, entry)| {
            let base = Base {
                content: Some(entry.content.clone()),
                source: BaseSource::Rendered,
            };
            (path.clone(), base)
        })
        .collect()
}

pub(crate) const BASE_STORE_DIR: &str = ".mlops/base";

/// Where the stored base of `path` lives: `.mlops/base/<path>.base`, a suffix that keeps tools
/// (linters, test collectors, CI) from mistaking it for the file itself.
pub(crate) fn base_store_path(path: &RelPath) -> RelPath {
    RelPath::new(&format!("{BASE_STORE_DIR}/{path}.base"))
        .expect("a prefixed relative path is valid")
}

/// Finds the base of every file the manifest records.
pub(super) fn recover(
    manifest: &Manifest,
    rendered: Option<&Tree>,
    stored: &dyn Fn(&RelPath) -> Option<Vec<u8>>,
    from_git: &dyn Fn(&RelPath, &str) -> Option<Vec<u8>>,
) -> BTreeMap<RelPath, Base> {
    manifest
        .files
        .iter()
        .map(|(path, record)| {
            let matches = |content: &Vec<u8>| blob_id(content) == record.blob;
            let rendered_content = rendered
                .and_then(|tree| tree.get(path))
                .map(|entry| entry.content.clone());
            let base = if let Some(content) = rendered_content.filter(&matches) {
                Base {
                    content: Some(content),
                    source: BaseSource::Rendered,
                }
            } else if let Some(content) = stored(path).filter(&matches) {
                Base {
                    content: Some(content),
                    source: BaseSource::Store,
                }
            } else if let Some(content) = from_git(path, &record.blob).filter(&matches) {
                Base {
                    content: Some(content),
                    source: BaseSource::GitHistory,
                }
            } else {
                Base {
                    content: None,
                    source: BaseSource::Missing,
                }
            };
            (path.clone(), base)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::example;
    use crate::level::Level;

    #[test]
    fn each_source_is_tried_in_order_and_checked() {
        let answers = example();
        let generated = Tree::from_texts(&[
            ("rendered", "r\n"),
            ("stored", "s\n"),
            ("in_git", "g\n"),
            ("lost", "l\n"),
        ]);
        let manifest = Manifest::for_tree(Level::ZERO, &answers, &generated, vec![]);
        // Today's templates render `stored`, `in_git` and `lost` differently.
        let rendered_now = Tree::from_texts(&[
            ("rendered", "r\n"),
            ("stored", "changed\n"),
            ("in_git", "changed\n"),
            ("lost", "changed\n"),
        ]);
        let stored = |path: &RelPath| (path.as_str() == "stored").then(|| b"s\n".to_vec());
        let git_blob = blob_id(b"g\n");
        let from_git = |_: &RelPath, blob: &str| (blob == git_blob).then(|| b"g\n".to_vec());
        let bases = recover(&manifest, Some(&rendered_now), &stored, &from_git);
        let sources: Vec<(String, BaseSource)> = bases
            .iter()
            .map(|(path, base)| (path.to_string(), base.source))
            .collect();
        assert_eq!(
            sources,
            vec![
                ("in_git".to_owned(), BaseSource::GitHistory),
                ("lost".to_owned(), BaseSource::Missing),
                ("rendered".to_owned(), BaseSource::Rendered),
                ("stored".to_owned(), BaseSource::Store),
            ]
        );
        assert_eq!(
            bases[&RelPath::new("stored").unwrap()].content.as_deref(),
            Some(&b"s\n"[..])
        );
    }
}
