//! How a plan is shown: the text preview (a line per file, a summary per action, and the unified
//! diff of every change exactly as it would be written) and the JSON report.
//!
//! Pure formatting. Colour is written as ANSI styles and removed where it is printed when the
//! output is not a terminal or `NO_COLOR` is set (anstream does that), so tests see plain text.

use std::fmt::Write as _;

use anstyle::Style;
use serde::Serialize;
use similar::TextDiff;

use super::action::Action;
use super::base::BaseSource;
use super::merge::{Strategy, is_binary};
use super::plan::{Change, Plan};
use super::{Kind, Upgrade};
use crate::level::Level;
use crate::output::{BOLD, CYAN, DIM, GREEN, RED, YELLOW, escape_controls};
use crate::project::RelPath;
use crate::project::manifest::{GENERATOR_VERSION, MANIFEST_PATH};

/// What the run did or would do, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    DryRun,
    Applied,
    Conflicts,
    /// `--check`: a higher level, or newer templates, would change the project.
    Behind,
    /// Nothing to do: at the level asked for, or already with this build's templates.
    UpToDate,
}

fn label(action: Action) -> &'static str {
    match action {
        Action::BinaryConflict => "binary conflict",
        other => other.as_str(),
    }
}

fn style(action: Action) -> Style {
    match action {
        Action::Create => GREEN,
        Action::Update | Action::Merge => CYAN,
        Action::Conflict | Action::BinaryConflict => RED.bold(),
        Action::Skip | Action::Orphan => YELLOW,
        Action::Keep | Action::Adopt | Action::Unchanged => DIM,
    }
}

/// The note after a file's path in the list.
fn note(change: &Change, to_level: Level) -> String {
    let mut note = change.reason.to_owned();
    if let Some(strategy) = change.strategy {
        let _ = write!(note, "; merged {}", strategy.describe());
    }
    if change.conflicts > 0 {
        let _ = write!(
            note,
            " ({} conflict{})",
            change.conflicts,
            if change.conflicts == 1 { "" } else { "s" }
        );
    }
    if let Some((side, _)) = &change.side_file {
        let _ = write!(
            note,
            "; yours is kept, level {to_level}'s version goes to `{side}`"
        );
    }
    if change.base_source == BaseSource::Missing {
        note.push_str("; no recorded base could be found");
    }
    note
}

/// A file's path in the list: `from -> to` for a file the team moved.
fn shown_path(change: &Change) -> String {
    match &change.moved_to {
        Some(to) => format!("{} -> {to}", change.path),
        None => change.path.to_string(),
    }
}

/// The unified diff of a change as it would be written, or `None` if it writes nothing.
fn diff(change: &Change) -> Option<String> {
    let path = change.location().as_str();
    if let Some((side, content)) = &change.side_file {
        return Some(format!(
            "Binary file {path} kept as yours; new version written to {side} ({} bytes)\n",
            content.len()
        ));
    }
    let after = change.write.as_ref()?;
    let before = change.before.as_deref().unwrap_or_default();
    if is_binary(before) || is_binary(after) {
        return Some(format!(
            "Binary file {path} {}\n",
            if change.before.is_some() {
                "changed"
            } else {
                "created"
            }
        ));
    }
    let before_text = std::str::from_utf8(before).expect("checked");
    let after_text = std::str::from_utf8(after).expect("checked");
    let old_header = if change.before.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_owned()
    };
    let diff = TextDiff::from_lines(before_text, after_text);
    Some(
        diff.unified_diff()
            .context_radius(3)
            .header(&old_header, &format!("b/{path}"))
            .to_string(),
    )
}

/// Counts per action, in the order of [`Action::ALL`].
fn summary(plan: &Plan) -> String {
    Action::ALL
        .iter()
        .map(|action| format!("{} {}", plan.count(*action), label(*action)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn base_summary(plan: &Plan) -> String {
    let count = |source: BaseSource| {
        plan.changes
            .iter()
            .filter(|change| change.base_source == source)
            .count()
    };
    let mut text = format!(
        "bases: {} rendered again, {} from .mlops/base, {} from git history",
        count(BaseSource::Rendered),
        count(BaseSource::Store),
        count(BaseSource::GitHistory)
    );
    let missing = count(BaseSource::Missing);
    if missing > 0 {
        let _ = write!(
            text,
            ", {missing} not found (merged as added on both sides: identical is adopted, any difference conflicts)"
        );
    }
    text
}

/// Where and why a walk stops short of its target: the level whose step leaves conflicts, and
/// the sentence that says so.
fn stop(upgrade: &Upgrade) -> Option<(Level, String)> {
    let last = upgrade.plans.last()?;
    if last.to >= upgrade.target || !last.has_conflicts() {
        return None;
    }
    let next = last.to.next().expect("below the target");
    let rest = if next == upgrade.target {
        format!("level {next} is")
    } else {
        format!("levels {next} to {} are", upgrade.target)
    };
    let reason = format!(
        "level {} leaves conflicts, and each level is planned on the files the one before it leaves: {rest} \
         planned once they are resolved and committed (run `mlops upgrade --to {}` again)",
        last.to, upgrade.target
    );
    Some((last.to, reason))
}

/// The text preview of the plans (one per level step), with every change's diff in a dry run.
fn plans_text(upgrade: &Upgrade) -> String {
    let mut out = String::new();
    let plans = &upgrade.plans;
    let (Some(first), Some(last)) = (plans.first(), plans.last()) else {
        return out;
    };
    let project_name = &upgrade.recorded.answers.project_name;
    let (bold, reset) = (BOLD.render(), BOLD.render_reset());
    if upgrade.kind == Kind::Update {
        let _ = writeln!(
            out,
            "{bold}update `{project_name}` (level {}, {}) to the templates of mlops-scaffold {GENERATOR_VERSION}{reset}",
            last.to,
            last.to.name(),
        );
    } else {
        let _ = writeln!(
            out,
            "{bold}upgrade `{project_name}` from level {} ({}) to level {} ({}){reset}",
            first.from,
            first.from.name(),
            last.to,
            last.to.name(),
        );
    }
    for plan in plans {
        if plan.is_update() {
            let _ = writeln!(
                out,
                "\n{bold}level {}: the templates as generated -> now{reset}",
                plan.to
            );
        } else {
            let _ = writeln!(out, "\n{bold}level {} -> {}{reset}", plan.from, plan.to);
        }
        let width = plan
            .changes
            .iter()
            .map(|change| shown_path(change).len())
            .max()
            .unwrap_or(0);
        for change in plan
            .changes
            .iter()
            .filter(|change| change.action != Action::Unchanged)
        {
            let style = style(change.action);
            let _ = writeln!(
                out,
                "  {}{:<15}{}  {:<width$}  {}",
                style.render(),
                label(change.action),
                style.render_reset(),
                shown_path(change),
                note(change, plan.to)
            );
        }
        let _ = writeln!(out, "  {}", summary(plan));
        let _ = writeln!(out, "  {}", base_summary(plan));
        if upgrade.outcome == Outcome::DryRun {
            for change in &plan.changes {
                if let Some(diff) = diff(change) {
                    let _ = writeln!(out);
                    write_diff(&mut out, &diff);
                }
            }
        }
    }
    let _ = writeln!(out);
    out.push_str(&verdict(upgrade));
    out
}

/// What the run did, or would do, in a sentence or two.
fn verdict(upgrade: &Upgrade) -> String {
    let mut out = String::new();
    let command = command_name(upgrade.kind);
    let conflicted: Vec<String> = upgrade
        .plans
        .iter()
        .flat_map(Plan::conflicted_paths)
        .map(|path| format!("`{path}`"))
        .collect();
    let project = format!("`{}`", upgrade.recorded.answers.project_name);
    let level = upgrade.recorded.level;
    let last = upgrade.plans.last();
    match upgrade.outcome {
        Outcome::DryRun => {
            let _ = writeln!(
                out,
                "dry run: nothing was written; `mlops {command}` without `--dry-run` applies exactly this plan"
            );
        }
        Outcome::Behind if upgrade.kind == Kind::Update => {
            let _ = writeln!(
                out,
                "{project} is behind the templates of mlops-scaffold {GENERATOR_VERSION} for level {level}: \
                 `mlops update` brings them in (this check wrote nothing)"
            );
        }
        Outcome::Behind => {
            let _ = writeln!(
                out,
                "{project} is at level {level}, below level {}: `mlops upgrade --to {}` takes it there (this check \
                 wrote nothing)",
                upgrade.target, upgrade.target
            );
        }
        Outcome::UpToDate if upgrade.kind == Kind::Update => {
            let _ = writeln!(
                out,
                "{project} already has the templates of mlops-scaffold {GENERATOR_VERSION} for level {level}: \
                 nothing to update"
            );
        }
        Outcome::UpToDate => {
            let _ = writeln!(
                out,
                "{project} is at level {level}, at or above level {}: nothing to upgrade",
                upgrade.target
            );
        }
        Outcome::Applied => {
            let (green, reset) = (GREEN.bold().render(), GREEN.bold().render_reset());
            let to = last.map_or(level, |plan| plan.to);
            if upgrade.kind == Kind::Update {
                let _ = writeln!(
                    out,
                    "{green}updated to the templates of mlops-scaffold {GENERATOR_VERSION} for level {to}{reset}"
                );
            } else {
                let _ = writeln!(out, "{green}upgraded to level {to}{reset}");
            }
        }
        Outcome::Conflicts => {
            let last = last.expect("a run with conflicts has a plan");
            let (base, theirs) = if last.is_update() {
                (
                    format!("level {} as generated", last.to),
                    format!("level {} now", last.to),
                )
            } else {
                (format!("level {}", last.from), format!("level {}", last.to))
            };
            let _ = writeln!(
                out,
                "{}conflicts in {}{}: resolve the `<<<<<<<` markers (yours, {base}, {theirs}) and any `.level-{}` files, \
                 then `git add` them and commit (git lists them as unmerged until then); the manifest already \
                 records level {}",
                RED.bold().render(),
                conflicted.join(", "),
                RED.bold().render_reset(),
                last.to,
                last.to
            );
        }
    }
    if matches!(upgrade.outcome, Outcome::DryRun | Outcome::Behind) && !conflicted.is_empty() {
        let _ = writeln!(out, "it would leave conflicts in {}", conflicted.join(", "));
    }
    out
}

fn command_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Upgrade => "upgrade",
        Kind::Update => "update",
    }
}

fn write_diff(out: &mut String, diff: &str) {
    for line in diff.lines() {
        let style = if line.starts_with("+++") || line.starts_with("---") {
            BOLD
        } else if line.starts_with('+') {
            GREEN
        } else if line.starts_with('-') {
            RED
        } else if line.starts_with("@@") {
            CYAN
        } else {
            Style::new()
        };
        let _ = writeln!(out, "{}{line}{}", style.render(), style.render_reset());
    }
}

/// The text report of an upgrade: the adoption notice, the plans (with every diff in a dry run)
/// and what to do next.
pub(crate) fn text(upgrade: &Upgrade) -> String {
    let mut out = String::new();
    if let Some(level) = upgrade.adopted_at {
        let _ = writeln!(
            out,
            "`{}` has no `{MANIFEST_PATH}`: adopting it at level {level}, the level `mlops assess` finds; \
             your existing files are yours, so any that differs from what the templates generate is a \
             conflict, never overwritten\n",
            escape_controls(&upgrade.root.display().to_string())
        );
    }
    if upgrade.plans.is_empty() {
        out.push_str(&verdict(upgrade));
    } else {
        out.push_str(&plans_text(upgrade));
    }
    if let Some((level, reason)) = stop(upgrade) {
        let verb = if matches!(upgrade.outcome, Outcome::DryRun | Outcome::Behind) {
            "would stop"
        } else {
            "stopped"
        };
        let _ = writeln!(
            out,
            "the walk to level {} {verb} at level {level}: {reason}",
            upgrade.target
        );
    }
    if upgrade.committed && upgrade.kind == Kind::Update {
        let _ = writeln!(
            out,
            "committed as \"Update the MLOps level {} templates to mlops-scaffold {GENERATOR_VERSION}\"",
            upgrade.recorded.level
        );
    } else if upgrade.committed {
        let _ = writeln!(out, "committed each level as \"Upgrade to MLOps level N\"");
    } else if upgrade.outcome == Outcome::Applied {
        let _ = writeln!(
            out,
            "review with `git diff`, then commit (or run with `--commit` next time)"
        );
    }
    out
}

/// The JSON report; its schema is documented in the README and versioned by `schema_version`.
pub(crate) fn json(upgrade: &Upgrade) -> String {
    let stop = stop(upgrade);
    let report = Report {
        schema_version: 1,
        command: upgrade.kind,
        project_name: &upgrade.recorded.answers.project_name,
        root: upgrade.root.display().to_string(),
        dry_run: upgrade.outcome == Outcome::DryRun,
        outcome: upgrade.outcome,
        from_level: upgrade.recorded.level,
        to_level: upgrade
            .plans
            .last()
            .map_or(upgrade.recorded.level, |plan| plan.to),
        committed: upgrade.committed,
        adopted_at_level: upgrade.adopted_at,
        conflicted_paths: upgrade
            .plans
            .iter()
            .flat_map(Plan::conflicted_paths)
            .map(ToString::to_string)
            .collect(),
        target_level: upgrade.target,
        stopped_at_level: stop.as_ref().map(|(level, _)| *level),
        stop_reason: stop.map(|(_, reason)| reason),
        steps: upgrade.plans.iter().map(step_report).collect(),
    };
    serde_json::to_string_pretty(&report).expect("the report serialises")
}

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    /// `upgrade` or `update`.
    command: Kind,
    project_name: &'a str,
    root: String,
    dry_run: bool,
    outcome: Outcome,
    from_level: Level,
    to_level: Level,
    committed: bool,
    /// The assessed level a repository without a manifest was adopted at, or `null`.
    adopted_at_level: Option<Level>,
    conflicted_paths: Vec<String>,
    /// The level asked for (`--to`, else the next).
    target_level: Level,
    /// The level a walk stopped at short of `target_level`, because that step left conflicts.
    stopped_at_level: Option<Level>,
    stop_reason: Option<String>,
    steps: Vec<StepReport<'a>>,
}

#[derive(Serialize)]
struct StepReport<'a> {
    from_level: Level,
    to_level: Level,
    summary: serde_json::Map<String, serde_json::Value>,
    files: Vec<FileReport<'a>>,
}

#[derive(Serialize)]
struct FileReport<'a> {
    path: &'a str,
    /// Where the file lives, if the team moved it (`git mv`); `null` otherwise.
    moved_to: Option<&'a str>,
    action: Action,
    ownership: &'static str,
    base: BaseSource,
    reason: &'static str,
    conflicts: usize,
    /// How the file was merged (`lines`, `line_set`, `toml`, `yaml`, `makefile`, `python`), or
    /// `null` if it was not.
    merge_strategy: Option<Strategy>,
    side_file: Option<&'a str>,
    diff: Option<String>,
}

fn step_report(plan: &Plan) -> StepReport<'_> {
    let summary = Action::ALL
        .iter()
        .map(|action| {
            (
                action.as_str().to_owned(),
                serde_json::Value::from(plan.count(*action)),
            )
        })
        .collect();
    StepReport {
        from_level: plan.from,
        to_level: plan.to,
        summary,
        files: plan
            .changes
            .iter()
            .map(|change| FileReport {
                path: change.path.as_str(),
                moved_to: change.moved_to.as_ref().map(RelPath::as_str),
                action: change.action,
                ownership: change.ownership.as_str(),
                base: change.base_source,
                reason: change.reason,
                conflicts: change.conflicts,
                merge_strategy: change.strategy,
                side_file: change.side_file.as_ref().map(|(side, _)| side.as_str()),
                diff: diff(change),
            })
            .collect(),
    }
}
