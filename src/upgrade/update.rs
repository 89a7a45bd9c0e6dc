//! `mlops update`: the same level, newer templates.
//!
//! A project is behind this build's templates when what this build generates for the project's
//! recorded level and answers differs from what the manifest records was generated: a file
//! added, removed, or with another blob id. The manifest's file records (path and git blob id of
//! every generated file) are a digest of the rendered tree, so no other record is needed, and a
//! new version of mlops-scaffold whose templates did not change for the level is not "newer".
//! `generator_version` only guards the other direction: a build older than the one that last
//! wrote the manifest refuses to update, since its templates would take the project back.
//! Pure.

use std::collections::BTreeSet;

use crate::project::manifest::Manifest;
use crate::project::{RelPath, Tree};

/// True if `rendered` (this build's templates at the recorded level) differs from what the
/// manifest records was generated.
pub(super) fn templates_changed(recorded: &Manifest, rendered: &Tree) -> bool {
    let generated: BTreeSet<(&RelPath, String)> = rendered
        .iter()
        .map(|(path, entry)| (path, entry.blob_id()))
        .collect();
    // Records an adoption made ahead hold nothing generated.
    let recorded: BTreeSet<(&RelPath, String)> = recorded
        .files
        .iter()
        .filter(|(_, record)| !super::adoption::is_ahead(record))
        .map(|(path, record)| (path, record.blob.clone()))
        .collect();
    generated != recorded
}

/// `major.minor.patch`, ignoring anything after a `-` or `+`.
fn version(text: &str) -> Option<(u64, u64, u64)> {
    let core = text.split(['-', '+']).next()?;
    let mut numbers = core.split('.').map(|part| part.parse::<u64>().ok());
    let version = (numbers.next()??, numbers.next()??, numbers.next()??);
    numbers.next().is_none().then_some(version)
}

/// Refuses an update by a build older than the one that wrote the manifest.
pub(super) fn check_version(recorded: &str, running: &str) -> Result<(), String> {
    match (version(recorded), version(running)) {
        (Some(recorded_version), Some(running_version)) if recorded_version > running_version => {
            Err(format!(
                "the project was last written by mlops-scaffold {recorded}, newer than this one ({running}): its \
                 templates would take the project back; install mlops-scaffold {recorded} or newer"
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::example;
    use crate::level::Level;

    #[test]
    fn newer_templates_are_a_different_rendered_tree() {
        let generated = Tree::from_texts(&[("a", "1\n"), ("b", "2\n")]);
        let manifest = Manifest::for_tree(Level::ZERO, &example(), &generated, vec![]);
        let check = |files: &[(&str, &str)], expected: bool| {
            assert_eq!(
                templates_changed(&manifest, &Tree::from_texts(files)),
                expected,
                "{files:?}"
            );
        };
        check(&[("a", "1\n"), ("b", "2\n")], false);
        check(&[("a", "1\n"), ("b", "two\n")], true);
        check(&[("a", "1\n")], true);
        check(&[("a", "1\n"), ("b", "2\n"), ("c", "3\n")], true);
    }

    #[test]
    fn an_older_build_does_not_update() {
        assert_eq!(check_version("0.1.0", "0.2.0"), Ok(()));
        assert_eq!(check_version("0.2.0", "0.2.0"), Ok(()));
        assert_eq!(check_version("unknown", "0.2.0"), Ok(()));
        assert_eq!(
            check_version("0.10.0", "0.9.1"),
            Err(
                "the project was last written by mlops-scaffold 0.10.0, newer than this one (0.9.1): its templates \
                 would take the project back; install mlops-scaffold 0.10.0 or newer"
                    .to_owned()
            )
        );
        assert_eq!(version("1.2.3-rc.1"), Some((1, 2, 3)));
        assert_eq!(version("1.2"), None);
    }
}
