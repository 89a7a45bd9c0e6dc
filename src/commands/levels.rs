//! `mlops levels`: the maturity levels and what each bundle adds, from the bundles' metadata, as
//! text, JSON, or the Markdown page that specifies every level (the repository's docs/levels.md).

use std::collections::BTreeMap;
use std::io::Write as _;

use serde::Serialize;

use crate::answers::{AnswerKey, Choice as _, CiProvider, Compute};
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
    /// The files the bundle introduces for each CI provider's projects: pipelines, clients.
    ci_files: BTreeMap<&'static str, Vec<String>>,
}

/// The files the bundle introduces for the projects of each CI provider, every provider listed.
fn ci_files(bundle: &crate::templates::Bundle<'_>) -> BTreeMap<&'static str, Vec<String>> {
    CiProvider::ALL
        .iter()
        .map(|provider| {
            let files = bundle
                .files
                .iter()
                .filter(|file| {
                    file.variant.is_some_and(|variant| {
                        variant.key == AnswerKey::CiProvider && variant.value == provider.as_str()
                    })
                })
                .map(|file| file.path.replace("{{package_name}}", "<package>"))
                .collect();
            (provider.as_str(), files)
        })
        .collect()
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
            ci_files: ci_files(bundle),
        })
        .collect();
    let mut out = anstream::stdout().lock();
    let providers: Vec<String> = CiProvider::ALL
        .iter()
        .map(|provider| format!("{provider} ({})", provider.describe()))
        .collect();
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
                for (provider, files) in &report.ci_files {
                    if !files.is_empty() {
                        writeln!(out, "  {provider}: {}", files.join(", "))?;
                    }
                }
            }
            writeln!(out, "\nCI providers (ci_provider), at every level from 1:")?;
            for provider in providers {
                writeln!(out, "  {provider}")?;
            }
            writeln!(
                out,
                "\nCompute engines (compute), from level {}; upgrades keep the one chosen:",
                Level::COMPUTE_FROM
            )?;
            for engine in Compute::ALL {
                writeln!(out, "  {engine} ({})", engine.describe())?;
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
    page.push_str(
        "\n## CI providers\n\nThe pipelines come in the idiom of the CI provider the project \
         answers (`ci_provider`), with\nthe same capabilities at every level and the same make \
         targets:\n\n",
    );
    for provider in CiProvider::ALL {
        let _ = writeln!(page, "- `{provider}`: {}", provider.describe());
    }
    let _ = write!(
        page,
        "\n## Compute engines\n\nFrom level {}, the project answers where training's \
         hyperparameter search and batch scoring\nrun (`compute`); a project keeps its engine \
         when it upgrades, and may choose it while it is below\nlevel {0}:\n\n",
        Level::COMPUTE_FROM
    );
    for engine in Compute::ALL {
        let _ = writeln!(page, "- `{engine}`: {}", engine.describe());
    }
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
        let ci_files: Vec<String> = report
            .ci_files
            .iter()
            .filter(|(_, files)| !files.is_empty())
            .map(|(provider, files)| {
                let files: Vec<String> = files.iter().map(|file| format!("`{file}`")).collect();
                format!("- `{provider}`: {}", files.join(", "))
            })
            .collect();
        if !ci_files.is_empty() {
            let _ = write!(
                page,
                "\nWhat it adds for each CI provider:\n\n{}\n",
                ci_files.join("\n")
            );
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
