//! `mlops assess [PATH]`: which maturity level a repository has reached, with the evidence for
//! every criterion, what the next level is missing, and the people dimension as a checklist.
//!
//! The scan and the assessment are `scan` and `assess`; this module adds the level recorded in
//! the project's manifest (a corrupt one is reported, not fatal) and prints the report as text
//! or as the JSON documented in the README. Any level, 0 included, is a successful assessment.

use std::io::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::assess::criteria::{self, Dimension};
use crate::assess::scan;
use crate::assess::{self, Assessment, Evidence, Finding};
use crate::cli::{AssessArgs, Format};
use crate::exit::ExitStatus;
use crate::manifest::{MANIFEST_PATH, Manifest};

/// Version of the JSON report; bumped on any change that is not an addition.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// How many pieces of evidence the text report shows per criterion; the JSON has them all.
const SHOWN_EVIDENCE: usize = 5;

/// What the manifest says about the level.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Recorded {
    Absent,
    Level(u8),
    Unreadable(String),
}

pub fn run(args: &AssessArgs) -> anyhow::Result<ExitStatus> {
    let root = args.path.as_deref().unwrap_or(Path::new("."));
    let shown = root.display().to_string();
    match std::fs::metadata(root) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => anyhow::bail!("cannot assess `{shown}`: it is not a directory"),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("cannot assess `{shown}`: no such directory");
        }
        Err(error) => {
            return Err(anyhow::Error::new(error).context(format!("cannot assess `{shown}`")));
        }
    }
    let files = scan::scan(root, assess::wanted)?;
    let assessment = assess::assess(&files);
    let recorded = recorded_level(root);
    let mut out = anstream::stdout().lock();
    let printed = match args.format {
        Format::Json => {
            let report = json_report(&shown, files.len(), &assessment, &recorded);
            let json = serde_json::to_string_pretty(&report)?;
            writeln!(out, "{json}")
        }
        Format::Text => print_text(&mut out, &shown, &assessment, &recorded),
    };
    match printed {
        // `mlops assess | head` has read what it wanted.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitStatus::Success),
        Err(error) => Err(anyhow::Error::new(error).context("cannot print the report")),
        Ok(()) => Ok(ExitStatus::Success),
    }
}

fn recorded_level(root: &Path) -> Recorded {
    let path = root.join(MANIFEST_PATH);
    match std::fs::read_to_string(&path) {
        Ok(text) => match Manifest::parse(&text, MANIFEST_PATH) {
            Ok(manifest) => Recorded::Level(manifest.level),
            Err(error) => Recorded::Unreadable(error.to_string()),
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Recorded::Absent,
        Err(error) => Recorded::Unreadable(format!("cannot read `{MANIFEST_PATH}`: {error}")),
    }
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
    files_read: usize,
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
        files_read,
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

fn print_text(
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
