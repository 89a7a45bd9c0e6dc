//! Exit codes, and the errors that choose them.
//!
//! Commands return `anyhow::Result<ExitStatus>`. An error carrying [`Usage`] or [`Refused`] (or
//! an answers or manifest error) maps to its own code; any other error is a plain failure. The
//! table is printed by `--help` and repeated in the README.

use std::process::ExitCode;

use crate::answers::AnswerError;
use crate::manifest::ManifestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    Failure = 1,
    Usage = 2,
    Conflicts = 3,
    Refused = 4,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

/// The command line or the answers are wrong: exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// Nothing was written because writing would overwrite or lose work, or the project is not in a
/// state the command can start from: exit 4.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The exit status an error stands for.
pub fn status_of(error: &anyhow::Error) -> ExitStatus {
    for cause in error.chain() {
        if cause.is::<Usage>() || cause.is::<AnswerError>() {
            return ExitStatus::Usage;
        }
        if cause.is::<Refused>() || cause.is::<ManifestError>() {
            return ExitStatus::Refused;
        }
    }
    ExitStatus::Failure
}
