//! `mlops new PATH`: gather the answers, render the level, and write the project, or print what
//! would be written.
//!
//! Every check that can refuse happens before anything is written, and the write itself is staged
//! (see `apply.rs`), so a failed `new` leaves the target exactly as it was.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Component, Path};

use anyhow::Context as _;
use serde::Serialize;

use crate::answers::{self, Answers, Defaults, Given, LEVEL_KEY};
use crate::cli::{Format, NewArgs};
use crate::exit::{ExitStatus, Refused, Usage};
use crate::manifest::{MANIFEST_PATH, Manifest};
use crate::prompt::TerminalPrompter;
use crate::tree::{Entry, Ownership, RelPath, human_size};
use crate::{apply, bundle, git, render};

/// What `new` will do with git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum GitAction {
    /// Create a repository and commit the project.
    Init,
    /// The target is inside an existing work tree: leave committing to the user.
    InsideWorkTree,
    /// `--no-git`.
    None,
}

#[derive(Serialize)]
struct FileReport<'a> {
    path: &'a str,
    size: usize,
    ownership: &'a str,
    executable: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    action: &'static str,
    dry_run: bool,
    path: String,
    level: u8,
    level_name: &'a str,
    git: GitAction,
    answers: &'a Answers,
    total_size: u64,
    files: Vec<FileReport<'a>>,
}

pub fn run(args: &NewArgs) -> anyhow::Result<ExitStatus> {
    let target = &args.path;
    check_target_path(target)?;
    check_target_is_free(target)?;

    let given = gather_given(args)?;
    let defaults = machine_defaults(target);
    let interactive = !args.no_input && std::io::stdin().is_terminal();
    let (level, answers) = if interactive {
        let mut prompter = TerminalPrompter {
            level_labels: level_labels(),
        };
        answers::resolve(&given, &defaults, Some(&mut prompter))?
    } else {
        answers::resolve(&given, &defaults, None)?
    };

    let mut tree = render::render(level, &answers)?;
    let manifest = Manifest::for_tree(level, &answers, &tree, vec![Manifest::step("new", level)]);
    tree.insert(
        RelPath::new(MANIFEST_PATH).expect("the manifest path is valid"),
        Entry {
            content: manifest.to_toml().into_bytes(),
            executable: false,
            ownership: Ownership::Generated,
            level,
        },
    );

    let git_action = if args.no_git {
        GitAction::None
    } else if git::work_tree_of(parent_of(target)).is_some() {
        GitAction::InsideWorkTree
    } else {
        GitAction::Init
    };
    let meta = &bundle::get(level)
        .expect("a rendered level has a bundle")
        .meta;
    let report = Report {
        action: "new",
        dry_run: args.dry_run,
        path: target.display().to_string(),
        level,
        level_name: &meta.name,
        git: git_action,
        answers: &answers,
        total_size: tree.total_size(),
        files: tree
            .iter()
            .map(|(path, entry)| FileReport {
                path: path.as_str(),
                size: entry.content.len(),
                ownership: entry.ownership.as_str(),
                executable: entry.executable,
            })
            .collect(),
    };

    if !args.dry_run {
        let message = format!(
            "Generate MLOps level {level} project ({}) with mlops-scaffold {}",
            meta.name,
            env!("CARGO_PKG_VERSION")
        );
        apply::write_new_project(target, &tree, |staged| match git_action {
            GitAction::Init => git::init_and_commit(staged, &message),
            GitAction::InsideWorkTree | GitAction::None => Ok(()),
        })?;
    }

    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => print_text(&mut out, &report, &meta.next_steps)?,
    }
    Ok(ExitStatus::Success)
}

/// A path such as `my/../x` walks into a directory and back out: refuse it rather than guess
/// which directory was meant.
fn check_target_path(target: &Path) -> anyhow::Result<()> {
    let mut seen_normal = false;
    for component in target.components() {
        match component {
            Component::Normal(_) => seen_normal = true,
            Component::ParentDir if seen_normal => {
                return Err(Usage(format!(
                    "target path `{}` goes into a directory and back out with `..`: give the path without it",
                    target.display()
                ))
                .into());
            }
            _ => {}
        }
    }
    if target.file_name().is_none() {
        return Err(Usage(format!(
            "target path `{}` does not end in a directory name",
            target.display()
        ))
        .into());
    }
    Ok(())
}

fn check_target_is_free(target: &Path) -> anyhow::Result<()> {
    let shown = target.display();
    match std::fs::symlink_metadata(target) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("could not inspect the target `{shown}`"));
        }
        Ok(metadata) if metadata.is_dir() => {
            let mut entries =
                std::fs::read_dir(target).with_context(|| format!("could not list `{shown}`"))?;
            if entries.next().is_some() {
                return Err(Refused(format!(
                    "target `{shown}` already exists and is not empty: choose a new directory, or run \
                     `mlops upgrade {shown}` to take an existing project to its next level"
                ))
                .into());
            }
        }
        Ok(_) => {
            return Err(Refused(format!(
                "target `{shown}` exists and is not a directory: choose another path"
            ))
            .into());
        }
    }
    let parent = parent_of(target);
    if !parent.is_dir() {
        return Err(Usage(format!(
            "the parent directory `{}` does not exist: create it first",
            parent.display()
        ))
        .into());
    }
    Ok(())
}

fn parent_of(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Reads `--answers FILE` into `given`; shared with `upgrade`, which takes it when adopting.
pub(crate) fn read_answers_file(given: &mut Given, path: Option<&Path>) -> anyhow::Result<()> {
    if let Some(path) = path {
        let text = std::fs::read_to_string(path).map_err(|error| {
            Usage(format!(
                "cannot read the answers file `{}`: {error}",
                path.display()
            ))
        })?;
        given.file = answers::parse_answers_file(path, &text)?;
        given.file_path = Some(path.display().to_string());
    }
    Ok(())
}

fn gather_given(args: &NewArgs) -> anyhow::Result<Given> {
    let mut given = Given::default();
    read_answers_file(&mut given, args.answers.as_deref())?;
    let mut flags: BTreeMap<String, String> = args.set.iter().cloned().collect();
    if let Some(name) = &args.name {
        flags.insert("project_name".to_owned(), name.clone());
    }
    if let Some(level) = args.level {
        flags.insert(LEVEL_KEY.to_owned(), level.to_string());
    }
    given.flags = flags;
    Ok(given)
}

pub(crate) fn machine_defaults(target: &Path) -> Defaults {
    let (name, email) = git::configured_identity();
    Defaults {
        project_name: target
            .file_name()
            .map(|name| name.to_string_lossy().into_owned()),
        author: name.unwrap_or_else(|| "Unknown".to_owned()),
        author_email: email.unwrap_or_default(),
    }
}

pub(crate) fn level_labels() -> Vec<String> {
    bundle::all()
        .iter()
        .map(|bundle| {
            format!(
                "{}  {}: {}",
                bundle.meta.level, bundle.meta.name, bundle.meta.summary
            )
        })
        .collect()
}

fn print_text(
    out: &mut impl std::io::Write,
    report: &Report<'_>,
    next_steps: &[String],
) -> anyhow::Result<()> {
    let verb = if report.dry_run {
        "would create"
    } else {
        "created"
    };
    let git = match report.git {
        GitAction::Init => ", and a git repository with one commit",
        GitAction::InsideWorkTree => " (inside an existing git work tree: nothing committed)",
        GitAction::None => "",
    };
    writeln!(
        out,
        "{verb} `{}` at MLOps level {} ({}): {} files, {}{git}",
        report.path,
        report.level,
        report.level_name,
        report.files.len(),
        human_size(report.total_size)
    )?;
    if report.dry_run {
        writeln!(out)?;
        let width = report
            .files
            .iter()
            .map(|file| file.path.len())
            .max()
            .unwrap_or(0);
        for file in &report.files {
            let mut notes = Vec::new();
            if file.ownership == Ownership::Seeded.as_str() {
                notes.push("seeded");
            }
            if file.executable {
                notes.push("executable");
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join(", "))
            };
            writeln!(
                out,
                "  {:<width$}  {:>9}{notes}",
                file.path,
                human_size(file.size as u64)
            )?;
        }
        writeln!(out, "\nnothing was written (dry run)")?;
    } else if !next_steps.is_empty() {
        writeln!(out, "\nnext:\n  cd {}", shell_quote(&report.path))?;
        for step in next_steps {
            writeln!(out, "  {step}")?;
        }
    }
    Ok(())
}

fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
