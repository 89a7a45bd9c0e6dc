//! `mlops assess [PATH]`: which maturity level a repository has reached, with the evidence for
//! every criterion, what the next level is missing, and the people dimension as a checklist.
//!
//! Glue: the arguments to an assessment and the recorded level (`assess`), printed as text or
//! as the JSON documented in the README, or one criterion explained (`--explain`). Any level,
//! 0 included, is a successful assessment.

use std::path::Path;

use anyhow::Context as _;

use crate::assess;
use crate::cli::{AssessArgs, Format};
use crate::exit::ExitStatus;

pub(crate) fn run(args: &AssessArgs) -> anyhow::Result<ExitStatus> {
    let root = args.path.as_deref().unwrap_or(Path::new("."));
    let assessment = assess::assess_repository(root)?;
    let recorded = assess::recorded_level(root);
    let shown = root.display().to_string();
    let mut out = anstream::stdout().lock();
    match (args.format, &args.explain) {
        (Format::Json, _) => assess::write_json(&mut out, &shown, &assessment, &recorded),
        (Format::Text, Some(id)) => assess::write_explanation(&mut out, &shown, &assessment, id),
        (Format::Text, None) => assess::write_text(&mut out, &shown, &assessment, &recorded),
    }
    .context("cannot print the report")?;
    Ok(ExitStatus::Success)
}
