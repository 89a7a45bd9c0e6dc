//! An assessment as a report: text for people, with the evidence for every criterion, what the
//! next level is missing and the people checklist; or the JSON documented in the README, for
//! scripts; or one criterion explained (`--explain`): what was read, which signals counted,
//! which were rejected and why. Files holding conflict markers are reported first, as problems.
//! Writing only: what is printed where is the caller's choice.

use std::io::Write;

use serde::Serialize;

use super::criteria::{self, Dimension};
use super::{Assessment, Evidence, Finding, Problem, Read, Recorded};
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
    /// Files that need attention: conflict markers left by a merge.
    problems: &'a [Problem],
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
    /// Signals that looked like evidence and did not count, with why.
    rejected: &'a [Evidence],
    /// What the detector read.
    read: &'a [Read],
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
        problems: &assessment.problems,
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
                rejected: &finding.rejected,
                read: &finding.read,
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
    write_problems(out, &assessment.problems)?;
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

fn write_problems(out: &mut impl Write, problems: &[Problem]) -> std::io::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    writeln!(out, "{RED}problems:{RED:#}")?;
    for problem in problems {
        writeln!(out, "  {}: {}", problem.path, problem.problem)?;
    }
    Ok(())
}

/// Writes how the verdict on criterion `id` was reached: what was read, the signals that
/// counted (or went some of the way), the signals rejected and why. `id` is a known id.
pub(crate) fn write_explanation(
    out: &mut impl Write,
    path: &str,
    assessment: &Assessment,
    id: &str,
) -> std::io::Result<()> {
    let Some(finding) = assessment
        .findings
        .iter()
        .find(|finding| finding.criterion.id == id)
    else {
        return Ok(());
    };
    let criterion = finding.criterion;
    let verdict = if finding.met {
        format!("{GREEN}holds{GREEN:#}")
    } else {
        format!("{RED}does not hold{RED:#}")
    };
    writeln!(
        out,
        "{BOLD}`{path}`: {} ({}, level {}, {}){BOLD:#} {verdict}",
        criterion.title,
        criterion.id,
        criterion.level,
        criterion.dimension.label()
    )?;
    write_problems(out, &assessment.problems)?;
    writeln!(out, "{BOLD}read{BOLD:#}")?;
    if finding.read.is_empty() {
        writeln!(out, "  nothing")?;
    }
    for read in &finding.read {
        let mut listed = read.sample.join(", ");
        if read.count > read.sample.len() {
            let more = read.count - read.sample.len();
            listed = format!("{listed}, and {more} more");
        }
        if read.count == 0 {
            writeln!(out, "  {}: none", read.what)?;
        } else {
            writeln!(out, "  {}: {} ({listed})", read.what, read.count)?;
        }
    }
    let heading = if finding.met {
        "signals that count"
    } else {
        "signals found, not enough"
    };
    write_evidence_list(out, heading, &finding.evidence)?;
    write_evidence_list(out, "signals rejected, and why", &finding.rejected)?;
    if finding.met {
        writeln!(
            out,
            "{BOLD}verdict{BOLD:#}\n  holds: the signals above show it"
        )?;
    } else {
        writeln!(
            out,
            "{BOLD}verdict{BOLD:#}\n  does not hold; to satisfy: {}",
            criterion.to_satisfy
        )?;
    }
    Ok(())
}

fn write_evidence_list(
    out: &mut impl Write,
    heading: &str,
    list: &[Evidence],
) -> std::io::Result<()> {
    writeln!(out, "{BOLD}{heading}{BOLD:#}")?;
    if list.is_empty() {
        writeln!(out, "  none")?;
    }
    for evidence in list {
        writeln!(out, "  {}: {}", evidence.path, evidence.detail)?;
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
