//! One upgrade step as a plan: (base, ours, theirs) for every file, classified.
//!
//! Pure: the caller gathers the three sides (the base recovered from the manifest, the user's
//! files, the next level rendered with the recorded answers) and this module decides what
//! happens to each file, computes every byte that would be written, and the manifest that would
//! record it. The dry run prints a plan; the real run writes the same plan.

use std::collections::{BTreeMap, BTreeSet};

use super::action::Action;
use super::adoption;
use super::base::{Base, BaseSource, base_store_path};
use super::merge::{self, Labels, Merged, Strategy};
use crate::level::Level;
use crate::project::apply::FileWrite;
use crate::project::manifest::{FileRecord, MANIFEST_PATH, Manifest};
use crate::project::{Ownership, RelPath, Tree};

/// A user's file as it is on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OursFile {
    pub(crate) content: Vec<u8>,
    pub(crate) executable: bool,
    /// Why the file was not read, when it is not a regular file inside the project (a symlink,
    /// a FIFO, something behind a symlinked directory): such a file is left alone, its target
    /// never read or written.
    pub(crate) unread: Option<&'static str>,
}

impl OursFile {
    /// A regular file's content.
    pub(crate) fn regular(content: Vec<u8>, executable: bool) -> Self {
        Self {
            content,
            executable,
            unread: None,
        }
    }
}

/// Everything a step is computed from.
pub(crate) struct StepInput<'a> {
    pub(crate) from: Level,
    pub(crate) to: Level,
    /// The manifest as recorded at `from`.
    pub(crate) manifest: &'a Manifest,
    /// Bases of the files the manifest records.
    pub(crate) bases: &'a BTreeMap<RelPath, Base>,
    /// The user's files among the paths the manifest records or `theirs` generates.
    pub(crate) ours: &'a BTreeMap<RelPath, OursFile>,
    /// The project rendered at `to` with the recorded answers.
    pub(crate) theirs: &'a Tree,
    /// Paths that already have an entry in `.mlops/base/`.
    pub(crate) stored_bases: &'a BTreeSet<RelPath>,
}

/// One file of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// The path the templates generate the file at.
    pub(crate) path: RelPath,
    /// Where the file lives instead, if the team moved it: everything is read and written there.
    pub(crate) moved_to: Option<RelPath>,
    pub(crate) action: Action,
    pub(crate) ownership: Ownership,
    pub(crate) base_source: BaseSource,
    /// The user's content before the step, if the file exists.
    pub(crate) before: Option<Vec<u8>>,
    /// The content written at `path`, if the step writes it.
    pub(crate) write: Option<Vec<u8>>,
    pub(crate) executable: bool,
    /// For a binary conflict: where the new version is written, and its content.
    pub(crate) side_file: Option<(RelPath, Vec<u8>)>,
    pub(crate) conflicts: usize,
    /// How the file was merged, if it was.
    pub(crate) strategy: Option<Strategy>,
    /// For a conflict: the base and the template's version, which git's index records beside
    /// yours (`before`) as the conflict's stages.
    pub(crate) conflict_sides: Option<ConflictSides>,
    /// Why the file got its action, in a few words.
    pub(crate) reason: &'static str,
}

impl Change {
    /// Where the file is in the project.
    pub(crate) fn location(&self) -> &RelPath {
        self.moved_to.as_ref().unwrap_or(&self.path)
    }
}

/// The base and the template's side of a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConflictSides {
    pub(crate) base: Option<Vec<u8>>,
    pub(crate) theirs: Vec<u8>,
}

/// One upgrade step, computed; an update is a step from a level to itself.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) from: Level,
    pub(crate) to: Level,
    pub(crate) changes: Vec<Change>,
    /// The manifest after the step.
    pub(crate) manifest: Manifest,
    /// `.mlops/base/` entries to write (`Some`) or remove (`None`).
    pub(crate) base_store: BTreeMap<RelPath, Option<Vec<u8>>>,
}

impl Plan {
    pub(crate) fn count(&self, action: Action) -> usize {
        self.changes
            .iter()
            .filter(|change| change.action == action)
            .count()
    }

    /// True for the step of `mlops update`: the same level, newer templates.
    pub(crate) fn is_update(&self) -> bool {
        self.from == self.to
    }

    pub(crate) fn has_conflicts(&self) -> bool {
        self.changes
            .iter()
            .any(|change| change.action.is_conflict())
    }

    /// Where the conflicted files are.
    pub(crate) fn conflicted_paths(&self) -> Vec<&RelPath> {
        self.changes
            .iter()
            .filter(|change| change.action.is_conflict())
            .map(Change::location)
            .collect()
    }

    /// Every file the step writes or removes: changed files, binary side files, the base store
    /// and the manifest. The one write set: what is applied, what must be clean in git, and what
    /// later steps of a walk see.
    pub(crate) fn writes(&self) -> BTreeMap<RelPath, FileWrite> {
        let mut writes = BTreeMap::new();
        for change in &self.changes {
            if let Some(content) = &change.write {
                writes.insert(
                    change.location().clone(),
                    FileWrite::Write {
                        content: content.clone(),
                        executable: change.executable,
                    },
                );
            }
            if let Some((side, content)) = &change.side_file {
                writes.insert(
                    side.clone(),
                    FileWrite::Write {
                        content: content.clone(),
                        executable: false,
                    },
                );
            }
        }
        for (path, content) in &self.base_store {
            let write = match content {
                Some(content) => FileWrite::Write {
                    content: content.clone(),
                    executable: false,
                },
                None => FileWrite::Remove,
            };
            writes.insert(base_store_path(path), write);
        }
        writes.insert(
            manifest_path(),
            FileWrite::Write {
                content: self.manifest.to_toml().into_bytes(),
                executable: false,
            },
        );
        writes
    }
}

/// The manifest's path, which every plan writes last.
pub(crate) fn manifest_path() -> RelPath {
    RelPath::new(MANIFEST_PATH).expect("the manifest path is valid")
}

/// The path a binary conflict writes the new version to: `logo.png` becomes `logo.level-2.png`.
pub(crate) fn side_file_path(path: &RelPath, level: Level) -> RelPath {
    let text = path.as_str();
    let (directory, name) = text
        .rsplit_once('/')
        .map_or(("", text), |(directory, name)| (directory, name));
    let renamed = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => format!("{stem}.level-{level}.{extension}"),
        _ => format!("{name}.level-{level}"),
    };
    let full = if directory.is_empty() {
        renamed
    } else {
        format!("{directory}/{renamed}")
    };
    RelPath::new(&full).expect("a renamed valid path is valid")
}

/// Classifies every file and computes what the step writes.
pub(crate) fn plan(input: &StepInput<'_>) -> Plan {
    // An update goes from a level to itself: the sides are the templates then and now.
    let labels = if input.from == input.to {
        Labels {
            ours: "yours".to_owned(),
            base: format!("level {} as generated", input.from),
            theirs: format!("level {} now", input.to),
        }
    } else {
        Labels {
            ours: "yours".to_owned(),
            base: format!("level {}", input.from),
            theirs: format!("level {}", input.to),
        }
    };
    // A record an adoption made ahead of this step's level waits for its level (`adoption`).
    let mut paths: BTreeSet<&RelPath> = input
        .manifest
        .files
        .iter()
        .filter(|(path, record)| !adoption::is_ahead(record) || input.theirs.get(path).is_some())
        .map(|(path, _)| path)
        .collect();
    paths.extend(input.theirs.paths());

    let mut changes = Vec::new();
    for path in paths {
        let record = input.manifest.files.get(path);
        let ahead = record.filter(|record| adoption::is_ahead(record));
        let base = record.filter(|_| ahead.is_none()).map(|_| {
            input.bases.get(path).cloned().unwrap_or(Base {
                content: None,
                source: BaseSource::Missing,
            })
        });
        let ours = input.ours.get(path);
        let unread = ours.and_then(|ours| ours.unread);
        let mut change = if let Some(record) =
            ahead.filter(|record| record.ownership == Ownership::Seeded && unread.is_none())
        {
            let action = if ours.is_some() {
                Action::Keep
            } else {
                Action::Unchanged
            };
            Change {
                action,
                reason: adoption::TEAMS_ROLE,
                ..unchanged(path, record.ownership, None, ours)
            }
        } else if let Some(reason) = unread {
            let ownership = record.map_or(Ownership::Generated, |record| record.ownership);
            Change {
                action: Action::Keep,
                reason,
                ..unchanged(path, ownership, base.as_ref(), None)
            }
        } else {
            match input.theirs.get(path) {
                Some(theirs) => {
                    let ownership = record.map_or(theirs.ownership, |record| record.ownership);
                    classify(
                        path,
                        ownership,
                        base.as_ref(),
                        ours,
                        &theirs.content,
                        theirs.executable,
                        input.to,
                        &labels,
                    )
                }
                None => orphan(
                    path,
                    record.map_or(Ownership::Generated, |record| record.ownership),
                    base.as_ref(),
                    ours,
                ),
            }
        };
        if let Some(moved_to) = record.and_then(|record| record.moved_to.clone()) {
            if let Some((_, content)) = change.side_file.take() {
                change.side_file = Some((side_file_path(&moved_to, input.to), content));
            }
            change.moved_to = Some(moved_to);
        }
        changes.push(change);
    }

    let manifest = next_manifest(input, &changes);
    let base_store = base_store_updates(input, &changes);
    Plan {
        from: input.from,
        to: input.to,
        changes,
        manifest,
        base_store,
    }
}

#[allow(clippy::too_many_arguments)]
fn classify(
    path: &RelPath,
    ownership: Ownership,
    base: Option<&Base>,
    ours: Option<&OursFile>,
    theirs: &[u8],
    theirs_executable: bool,
    to: Level,
    labels: &Labels,
) -> Change {
    let mut change = Change {
        executable: ours.map_or(theirs_executable, |ours| {
            ours.executable || theirs_executable
        }),
        ..unchanged(path, ownership, base, ours)
    };
    let (action, reason) = match (base, ours) {
        // Not generated before.
        (None, None) => {
            change.write = Some(theirs.to_vec());
            (Action::Create, "new at this level")
        }
        (None, Some(ours)) if ours.content == theirs => {
            (Action::Adopt, "you already have exactly this file")
        }
        (None, Some(ours)) => {
            return conflict(
                change,
                None,
                &ours.content,
                theirs,
                to,
                labels,
                "you have a different file at this path",
            );
        }
        // Generated before, and the user deleted it.
        (Some(_), None) => (Action::Skip, "you deleted it: not recreated"),
        (Some(_), Some(_)) if ownership == Ownership::Seeded => {
            (Action::Keep, "seeded: yours since it was written")
        }
        (Some(base), Some(ours)) => match &base.content {
            Some(base_content) if ours.content == *base_content => {
                if theirs == base_content.as_slice() {
                    (Action::Unchanged, "nobody changed it")
                } else {
                    change.write = Some(theirs.to_vec());
                    (Action::Update, "you had not changed it")
                }
            }
            _ if ours.content == theirs => (Action::Adopt, "you already made this change"),
            Some(base_content) if theirs == base_content.as_slice() => {
                (Action::Keep, "only you changed it")
            }
            Some(base_content) => {
                let reason = "you and the template both changed it";
                let merged = merge::merge(
                    path.as_str(),
                    Some(base_content),
                    &ours.content,
                    theirs,
                    labels,
                );
                match merged {
                    Merged::Clean { content, .. } if content == ours.content => {
                        (Action::Keep, "your file already has the template's change")
                    }
                    Merged::Clean { content, strategy } => {
                        change.write = Some(content);
                        change.strategy = Some(strategy);
                        (Action::Merge, reason)
                    }
                    _ => {
                        return conflict(
                            change,
                            Some(base_content),
                            &ours.content,
                            theirs,
                            to,
                            labels,
                            reason,
                        );
                    }
                }
            }
            None => {
                return conflict(
                    change,
                    None,
                    &ours.content,
                    theirs,
                    to,
                    labels,
                    "its base could not be recovered",
                );
            }
        },
    };
    change.action = action;
    change.reason = reason;
    change
}

fn conflict(
    mut change: Change,
    base: Option<&[u8]>,
    ours: &[u8],
    theirs: &[u8],
    to: Level,
    labels: &Labels,
    reason: &'static str,
) -> Change {
    change.reason = reason;
    change.conflict_sides = Some(ConflictSides {
        base: base.map(<[u8]>::to_vec),
        theirs: theirs.to_vec(),
    });
    match merge::merge(change.path.as_str(), base, ours, theirs, labels) {
        Merged::Binary => {
            change.action = Action::BinaryConflict;
            change.side_file = Some((side_file_path(&change.path, to), theirs.to_vec()));
        }
        Merged::Conflicted {
            content,
            conflicts,
            strategy,
        } => {
            change.action = Action::Conflict;
            change.conflicts = conflicts;
            change.strategy = Some(strategy);
            change.write = Some(content);
        }
        Merged::Clean { .. } => {
            // Without a base, a clean merge means one side contains the other; still not a
            // decision to take for the user silently: the whole of both, between markers.
            let mut text = String::new();
            let lines = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
            let (ours_text, theirs_text) = (lines(ours), lines(theirs));
            merge::write_whole_conflict(&mut text, &ours_text, &theirs_text, labels);
            change.action = Action::Conflict;
            change.conflicts = 1;
            change.strategy = Some(Strategy::Lines);
            change.write = Some(text.into_bytes());
        }
    }
    change
}

fn orphan(
    path: &RelPath,
    ownership: Ownership,
    base: Option<&Base>,
    ours: Option<&OursFile>,
) -> Change {
    let (action, reason) = match ours {
        None => (Action::Unchanged, "no longer generated, and already gone"),
        Some(_) => (Action::Orphan, "no longer generated: kept as yours"),
    };
    Change {
        action,
        reason,
        executable: ours.is_some_and(|ours| ours.executable),
        ..unchanged(path, ownership, base, ours)
    }
}

/// A change that writes nothing, before it is classified.
fn unchanged(
    path: &RelPath,
    ownership: Ownership,
    base: Option<&Base>,
    ours: Option<&OursFile>,
) -> Change {
    Change {
        path: path.clone(),
        moved_to: None,
        action: Action::Unchanged,
        ownership,
        base_source: base.map_or(BaseSource::None, |base| base.source),
        before: ours.map(|ours| ours.content.clone()),
        write: None,
        executable: false,
        side_file: None,
        conflicts: 0,
        strategy: None,
        conflict_sides: None,
        reason: "",
    }
}

fn next_manifest(input: &StepInput<'_>, changes: &[Change]) -> Manifest {
    let mut manifest = input.manifest.clone();
    manifest.level = input.to;
    crate::project::manifest::GENERATOR_VERSION.clone_into(&mut manifest.generator_version);
    let action = if input.from == input.to {
        "update"
    } else {
        "upgrade"
    };
    manifest.history.push(Manifest::step(action, input.to));
    manifest.files = input
        .theirs
        .iter()
        .map(|(path, entry)| {
            let recorded = input.manifest.files.get(path);
            let ownership = recorded.map_or(entry.ownership, |record| record.ownership);
            (
                path.clone(),
                FileRecord {
                    ownership,
                    level: entry.level,
                    blob: entry.blob_id(),
                    moved_to: recorded.and_then(|record| record.moved_to.clone()),
                },
            )
        })
        .collect();
    // Records an adoption made ahead of this level wait for theirs.
    manifest.files.extend(
        input
            .manifest
            .files
            .iter()
            .filter(|(path, record)| adoption::is_ahead(record) && input.theirs.get(path).is_none())
            .map(|(path, record)| (path.clone(), record.clone())),
    );
    debug_assert!(changes.iter().all(
        |change| change.action != Action::Orphan || !manifest.files.contains_key(&change.path)
    ));
    manifest
}

/// After the step, every generated file whose content differs from what the generator produced
/// keeps that production in `.mlops/base/`, so the next upgrade has its exact base even in a
/// fresh clone with a newer generator. Files that match it need no entry.
fn base_store_updates(
    input: &StepInput<'_>,
    changes: &[Change],
) -> BTreeMap<RelPath, Option<Vec<u8>>> {
    let mut updates = BTreeMap::new();
    for change in changes {
        let generated = input.theirs.get(&change.path);
        let after = change.write.as_ref().or(change.before.as_ref());
        let needs_entry = match (generated, after) {
            (Some(generated), Some(after)) => {
                change.ownership == Ownership::Generated && *after != generated.content
            }
            _ => false,
        };
        if needs_entry {
            let content = generated.expect("checked").content.clone();
            updates.insert(change.path.clone(), Some(content));
        } else if input.stored_bases.contains(&change.path) {
            updates.insert(change.path.clone(), None);
        }
    }
    for stale in input.stored_bases {
        if !changes.iter().any(|change| &change.path == stale) {
            updates.insert(stale.clone(), None);
        }
    }
    updates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::example;
    use crate::project::blob_id;
    use crate::upgrade::base::rendered_bases;

    fn path(text: &str) -> RelPath {
        RelPath::new(text).unwrap()
    }

    fn tree(files: &[(&str, &str)]) -> Tree {
        let mut tree = Tree::from_texts(files);
        for (name, _) in files.iter().filter(|(name, _)| name.starts_with("seeded")) {
            let mut entry = tree.remove(&path(name)).unwrap();
            entry.ownership = Ownership::Seeded;
            tree.insert(path(name), entry);
        }
        tree
    }

    /// The working tree: non-executable files with these contents.
    fn on_disk(files: &[(&str, &str)]) -> BTreeMap<RelPath, OursFile> {
        files
            .iter()
            .map(|(name, content)| {
                let file = OursFile::regular(content.as_bytes().to_vec(), false);
                (path(name), file)
            })
            .collect()
    }

    /// Plans a step where `base` was generated, `ours` is on disk and `theirs` is next, and
    /// returns `path action` lines.
    fn check(
        base: &[(&str, &str)],
        ours: &[(&str, &str)],
        theirs: &[(&str, &str)],
        expected: &str,
    ) {
        let base_tree = tree(base);
        let manifest = Manifest::for_tree(Level::ZERO, &example(), &base_tree, vec![]);
        let bases = rendered_bases(&base_tree);
        let ours = on_disk(ours);
        let theirs = tree(theirs);
        let input = StepInput {
            from: Level::ZERO,
            to: Level::new(1).unwrap(),
            manifest: &manifest,
            bases: &bases,
            ours: &ours,
            theirs: &theirs,
            stored_bases: &BTreeSet::new(),
        };
        let plan = plan(&input);
        let actual: Vec<String> = plan
            .changes
            .iter()
            .map(|change| format!("{} {}", change.path, change.action.as_str()))
            .collect();
        assert_eq!(actual.join("\n"), expected);
    }

    #[test]
    fn classification() {
        check(
            &[("a", "1\n")],
            &[("a", "1\n")],
            &[("a", "1\n")],
            "a unchanged",
        );
        check(
            &[("a", "1\n")],
            &[("a", "1\n")],
            &[("a", "2\n")],
            "a update",
        );
        check(&[], &[], &[("a", "1\n")], "a create");
        check(&[], &[("a", "1\n")], &[("a", "1\n")], "a adopt");
        check(&[], &[("a", "mine\n")], &[("a", "1\n")], "a conflict");
        check(
            &[("a", "1\n")],
            &[("a", "mine\n")],
            &[("a", "1\n")],
            "a keep",
        );
        check(&[("a", "1\n")], &[("a", "2\n")], &[("a", "2\n")], "a adopt");
        check(&[("a", "1\n")], &[], &[("a", "2\n")], "a skip");
        check(
            &[("a", "1\n2\n3\n4\n")],
            &[("a", "one\n2\n3\n4\n")],
            &[("a", "1\n2\n3\nfour\n")],
            "a merge",
        );
        check(
            &[("a", "1\n")],
            &[("a", "mine\n")],
            &[("a", "theirs\n")],
            "a conflict",
        );
        check(&[("a", "1\n")], &[("a", "mine\n")], &[], "a orphan");
        check(&[("a", "1\n")], &[], &[], "a unchanged");
        check(
            &[("seeded", "1\n")],
            &[("seeded", "mine\n")],
            &[("seeded", "2\n")],
            "seeded keep",
        );
        check(
            &[("seeded", "1\n")],
            &[("seeded", "1\n")],
            &[("seeded", "2\n")],
            "seeded keep",
        );
        check(
            &[("b.bin", "\0x")],
            &[("b.bin", "\0y")],
            &[("b.bin", "\0z")],
            "b.bin binary_conflict",
        );
    }

    #[test]
    fn side_files_sit_beside_the_original() {
        assert_eq!(
            side_file_path(&path("docs/logo.png"), Level::new(2).unwrap()).as_str(),
            "docs/logo.level-2.png"
        );
        assert_eq!(
            side_file_path(&path("Makefile"), Level::new(3).unwrap()).as_str(),
            "Makefile.level-3"
        );
        assert_eq!(
            side_file_path(&path(".env"), Level::new(3).unwrap()).as_str(),
            ".env.level-3"
        );
    }

    #[test]
    fn the_base_store_keeps_what_was_generated_for_diverging_files() {
        let base_tree = tree(&[("kept", "1\n"), ("updated", "1\n")]);
        let manifest = Manifest::for_tree(Level::ZERO, &example(), &base_tree, vec![]);
        let bases = rendered_bases(&base_tree);
        let ours = on_disk(&[("kept", "mine\n"), ("updated", "1\n")]);
        let theirs = tree(&[("kept", "1\n"), ("updated", "2\n")]);
        let stored = BTreeSet::from([path("updated")]);
        let input = StepInput {
            from: Level::ZERO,
            to: Level::new(1).unwrap(),
            manifest: &manifest,
            bases: &bases,
            ours: &ours,
            theirs: &theirs,
            stored_bases: &stored,
        };
        let plan = plan(&input);
        assert_eq!(
            plan.base_store.get(&path("kept")),
            Some(&Some(b"1\n".to_vec()))
        );
        assert_eq!(plan.base_store.get(&path("updated")), Some(&None));
        assert_eq!(plan.manifest.level, Level::new(1).unwrap());
        assert_eq!(plan.manifest.files[&path("updated")].blob, blob_id(b"2\n"));
    }
}
