//! `mlops levels`: the maturity levels and what each bundle adds, from the bundles' metadata.

use std::io::Write as _;

use serde::Serialize;

use crate::cli::{Format, LevelsArgs};
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
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&reports)?)?,
        Format::Text => {
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
