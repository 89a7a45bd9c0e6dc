//! `mlops new PATH`: gather the answers, render the level, and write the project, or print what
//! would be written.
//!
//! Every check that can refuse happens before anything is written, and the write itself is staged
//! (see `project::apply`), so a failed `new` leaves the target exactly as it was.

use std::collections::BTreeMap;
use std::io::Write as _;

use serde::Serialize;

use crate::answers::{self, AnswerArgs, Answers};
use crate::cli::{Format, NewArgs};
use crate::exit::ExitStatus;
use crate::level::Level;
use crate::output::escape_controls;
use crate::project::manifest::{MANIFEST_PATH, Manifest};
use crate::project::{Entry, Ownership, RelPath, apply, git, human_size, target};
use crate::templates::Templates;

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
    level: Level,
    level_name: &'a str,
    git: GitAction,
    answers: &'a Answers,
    total_size: u64,
    files: Vec<FileReport<'a>>,
}

pub(crate) fn run(args: &NewArgs, templates: &Templates<'_>) -> anyhow::Result<ExitStatus> {
    let target = target::check(&args.path)?;
    let flags = args.flag_answers();
    let answer_args = AnswerArgs {
        flags: &flags,
        answers_file: args.answers.answers.as_deref(),
        no_input: args.answers.no_input,
    };
    let (level, answers) = answers::gather(
        answer_args,
        BTreeMap::new(),
        target.name(),
        templates.level_labels(),
    )?;

    let mut tree = templates.render(level, &answers)?;
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
    } else if git::work_tree_of(target.parent()).is_some() {
        GitAction::InsideWorkTree
    } else {
        GitAction::Init
    };
    let report = Report {
        action: "new",
        dry_run: args.dry_run,
        path: args.path.display().to_string(),
        level,
        level_name: level.name(),
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
            level.name(),
            env!("CARGO_PKG_VERSION")
        );
        apply::write_new_project(&target, &tree, |staged| match git_action {
            GitAction::Init => git::init_and_commit(staged, &message),
            GitAction::InsideWorkTree | GitAction::None => Ok(()),
        })?;
    }

    let next_steps = templates
        .bundle(level)
        .map_or(&[][..], |bundle| &bundle.meta.next_steps);
    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => write!(out, "{}", text(&report, next_steps))?,
    }
    Ok(ExitStatus::Success)
}

fn text(report: &Report<'_>, next_steps: &[String]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
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
    let _ = writeln!(
        out,
        "{verb} `{}` at MLOps level {} ({}): {} files, {}{git}",
        escape_controls(&report.path),
        report.level,
        report.level_name,
        report.files.len(),
        human_size(report.total_size)
    );
    if report.dry_run {
        let _ = writeln!(out);
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
            let size = human_size(file.size as u64);
            let _ = writeln!(out, "  {:<width$}  {size:>9}{notes}", file.path);
        }
        let _ = writeln!(out, "\nnothing was written (dry run)");
    } else if !next_steps.is_empty() {
        let _ = writeln!(
            out,
            "\nnext:\n  cd {}",
            escape_controls(&shell_quote(&report.path))
        );
        for step in next_steps {
            let _ = writeln!(out, "  {step}");
        }
    }
    out
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
