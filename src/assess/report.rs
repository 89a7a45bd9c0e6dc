//! An assessment as a report: text for people, with the evidence for every criterion, what the
//! next level is missing and the people checklist; or the JSON documented in the README, for
//! scripts. Writing only: what is printed where is the caller's choice.

use std::io::Write;

use serde::Serialize;

use super::criteria::{self, Dimension};
use super::{Assessment, Evidence, Finding, Recorded};
use crate::project::manifest::MANIFEST_PATH;

/// Version of the JSON report; bumped on any change that is not an addition.
const JSON_SCHEMA_VERSION: u32 = 1;

/// How many pieces of evidence the text report shows per criterion; the JSON has them all.
const SHOWN_EVIDENCE: usize = 5;

/// Writes the JSON report of the assessment of the repository shown as `path`.
pub(crate) fn write_json(
    out: &mut impl Write,
    path: &str,
    assessment: &Assessment,
    recorded: &Recorded,
) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(&json_report(path, assessment, recorded))?;
    writeln!(out, "{json}")
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema_version: u32,
    path: &'a str,
    level: u8,
    level_name: &'static str,
    recorded_level: Option<u8>,
    manifest_error: Option<&'a str>,
    next_level: Option<JsonNextLevel>,
    files_read: usize,
    criteria: Vec<JsonCriterion<'a>>,
    people: Vec<JsonPeople>,
}

#[derive(Serialize)]
struct JsonNextLevel {
    level: u8,
    level_name: &'static str,
    missing: Vec<&'static str>,
}

#[derive(Serialize)]
struct JsonCriterion<'a> {
    id: &'static str,
    title: &'static str,
    level: u8,
    dimension: Dimension,
    met: bool,
    evidence: &'a [Evidence],
    to_satisfy: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonPeople {
    level: u8,
    item: &'static str,
}

fn json_report<'a>(
    path: &'a str,
    assessment: &'a Assessment,
    recorded: &'a Recorded,
) -> JsonReport<'a> {
    let (recorded_level, manifest_error) = match recorded {
        Recorded::Absent => (None, None),
        Recorded::Level(level) => (Some(*level), None),
        Recorded::Unreadable(error) => (None, Some(error.as_str())),
    };
    JsonReport {
        schema_version: JSON_SCHEMA_VERSION,
        path,
        level: assessment.level,
        level_name: criteria::level_name(assessment.level),
        recorded_level,
        manifest_error,
        next_level: assessment
            .next_level_missing()
            .map(|(level, missing)| JsonNextLevel {
                level,
                level_name: criteria::level_name(level),
                missing: missing.iter().map(|finding| finding.criterion.id).collect(),
            }),
        files_read: assessment.files_read,
        criteria: assessment
            .findings
            .iter()
            .map(|finding| JsonCriterion {
                id: finding.criterion.id,
                title: finding.criterion.title,
                level: finding.criterion.level,
                dimension: finding.criterion.dimension,
                met: finding.met,
                evidence: &finding.evidence,
                to_satisfy: (!finding.met).then_some(finding.criterion.to_satisfy),
            })
            .collect(),
        people: criteria::PEOPLE
            .iter()
            .map(|&(level, item)| JsonPeople { level, item })
            .collect(),
    }
}

const BOLD: anstyle::Style = anstyle::Style::new().bold();
const GREEN: anstyle::Style = anstyle::AnsiColor::Green.on_default();
const RED: anstyle::Style = anstyle::AnsiColor::Red.on_default();
const DIM: anstyle::Style = anstyle::Style::new().dimmed();

pub(crate) fn write_text(
    out: &mut impl std::io::Write,
    path: &str,
    assessment: &Assessment,
    recorded: &Recorded,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{BOLD}`{path}` is at MLOps level {}, {}{BOLD:#}",
        assessment.level,
        criteria::level_name(assessment.level),
    )?;
    match recorded {
        Recorded::Absent => writeln!(out, "recorded level: none (no `{MANIFEST_PATH}`)")?,
        Recorded::Level(level) => {
            writeln!(out, "recorded level: {level} (in `{MANIFEST_PATH}`)")?;
        }
        Recorded::Unreadable(error) => writeln!(out, "recorded level: unknown, {error}")?,
    }
    for level in 1..=criteria::max_level() {
        writeln!(out)?;
        writeln!(
            out,
            "{BOLD}level {level}, {}{BOLD:#}",
            criteria::level_name(level)
        )?;
        for finding in assessment
            .findings
            .iter()
            .filter(|finding| finding.criterion.level == level)
        {
            print_finding(out, finding)?;
        }
    }
    writeln!(out)?;
    match assessment.next_level_missing() {
        Some((next, missing)) => {
            let ids: Vec<&str> = missing.iter().map(|finding| finding.criterion.id).collect();
            writeln!(
                out,
                "{BOLD}next:{BOLD:#} level {next}, {}, needs {}",
                criteria::level_name(next),
                ids.join(", ")
            )?;
        }
        None => writeln!(
            out,
            "{BOLD}next:{BOLD:#} none, level {} is the highest",
            assessment.level
        )?,
    }
    writeln!(out)?;
    writeln!(
        out,
        "{BOLD}people{BOLD:#} (no file shows these; check them yourself)"
    )?;
    for (level, item) in criteria::PEOPLE {
        writeln!(out, "  [ ] level {level}: {item}")?;
    }
    Ok(())
}

fn print_finding(out: &mut impl std::io::Write, finding: &Finding) -> std::io::Result<()> {
    let criterion = finding.criterion;
    let (mark, style) = if finding.met {
        ("[x]", GREEN)
    } else {
        ("[ ]", RED)
    };
    writeln!(
        out,
        "  {style}{mark}{style:#} {} {DIM}({}, {}){DIM:#}",
        criterion.title,
        criterion.id,
        criterion.dimension.label()
    )?;
    let label = if finding.met { "" } else { "found: " };
    for evidence in finding.evidence.iter().take(SHOWN_EVIDENCE) {
        writeln!(out, "      {label}{}: {}", evidence.path, evidence.detail)?;
    }
    if finding.evidence.len() > SHOWN_EVIDENCE {
        writeln!(
            out,
            "      ... and {} more",
            finding.evidence.len() - SHOWN_EVIDENCE
        )?;
    }
    if !finding.met {
        writeln!(out, "      to satisfy: {}", criterion.to_satisfy)?;
    }
    Ok(())
}
