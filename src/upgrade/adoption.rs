//! Adopting a repository that `mlops new` did not make: the manifest it would have had at the
//! level `mlops assess` finds, with the answers its files determine.
//!
//! Only files identical to what the templates generate at that level are recorded as generated;
//! every other existing file at a generated path stays the user's, so the plan shows it as a
//! conflict and never overwrites it.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::derive::{self, Evidence};
use crate::answers::{self, AnswerArgs, AnswerKey};
use crate::assess;
use crate::level::Level;
use crate::project::manifest::Manifest;
use crate::project::read::{self, FileRead, Follow};
use crate::project::{Tree, git};
use crate::templates::Templates;

/// A repository ready to plan like a managed project.
pub(super) struct Adoption {
    pub(super) root: PathBuf,
    /// The manifest it would have had at its assessed level: the answers derived from it, and
    /// as generated files only those identical to what the templates produce.
    pub(super) manifest: Manifest,
    pub(super) assessed_level: Level,
}

/// The largest packaging file read for answers; a real one is a few KiB.
const METADATA_LIMIT: u64 = 1024 * 1024;

pub(super) fn adopt(
    start: &Path,
    args: AnswerArgs<'_>,
    templates: &Templates<'_>,
) -> anyhow::Result<Adoption> {
    let root = adoption_root(start)?;
    let read_text = |name: &str| match read::read_file(&root.join(name), METADATA_LIMIT, Follow::No)
    {
        Ok(FileRead::Regular(content)) => String::from_utf8(content).ok(),
        _ => None,
    };
    let (pyproject, setup_cfg, setup_py) = (
        read_text("pyproject.toml"),
        read_text("setup.cfg"),
        read_text("setup.py"),
    );
    let directory_name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let evidence = Evidence {
        pyproject: pyproject.as_deref(),
        setup_cfg: setup_cfg.as_deref(),
        setup_py: setup_py.as_deref(),
        packages: python_packages(&root),
        directory_name: &directory_name,
    };
    let assessed_level = Level::new(assess::assess_repository(&root)?.level).unwrap_or(Level::ZERO);

    let mut derived = derive::derive(&evidence);
    derived.insert(AnswerKey::Level, assessed_level.to_string());
    let (level, answers) = answers::gather(
        args,
        derived,
        Some(directory_name.clone()),
        templates.level_labels(),
    )?;

    let mut identical = Tree::new();
    for (path, entry) in &templates.render(level, &answers)? {
        let on_disk = read::read_file(&root.join(path.as_str()), read::DEFAULT_LIMIT, Follow::No);
        if matches!(on_disk, Ok(FileRead::Regular(content)) if content == entry.content) {
            identical.insert(path.clone(), entry.clone());
        }
    }
    let manifest = Manifest::for_tree(
        level,
        &answers,
        &identical,
        vec![Manifest::step("adopt", level)],
    );
    Ok(Adoption {
        root,
        manifest,
        assessed_level,
    })
}

/// The directory to adopt: the nearest one at or above `start`, within its git work tree, that
/// has Python packaging metadata; else the work tree's root; else `start`.
fn adoption_root(start: &Path) -> anyhow::Result<PathBuf> {
    let start = start
        .canonicalize()
        .with_context(|| format!("could not resolve `{}`", start.display()))?;
    let Some(work_tree) = git::work_tree_of(&start).and_then(|tree| tree.canonicalize().ok())
    else {
        return Ok(start);
    };
    let has_metadata = |directory: &Path| {
        ["pyproject.toml", "setup.py", "setup.cfg"]
            .iter()
            .any(|name| directory.join(name).is_file())
    };
    for directory in start.ancestors() {
        if has_metadata(directory) {
            return Ok(directory.to_path_buf());
        }
        if directory == work_tree {
            break;
        }
    }
    Ok(work_tree)
}

/// Directories with an `__init__.py` under `src/` or at the top level: `src/name` or `name`.
fn python_packages(root: &Path) -> Vec<String> {
    let mut packages = Vec::new();
    for (prefix, directory) in [("src/", root.join("src")), ("", root.to_path_buf())] {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().join("__init__.py").is_file() && !name.starts_with('.') {
                packages.push(format!("{prefix}{name}"));
            }
        }
    }
    packages.sort();
    packages
}
