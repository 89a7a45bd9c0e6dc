//! Adopting a repository that `mlops new` did not make: the manifest it would have had at the
//! level `mlops assess` finds, with the answers its files determine, fitted to where the team
//! keeps things.
//!
//! Only files identical to what the templates generate at that level are recorded as generated;
//! every other existing file at a generated path stays the user's, so the plan shows it as a
//! conflict and never overwrites it. Two kinds of records go further, each with the place the
//! team keeps the file (`moved_to`), so that no second copy of what the team has is added:
//!
//! - The package: when it sits at the top level (`churn/`, not `src/churn/`), every file the
//!   templates generate under `src/<package>/` lives under `<package>/`, at this level and the
//!   ones above: created there, or merged and conflicted there.
//! - Roles: the team's application entry point (a FastAPI or Flask app), what gathers its data (a
//!   DVC pipeline or import, an ingest module) and its CI pipeline that runs the tests are the
//!   team's. The templates' files for the same role (`app.py` and its tests, `data/ingest.py`, its
//!   configuration and tests, the CI workflow) are recorded as the team's own file, seeded: the
//!   plan keeps the team's file and does not add the template's, saying why. Files that refer to
//!   the template's module (the Makefile's targets, the Dockerfile) are still merged as usual.
//!
//! A record for a file the templates have not generated yet (one of a level above, or the team's
//! own file for a role) is recorded *ahead*, with git's null blob id: nothing was generated for
//! it. The plan reads an ahead record as having no base ([`is_ahead`]), carries it until a level
//! generates the file, and keeps an ahead seeded record's file as the team's; `update` does not
//! count it as generated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::derive::{self, Evidence};
use crate::answers::{self, AnswerArgs, AnswerKey};
use crate::assess::{self, Roles};
use crate::level::Level;
use crate::project::manifest::{FileRecord, Manifest};
use crate::project::read::{self, FileRead, Follow};
use crate::project::{Ownership, RelPath, Tree, git};
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

/// The blob id of an ahead record: git's null id, no content.
const NOTHING_GENERATED: &str = "0000000000000000000000000000000000000000";

/// Whether `record` is ahead: recorded by an adoption for a file the templates have not
/// generated yet, one of a level above or one whose role the team's own file fills. It has no
/// base: nothing was generated for it.
pub(super) fn is_ahead(record: &FileRecord) -> bool {
    record.blob == NOTHING_GENERATED
}

/// Why the plan keeps the team's file for an ahead seeded record.
pub(super) const TEAMS_ROLE: &str =
    "the team's own file for this role: the template's is not added";

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
    let packages = python_packages(&root);
    let origin_url = origin_url(&root);
    let evidence = Evidence {
        pyproject: pyproject.as_deref(),
        setup_cfg: setup_cfg.as_deref(),
        setup_py: setup_py.as_deref(),
        packages: packages.clone(),
        directory_name: &directory_name,
        origin_url: origin_url.as_deref(),
    };
    let assessment = assess::assess_repository(&root)?;
    let assessed_level = Level::new(assessment.level).unwrap_or(Level::ZERO);

    let mut derived = derive::derive(&evidence);
    derived.insert(AnswerKey::Level, assessed_level.to_string());
    let (level, answers) = answers::gather(
        args,
        derived,
        Some(directory_name.clone()),
        templates.level_labels(),
    )?;

    let placement = Placement::new(&answers.package_name, &packages, &assessment.roles());
    let mut identical = Tree::new();
    let mut placed: BTreeMap<RelPath, FileRecord> = BTreeMap::new();
    for (path, entry) in &templates.render(level, &answers)? {
        let (location, role) = placement.place(path);
        let on_disk = read::read_file(
            &root.join(location.as_str()),
            read::DEFAULT_LIMIT,
            Follow::No,
        );
        let same = matches!(on_disk, Ok(FileRead::Regular(content)) if content == entry.content);
        match (location == *path, role) {
            (true, _) if same => {
                identical.insert(path.clone(), entry.clone());
            }
            (true, _) => {}
            (false, None) if same => {
                let mut record = ahead(level, entry.ownership, location);
                record.level = entry.level;
                record.blob = entry.blob_id();
                placed.insert(path.clone(), record);
            }
            (false, None) => {
                placed.insert(path.clone(), ahead(level, entry.ownership, location));
            }
            (false, Some(_)) => {
                placed.insert(path.clone(), ahead(level, Ownership::Seeded, location));
            }
        }
    }
    // What the levels above generate where the team keeps it, recorded ahead.
    let mut above = level.next();
    while let Some(later) = above.filter(|later| *later <= templates.highest_level()) {
        for (path, entry) in &templates.render(later, &answers)? {
            let (location, role) = placement.place(path);
            if location == *path || placed.contains_key(path) {
                continue;
            }
            let ownership = if role.is_some() {
                Ownership::Seeded
            } else {
                entry.ownership
            };
            placed.insert(path.clone(), ahead(level, ownership, location));
        }
        above = later.next();
    }
    let mut manifest = Manifest::for_tree(
        level,
        &answers,
        &identical,
        vec![Manifest::step("adopt", level)],
    );
    manifest.files.extend(placed);
    Ok(Adoption {
        root,
        manifest,
        assessed_level,
    })
}

/// An ahead record of the file the team keeps at `location`, at the adopted `level` (the level a
/// record names is the project's or below; the step that generates the file records its own).
fn ahead(level: Level, ownership: Ownership, location: RelPath) -> FileRecord {
    FileRecord {
        ownership,
        level,
        blob: NOTHING_GENERATED.to_owned(),
        moved_to: Some(location),
    }
}

/// Where the team keeps what the templates generate.
struct Placement {
    /// `src/<package>/`, when the package sits at the top level instead.
    top_level_package: Option<String>,
    /// Template path to the team's file for the same role, and the role.
    roles: BTreeMap<String, (RelPath, &'static str)>,
}

impl Placement {
    fn new(package: &str, packages: &[String], roles: &Roles) -> Self {
        let under_src = packages
            .iter()
            .any(|found| *found == format!("src/{package}"));
        let at_top = packages.iter().any(|found| found == package);
        let top_level_package = (at_top && !under_src).then(|| package.to_owned());
        let mut by_template = BTreeMap::new();
        let groups: [(&Option<String>, &'static str, Vec<String>); 3] = [
            (
                &roles.app,
                "application",
                vec![
                    format!("src/{package}/app.py"),
                    "tests/test_app.py".to_owned(),
                ],
            ),
            (
                &roles.data,
                "data gathering",
                vec![
                    format!("src/{package}/data/ingest.py"),
                    "configs/ingest.yaml".to_owned(),
                    "tests/test_ingest.py".to_owned(),
                ],
            ),
            (
                &roles.tests_ci,
                "tests in CI",
                vec![".github/workflows/ci.yml".to_owned()],
            ),
        ];
        for (team_file, role, template_paths) in groups {
            let Some(team_file) = team_file
                .as_deref()
                .and_then(|file| RelPath::new(file).ok())
            else {
                continue;
            };
            // The team's file at the template's own path is no second copy: it merges there.
            if template_paths.iter().any(|path| path == team_file.as_str()) {
                continue;
            }
            for path in template_paths {
                by_template.insert(path, (team_file.clone(), role));
            }
        }
        Self {
            top_level_package,
            roles: by_template,
        }
    }

    /// Where the file the templates generate at `path` goes, and the role the team's file
    /// plays there, if it is the team's file for a role.
    fn place(&self, path: &RelPath) -> (RelPath, Option<&'static str>) {
        if let Some((team_file, role)) = self.roles.get(path.as_str()) {
            return (team_file.clone(), Some(role));
        }
        let relocated = self.top_level_package.as_ref().and_then(|package| {
            let rest = path.as_str().strip_prefix(&format!("src/{package}/"))?;
            RelPath::new(&format!("{package}/{rest}")).ok()
        });
        (relocated.unwrap_or_else(|| path.clone()), None)
    }
}

/// The URL of git's `origin` remote of the repository holding `root`, if there is one.
fn origin_url(root: &Path) -> Option<String> {
    let repository = git2::Repository::discover(root).ok()?;
    let remote = repository.find_remote("origin").ok()?;
    remote.url().ok().map(str::to_owned)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> RelPath {
        RelPath::new(text).unwrap()
    }

    fn check(placement: &Placement, cases: &[(&str, &str, Option<&str>)]) {
        for (template, expected, role) in cases {
            let (location, found_role) = placement.place(&path(template));
            assert_eq!(
                (location.as_str(), found_role),
                (*expected, *role),
                "{template}"
            );
        }
    }

    #[test]
    fn the_package_and_the_roles_are_where_the_team_keeps_them() {
        let roles = Roles {
            app: Some("main.py".to_owned()),
            data: Some("dvc.yaml".to_owned()),
            tests_ci: Some(".gitlab-ci.yml".to_owned()),
        };
        let placement = Placement::new("churn", &["churn".to_owned(), "tests".to_owned()], &roles);
        check(
            &placement,
            &[
                ("src/churn/train.py", "churn/train.py", None),
                ("src/churn/data/__init__.py", "churn/data/__init__.py", None),
                ("src/churn/app.py", "main.py", Some("application")),
                ("tests/test_app.py", "main.py", Some("application")),
                (
                    "src/churn/data/ingest.py",
                    "dvc.yaml",
                    Some("data gathering"),
                ),
                ("configs/ingest.yaml", "dvc.yaml", Some("data gathering")),
                (
                    ".github/workflows/ci.yml",
                    ".gitlab-ci.yml",
                    Some("tests in CI"),
                ),
                ("src/churnx/app.py", "src/churnx/app.py", None),
                ("pyproject.toml", "pyproject.toml", None),
            ],
        );
        // A `src/` layout stays; a team file at the template's path merges there.
        let placement = Placement::new(
            "churn",
            &["src/churn".to_owned()],
            &Roles {
                app: Some("src/churn/app.py".to_owned()),
                ..Roles::default()
            },
        );
        check(
            &placement,
            &[
                ("src/churn/train.py", "src/churn/train.py", None),
                ("src/churn/app.py", "src/churn/app.py", None),
                ("tests/test_app.py", "tests/test_app.py", None),
            ],
        );
    }
}
