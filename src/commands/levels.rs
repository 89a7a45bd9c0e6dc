//! `mlops levels`: the maturity levels and what each bundle adds, from the bundles' metadata, as
//! text, JSON, or the Markdown page that specifies every level (the repository's docs/levels.md).

use std::io::Write as _;

use serde::Serialize;

use crate::assess;
use crate::cli::{LevelsArgs, LevelsFormat};
use crate::exit::ExitStatus;
use crate::level::Level;
use crate::templates::Templates;

#[derive(Serialize)]
struct LevelReport<'a> {
    level: Level,
    name: &'static str,
    summary: &'a str,
    adds: &'a [String],
    criteria: &'a [String],
    changes: &'a [String],
}

pub(crate) fn run(args: &LevelsArgs, templates: &Templates<'_>) -> anyhow::Result<ExitStatus> {
    let reports: Vec<LevelReport<'_>> = Level::all()
        .zip(templates.bundles())
        .map(|(level, bundle)| LevelReport {
            level,
            name: level.name(),
            summary: &bundle.meta.summary,
            adds: &bundle.meta.adds,
            criteria: &bundle.meta.criteria,
            changes: &bundle.meta.changes,
        })
        .collect();
    let mut out = anstream::stdout().lock();
    match args.format {
        LevelsFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&reports)?)?,
        LevelsFormat::Markdown => write!(out, "{}", markdown(&reports))?,
        LevelsFormat::Text => {
            for (index, report) in reports.iter().enumerate() {
                if index > 0 {
                    writeln!(out)?;
                }
                writeln!(
                    out,
                    "{}{} {}: {}{}",
                    BOLD.render(),
                    report.level,
                    report.name,
                    report.summary,
                    BOLD.render_reset()
                )?;
                for line in report.adds {
                    writeln!(out, "  + {line}")?;
                }
                if !report.changes.is_empty() {
                    let changes: Vec<String> = report
                        .changes
                        .iter()
                        .map(|path| path.replace("{{package_name}}", "<package>"))
                        .collect();
                    writeln!(out, "  ~ edits {}", changes.join(", "))?;
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

const BOLD: anstyle::Style = anstyle::Style::new().bold();

/// What every level's project is, whatever the level.
const EVERY_LEVEL: &str = "\
- **Additive.** Level N+1 is level N plus new files, plus edits to a few shared files (README,
  Makefile, pyproject, CI pipelines, configs). It never removes a file level N generated, so an
  upgrade never has to delete the team's work.
- **Runs offline, out of the box.** After `make install` the level's own checks pass with no
  network, no cloud account and no server: the tests pass, training produces a model, the
  application answers. The default data set ships inside scikit-learn (`load_breast_cancer` for
  classification, `load_diabetes` for regression); real data plugs in through configuration.
- **Tests that can fail.** No placeholder tests; every gate ships with a negative test.
- **Pipelines are thin.** CI jobs call `make` targets, so what CI runs runs locally too.
- **Local defaults, real infrastructure by configuration.** MLflow tracks to `sqlite:///mlflow.db`
  with artifacts in `./mlartifacts` (`MLFLOW_TRACKING_URI` points it at a server); images go to
  the CI provider's registry; deployment targets are adapters behind one interface.
- **Pinned and current.** Every Python dependency and every action is pinned; versions in YAML are
  quoted.
- **Explains itself.** `docs/maturity.md` states the level, the seed's four dimensions (people,
  model creation, model release, application integration) at that level, which file implements
  which criterion, what is deliberately missing, and the `mlops upgrade` command for the next
  level.
";

/// The page that specifies every level: what each adds, which criteria of the maturity model it
/// meets (the ones `mlops assess` checks), and which files of lower levels it edits.
fn markdown(reports: &[LevelReport<'_>]) -> String {
    use std::fmt::Write as _;
    let mut page = String::from(
        "# The MLOps maturity levels\n\n\
         What `mlops new --level N` generates and `mlops upgrade` adds, level by level. This page \
         is the\noutput of `mlops levels --format markdown`, from the template bundles the tool \
         embeds; a test\nkeeps it in step with them. The maturity model has five stages, \
         numbered 0 to 4; levels are\ncumulative.\n\n## Every level\n\n",
    );
    page.push_str(EVERY_LEVEL);
    for report in reports {
        let _ = write!(
            page,
            "\n## Level {}: {}\n\n{}.\n\nWhat it adds:\n\n",
            report.level,
            report.name,
            capitalised(report.summary)
        );
        for line in report.adds {
            let _ = writeln!(page, "- {line}");
        }
        if !report.criteria.is_empty() {
            page.push_str(
                "\nThe criteria of the maturity model it meets (`mlops assess` checks them):\n\n",
            );
            for id in report.criteria {
                let title = assess::criterion_title(id).unwrap_or("");
                let _ = writeln!(page, "- `{id}`: {title}");
            }
        }
        if !report.changes.is_empty() {
            let changes: Vec<String> = report
                .changes
                .iter()
                .map(|path| format!("`{}`", path.replace("{{package_name}}", "<package>")))
                .collect();
            let _ = writeln!(
                page,
                "\nFiles of lower levels it edits: {}.",
                changes.join(", ")
            );
        }
    }
    page
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
