//! `mlops upgrade [PATH]`: take a project up one level at a time, merging each level's template
//! changes into the user's files.
//!
//! Every step is planned in memory first, against a view of the project that already includes the
//! earlier steps, so a dry run and a real run compute the same plans; then the checks (manifest,
//! levels, uncommitted changes) run; only then is anything written, by `apply`, manifest last.
//! A step that leaves conflicts is the last one: later levels wait until they are resolved.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::answers::{self, Given, LEVEL_KEY};
use crate::apply::{self, FileWrite};
use crate::cli::{Format, UpgradeArgs};
use crate::commands::new;
use crate::exit::{ExitStatus, Refused, Usage};
use crate::manifest::{MANIFEST_PATH, Manifest};
use crate::plan::{self, OursFile, Plan, StepInput, base_store_path};
use crate::preview::{self, Outcome};
use crate::prompt::TerminalPrompter;
use crate::tree::{RelPath, Tree};
use crate::{adopt, assess, base, bundle, git, render};

pub fn run(args: &UpgradeArgs) -> anyhow::Result<ExitStatus> {
    let start = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    if !start.is_dir() {
        return Err(Usage(format!("`{}` is not a directory", start.display())).into());
    }
    let (root, manifest, adopted) = if let Some(root) = find_project_root(&start)? {
        if !args.set.is_empty() || args.answers.is_some() {
            return Err(Usage(format!(
                "`--set` and `--answers` apply only when adopting a repository without a manifest; this \
                 project's answers are recorded in `{MANIFEST_PATH}`"
            ))
            .into());
        }
        let manifest_path = root.join(MANIFEST_PATH);
        let text = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("could not read `{}`", manifest_path.display()))?;
        let manifest = Manifest::parse(&text, &manifest_path.display().to_string())?;
        (root, manifest, None)
    } else {
        let adoption = adopt_repository(&start, args)?;
        (
            adoption.root,
            adoption.manifest,
            Some(adoption.assessed_level),
        )
    };
    let target = target_level(manifest.level, args.to)?;
    let repository = git::repository_of(&root);

    let mut workspace = Workspace {
        root: root.clone(),
        overlay: BTreeMap::new(),
    };
    let plans = plan_steps(&manifest, target, &mut workspace, repository.as_ref())?;
    let has_conflicts = plans.last().is_some_and(Plan::has_conflicts);

    if !args.dry_run {
        check_clean(&root, repository.as_ref(), &plans, args.allow_dirty)?;
    }
    let outcome = match (args.dry_run, has_conflicts) {
        (true, _) => Outcome::DryRun,
        (false, true) => Outcome::Conflicts,
        (false, false) => Outcome::Applied,
    };
    let mut committed = false;
    if !args.dry_run {
        committed = write(&root, repository.as_ref(), &plans, args.commit)?;
    }
    print(
        args.format,
        &manifest,
        &root,
        &plans,
        outcome,
        committed,
        adopted,
    )?;
    Ok(if outcome == Outcome::Conflicts {
        ExitStatus::Conflicts
    } else {
        ExitStatus::Success
    })
}

/// The nearest directory at or above `start` that holds a manifest, or `None` if there is none
/// and the repository never had one (it is then adopted). A manifest deleted from a project that
/// git knows had one is refused instead, with the way back.
fn find_project_root(start: &Path) -> anyhow::Result<Option<PathBuf>> {
    let absolute = start
        .canonicalize()
        .with_context(|| format!("could not resolve `{}`", start.display()))?;
    for directory in absolute.ancestors() {
        if directory.join(MANIFEST_PATH).is_file() {
            return Ok(Some(directory.to_path_buf()));
        }
    }
    if let Some(deleted) =
        git::repository_of(&absolute).and_then(|repository| deleted_manifest(&repository))
    {
        return Err(Refused(format!(
            "`{}` is gone from the working tree but committed in git: restore it with `git checkout -- {}`, \
             then run `mlops upgrade` again",
            deleted.display(),
            deleted.display()
        ))
        .into());
    }
    Ok(None)
}

/// A repository `mlops new` did not make, ready to plan like a managed project.
struct Adoption {
    root: PathBuf,
    /// The manifest it would have had at its assessed level: the answers derived from it, and
    /// the files that are exactly what that level generates.
    manifest: Manifest,
    assessed_level: u8,
}

/// Derives the answers, assesses the starting level, and records as generated the files the
/// repository has exactly as that level would generate them (an exact base, since they are
/// identical); every other file stays the user's.
fn adopt_repository(start: &Path, args: &UpgradeArgs) -> anyhow::Result<Adoption> {
    let root = adoption_root(start)?;
    let read = |name: &str| std::fs::read_to_string(root.join(name)).ok();
    let (pyproject, setup_cfg, setup_py) =
        (read("pyproject.toml"), read("setup.cfg"), read("setup.py"));
    let directory_name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let evidence = adopt::Evidence {
        pyproject: pyproject.as_deref(),
        setup_cfg: setup_cfg.as_deref(),
        setup_py: setup_py.as_deref(),
        packages: python_packages(&root),
        directory_name: &directory_name,
    };
    let assessed_level = assess::assess_repository(&root)?.level;

    let mut given = Given {
        derived: adopt::derive(&evidence),
        ..Given::default()
    };
    given
        .derived
        .insert(LEVEL_KEY.to_owned(), assessed_level.to_string());
    given.flags = args.set.iter().cloned().collect();
    new::read_answers_file(&mut given, args.answers.as_deref())?;
    let defaults = new::machine_defaults(&root);
    let (level, answers) = if !args.no_input && std::io::stdin().is_terminal() {
        let mut prompter = TerminalPrompter {
            level_labels: new::level_labels(),
        };
        answers::resolve(&given, &defaults, Some(&mut prompter))?
    } else {
        answers::resolve(&given, &defaults, None)?
    };

    let mut identical = Tree::new();
    for (path, entry) in &render::render(level, &answers)? {
        if std::fs::read(root.join(path.as_str())).is_ok_and(|content| content == entry.content) {
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

/// A manifest that HEAD has and the working tree lacks, as a path relative to the work tree.
fn deleted_manifest(repository: &git2::Repository) -> Option<PathBuf> {
    let workdir = repository.workdir()?;
    let tree = repository.head().ok()?.peel_to_tree().ok()?;
    let mut found = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |directory, entry| {
        let path = Path::new(directory).join(entry.name().unwrap_or_default());
        if path.ends_with(MANIFEST_PATH) && !workdir.join(&path).exists() {
            found = Some(path);
            return git2::TreeWalkResult::Abort;
        }
        git2::TreeWalkResult::Ok
    })
    .ok();
    found
}

fn target_level(current: u8, requested: Option<u8>) -> anyhow::Result<u8> {
    let highest = bundle::highest_level();
    if current >= highest && requested.is_none_or(|to| to >= current) {
        return Err(Refused(format!(
            "the project is already at level {current}, the highest level: there is nothing to upgrade to"
        ))
        .into());
    }
    match requested {
        None => Ok(current + 1),
        Some(to) if to < current => Err(Refused(format!(
            "the project is at level {current}; `--to {to}` would go down a level, which upgrades never do"
        ))
        .into()),
        Some(to) if to == current => {
            Err(Refused(format!("the project is already at level {current}: pass `--to {}` or higher", current + 1)).into())
        }
        Some(to) if to > highest => {
            Err(Usage(format!("level {to} has no template bundle in this build: the highest is {highest}")).into())
        }
        Some(to) => Ok(to),
    }
}

/// The project's files as they are on disk, plus what earlier planned steps would write.
struct Workspace {
    root: PathBuf,
    overlay: BTreeMap<RelPath, Option<OursFile>>,
}

impl Workspace {
    fn read(&self, path: &RelPath) -> anyhow::Result<Option<OursFile>> {
        if let Some(planned) = self.overlay.get(path) {
            return Ok(planned.clone());
        }
        let full = self.root.join(path.as_str());
        match std::fs::read(&full) {
            Ok(content) => Ok(Some(OursFile {
                content,
                executable: is_executable(&full),
            })),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error).with_context(|| format!("could not read `{path}`")),
        }
    }

    fn stored_base(&self, path: &RelPath) -> Option<Vec<u8>> {
        self.read(&base_store_path(path))
            .ok()
            .flatten()
            .map(|file| file.content)
    }

    /// Records what `plan` writes, so later steps see it.
    fn apply(&mut self, plan: &Plan) {
        for (path, write) in writes_of(plan) {
            let file = match write {
                FileWrite::Write {
                    content,
                    executable,
                } => Some(OursFile {
                    content,
                    executable,
                }),
                FileWrite::Remove => None,
            };
            self.overlay.insert(path, file);
        }
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|metadata| metadata.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

fn plan_steps(
    recorded: &Manifest,
    target: u8,
    workspace: &mut Workspace,
    repository: Option<&git2::Repository>,
) -> anyhow::Result<Vec<Plan>> {
    let rendered_base = render::render(recorded.level, &recorded.answers).ok();
    let stored = |path: &RelPath| workspace.stored_base(path);
    let from_git = |blob: &str| repository.and_then(|repository| git::find_blob(repository, blob));
    let mut bases = base::recover(recorded, rendered_base.as_ref(), &stored, &from_git);

    let mut manifest = recorded.clone();
    let mut plans = Vec::new();
    for to in manifest.level + 1..=target {
        let theirs = render::render(to, &manifest.answers)?;
        let paths: BTreeSet<&RelPath> = manifest.files.keys().chain(theirs.paths()).collect();
        let mut ours = BTreeMap::new();
        for path in paths {
            if let Some(file) = workspace.read(path)? {
                ours.insert(path.clone(), file);
            }
        }
        let stored_bases: BTreeSet<RelPath> = manifest
            .files
            .keys()
            .chain(theirs.paths())
            .filter(|path| workspace.stored_base(path).is_some())
            .cloned()
            .collect();
        let plan = plan::plan(&StepInput {
            from: manifest.level,
            to,
            manifest: &manifest,
            bases: &bases,
            ours: &ours,
            theirs: &theirs,
            stored_bases: &stored_bases,
        });
        workspace.apply(&plan);
        manifest = plan.manifest.clone();
        // The next step's base is exactly what this step generated.
        bases = plan::rendered_bases(&theirs);
        let stop = plan.has_conflicts();
        plans.push(plan);
        if stop {
            break;
        }
    }
    Ok(plans)
}

/// Every file a plan writes or removes: changed files, binary side files, the base store and the
/// manifest.
fn writes_of(plan: &Plan) -> BTreeMap<RelPath, FileWrite> {
    let mut writes = BTreeMap::new();
    for change in &plan.changes {
        if let Some(content) = &change.write {
            writes.insert(
                change.path.clone(),
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
    for (path, content) in &plan.base_store {
        let write = match content {
            Some(content) => FileWrite::Write {
                content: content.clone(),
                executable: false,
            },
            None => FileWrite::Remove,
        };
        writes.insert(base_store_path(path), write);
    }
    let manifest_path = RelPath::new(MANIFEST_PATH).expect("valid");
    writes.insert(
        manifest_path,
        FileWrite::Write {
            content: plan.manifest.to_toml().into_bytes(),
            executable: false,
        },
    );
    writes
}

/// Refuses to write over changes git does not have, unless told to.
fn check_clean(
    root: &Path,
    repository: Option<&git2::Repository>,
    plans: &[Plan],
    allow_dirty: bool,
) -> anyhow::Result<()> {
    if allow_dirty {
        return Ok(());
    }
    let Some(repository) = repository else {
        return Err(Refused(format!(
            "`{}` is not in a git repository, so nothing could restore your files if the merge is not what you \
             want: commit the project to git first, or pass `--allow-dirty`",
            root.display()
        ))
        .into());
    };
    let mut written: BTreeSet<RelPath> = BTreeSet::new();
    for plan in plans {
        written.extend(plan.written_paths());
    }
    let dirty = git::uncommitted(repository, root, written.iter().map(RelPath::as_str))?;
    if dirty.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = dirty.iter().map(|path| format!("`{path}`")).collect();
    Err(Refused(format!(
        "uncommitted changes to files this upgrade would write: {}: commit or stash them first (the dry run, \
         `mlops upgrade --dry-run`, shows the plan without writing), or pass `--allow-dirty`",
        listed.join(", ")
    ))
    .into())
}

/// Writes the plans; returns whether they were committed. Without `--commit` the final state is
/// written as one transaction; with it, each step is written and committed in turn, except a
/// step with conflicts, which is left for the user to resolve.
fn write(
    root: &Path,
    repository: Option<&git2::Repository>,
    plans: &[Plan],
    commit: bool,
) -> anyhow::Result<bool> {
    let manifest_path = RelPath::new(MANIFEST_PATH).expect("valid");
    if !commit {
        let mut all = BTreeMap::new();
        for plan in plans {
            all.extend(writes_of(plan));
        }
        apply::write_transaction(root, &all, &manifest_path)?;
        return Ok(false);
    }
    let repository = repository.context("`--commit` needs a git repository")?;
    let mut committed = false;
    for plan in plans {
        let writes = writes_of(plan);
        apply::write_transaction(root, &writes, &manifest_path)?;
        if plan.has_conflicts() {
            break;
        }
        let message = format!("Upgrade to MLOps level {}", plan.to);
        git::commit_paths(
            repository,
            root,
            writes.keys().map(RelPath::as_str),
            &message,
        )
        .with_context(|| format!("level {} was written but not committed", plan.to))?;
        committed = true;
    }
    Ok(committed)
}

fn print(
    format: Format,
    manifest: &Manifest,
    root: &Path,
    plans: &[Plan],
    outcome: Outcome,
    committed: bool,
    adopted: Option<u8>,
) -> anyhow::Result<()> {
    let mut out = anstream::stdout().lock();
    match format {
        Format::Text => {
            let diffs = outcome == Outcome::DryRun;
            if let Some(level) = adopted {
                writeln!(
                    out,
                    "`{}` has no `{MANIFEST_PATH}`: adopting it at level {level}, the level `mlops assess` finds; \
                     your existing files are yours, so any that differs from what the templates generate is a \
                     conflict, never overwritten\n",
                    root.display()
                )?;
            }
            write!(
                out,
                "{}",
                preview::text(&manifest.answers.project_name, plans, outcome, diffs)
            )?;
            if committed {
                writeln!(out, "committed each level as \"Upgrade to MLOps level N\"")?;
            } else if outcome == Outcome::Applied {
                writeln!(
                    out,
                    "review with `git diff`, then commit (or run with `--commit` next time)"
                )?;
            }
        }
        Format::Json => {
            let report = preview::Report {
                schema_version: 1,
                project_name: &manifest.answers.project_name,
                root: root.display().to_string(),
                dry_run: outcome == Outcome::DryRun,
                outcome,
                from_level: manifest.level,
                to_level: plans.last().map_or(manifest.level, |plan| plan.to),
                committed,
                adopted_at_level: adopted,
                conflicted_paths: plans
                    .iter()
                    .flat_map(Plan::conflicted_paths)
                    .map(ToString::to_string)
                    .collect(),
                steps: plans.iter().map(preview::step_report).collect(),
            };
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
    }
    Ok(())
}
