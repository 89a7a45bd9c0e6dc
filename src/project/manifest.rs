//! The project's record of itself: `.mlops/manifest.toml`.
//!
//! It holds the level, the answers the project was rendered from, and for every file the
//! generator wrote, its ownership, the level that introduced it, the git blob id of the exact
//! content generated and, if the team moved the file, where it lives now. The blob id is what
//! lets `mlops upgrade` recover the base of a 3-way merge: from the repository's history, from
//! `.mlops/base/`, or by rendering again. No timestamps, so the same project renders the same
//! manifest. Parsing is strict: a manifest that does not say exactly what it should is reported
//! as corrupt, with the reason and the place.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::read::{FileRead, Follow, read_file};

use super::{Ownership, RelPath, Tree};
use crate::answers::Answers;
use crate::level::Level;

pub(crate) const MANIFEST_PATH: &str = ".mlops/manifest.toml";
pub(crate) const SCHEMA_VERSION: u32 = 1;
pub(crate) const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The largest manifest read; one that records every file of a big project is far smaller.
const LIMIT: u64 = 16 * 1024 * 1024;

const HEADER: &str = "\
# Written by mlops-scaffold; `mlops upgrade` reads it to merge template changes into your files.
# Keep it under version control and do not edit it by hand.
";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Manifest {
    pub(crate) schema_version: u32,
    pub(crate) generator_version: String,
    pub(crate) level: Level,
    pub(crate) answers: Answers,
    /// What created the project and each level it moved through, oldest first.
    pub(crate) history: Vec<Step>,
    /// Every file the generator manages, by path.
    pub(crate) files: BTreeMap<RelPath, FileRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Step {
    /// `new`, `upgrade` or `adopt`.
    pub(crate) action: String,
    pub(crate) level: Level,
    pub(crate) generator_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileRecord {
    pub(crate) ownership: Ownership,
    /// The level whose bundle introduced the file.
    pub(crate) level: Level,
    /// Git blob id of the content the generator produced for the recorded level.
    pub(crate) blob: String,
    /// Where the file lives now, if the team moved it (`git mv`): upgrades merge into it there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) moved_to: Option<RelPath>,
}

impl FileRecord {
    /// The path of the file in the project: where it was generated, or where it was moved.
    pub(crate) fn location<'a>(&'a self, path: &'a RelPath) -> &'a RelPath {
        self.moved_to.as_ref().unwrap_or(path)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ManifestError {
    #[error("corrupt manifest `{path}`: {reason}")]
    Corrupt { path: String, reason: String },
    #[error(
        "manifest `{path}` has schema version {found}, newer than this mlops-scaffold ({supported}): \
         install a newer mlops-scaffold"
    )]
    TooNew {
        path: String,
        found: u32,
        supported: u32,
    },
}

impl Manifest {
    /// The manifest of a freshly rendered tree.
    pub(crate) fn for_tree(
        level: Level,
        answers: &Answers,
        tree: &Tree,
        history: Vec<Step>,
    ) -> Self {
        let files = tree
            .iter()
            .map(|(path, entry)| {
                let record = FileRecord {
                    ownership: entry.ownership,
                    level: entry.level,
                    blob: entry.blob_id(),
                    moved_to: None,
                };
                (path.clone(), record)
            })
            .collect();
        Self {
            schema_version: SCHEMA_VERSION,
            generator_version: GENERATOR_VERSION.to_owned(),
            level,
            answers: answers.clone(),
            history,
            files,
        }
    }

    pub(crate) fn step(action: &str, level: Level) -> Step {
        Step {
            action: action.to_owned(),
            level,
            generator_version: GENERATOR_VERSION.to_owned(),
        }
    }

    pub(crate) fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("a manifest serialises");
        format!("{HEADER}\n{body}")
    }

    /// Reads the manifest of the project at `root`: `None` if there is none, an error naming the
    /// file if it is not a regular file of reasonable size, or does not parse and check.
    pub(crate) fn read(root: &Path) -> Result<Option<Self>, ManifestError> {
        let path = root.join(MANIFEST_PATH);
        let shown = path.display().to_string();
        let corrupt = |reason: String| ManifestError::Corrupt {
            path: shown.clone(),
            reason,
        };
        let content = match read_file(&path, LIMIT, Follow::No) {
            Ok(FileRead::Regular(content)) => content,
            Ok(FileRead::Missing) => return Ok(None),
            Ok(FileRead::Symlink) => {
                return Err(corrupt(
                    "it is a symlink, which the manifest never is".to_owned(),
                ));
            }
            Ok(FileRead::NotAFile(what)) => return Err(corrupt(format!("it is {what}"))),
            Ok(FileRead::TooLarge(size)) => {
                return Err(corrupt(format!("it has {size} bytes, more than {LIMIT}")));
            }
            Err(error) => return Err(corrupt(format!("cannot read it: {error}"))),
        };
        let text =
            String::from_utf8(content).map_err(|_| corrupt("it is not UTF-8 text".to_owned()))?;
        Self::parse(&text, &shown).map(Some)
    }

    /// Parses and checks a manifest; `shown_path` names it in errors.
    pub(crate) fn parse(text: &str, shown_path: &str) -> Result<Self, ManifestError> {
        let corrupt = |reason: String| ManifestError::Corrupt {
            path: shown_path.to_owned(),
            reason,
        };
        let value: toml::Table =
            toml::from_str(text).map_err(|error| corrupt(describe_toml_error(text, &error)))?;
        if let Some(found) = value
            .get("schema_version")
            .and_then(toml::Value::as_integer)
        {
            let found = u32::try_from(found)
                .map_err(|_| corrupt(format!("schema_version `{found}` is not a version")))?;
            if found > SCHEMA_VERSION {
                return Err(ManifestError::TooNew {
                    path: shown_path.to_owned(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
        }
        let manifest: Self =
            toml::from_str(text).map_err(|error| corrupt(describe_toml_error(text, &error)))?;
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(corrupt(format!(
                "unknown schema_version {}",
                manifest.schema_version
            )));
        }
        manifest.answers.check().map_err(corrupt)?;
        for (path, record) in &manifest.files {
            // Lowercase only: git spells blob ids so, and an uppercase one would never match.
            let is_blob_id = record.blob.len() == 40
                && record
                    .blob
                    .bytes()
                    .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
            if !is_blob_id {
                return Err(corrupt(format!(
                    "files.\"{path}\".blob `{}` is not a git blob id",
                    record.blob
                )));
            }
            if record.level > manifest.level {
                return Err(corrupt(format!(
                    "files.\"{path}\" was introduced at level {}, above the project's level {}",
                    record.level, manifest.level
                )));
            }
        }
        Ok(manifest)
    }
}

/// A toml error as `line N: message`, on one line.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end_matches('\n').replace('\n', " ");
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::example;

    fn sample() -> Manifest {
        let tree = Tree::from_texts(&[(
            "README.md",
            "hello
",
        )]);
        Manifest::for_tree(
            Level::new(1).unwrap(),
            &example(),
            &tree,
            vec![Manifest::step("new", Level::new(1).unwrap())],
        )
    }

    fn check(text: &str, expected: &str) {
        let error = Manifest::parse(text, ".mlops/manifest.toml").unwrap_err();
        assert_eq!(error.to_string(), expected);
    }

    #[test]
    fn round_trips() {
        let manifest = sample();
        let text = manifest.to_toml();
        assert!(text.starts_with("# Written by mlops-scaffold"));
        assert_eq!(Manifest::parse(&text, "m").unwrap(), manifest);
        assert_eq!(
            manifest.files.values().next().unwrap().blob,
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn manifests_from_before_the_compute_engine_compute_locally() {
        // A manifest written before `compute` existed has no such answer: its project is a
        // `local` one, and writing it again leaves the default out, as before.
        let manifest = sample();
        let text = manifest.to_toml();
        assert!(!text.contains("compute"), "{text}");
        let read = Manifest::parse(&text, "m").unwrap();
        assert_eq!(read.answers.compute, crate::answers::Compute::Local);

        let mut ray = sample();
        ray.answers.compute = crate::answers::Compute::Ray;
        let text = ray.to_toml();
        assert!(text.contains("compute = \"ray\""), "{text}");
        assert_eq!(Manifest::parse(&text, "m").unwrap(), ray);
    }

    #[test]
    fn corrupt_manifests_say_what_and_where() {
        let good = sample().to_toml();
        check(
            "level = ",
            "corrupt manifest `.mlops/manifest.toml`: line 1: string values must be quoted, expected literal string",
        );
        check(
            &good.replacen("level = 1\n", "level = 9\n", 1),
            "corrupt manifest `.mlops/manifest.toml`: line 6: 9 is not a level (levels are 0 to 4)",
        );
        check(
            &good.replace("ce013625030ba8dba906f756967f9e9ca394464a", "xyz"),
            "corrupt manifest `.mlops/manifest.toml`: files.\"README.md\".blob `xyz` is not a git blob id",
        );
        check(
            &good.replace("package_name = \"demo\"", "package_name = \"class\""),
            "corrupt manifest `.mlops/manifest.toml`: answers.package_name `class` is invalid: it is a Python keyword",
        );
        check(
            &good.replace(
                "ce013625030ba8dba906f756967f9e9ca394464a",
                "CE013625030BA8DBA906F756967F9E9CA394464A",
            ),
            "corrupt manifest `.mlops/manifest.toml`: files.\"README.md\".blob \
             `CE013625030BA8DBA906F756967F9E9CA394464A` is not a git blob id",
        );
        check(
            &good.replace("schema_version = 1", "schema_version = 2"),
            "manifest `.mlops/manifest.toml` has schema version 2, newer than this mlops-scaffold (1): \
             install a newer mlops-scaffold",
        );
    }
}
