//! Exit codes, and the two errors that choose one other than 1.
//!
//! Commands return `anyhow::Result<ExitStatus>`. An error with [`Usage`] or [`Refused`] in its
//! chain exits 2 or 4; any other error exits 1. Modules whose errors are the user's to fix wrap
//! them in one of the two where they are raised, so this module knows only its own types. The
//! table is printed by `--help`, each subcommand listing the codes it can return, and repeated in
//! the README.

use std::error::Error;
use std::fmt::{self, Write as _};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    Success = 0,
    Failure = 1,
    Usage = 2,
    Conflicts = 3,
    Refused = 4,
    Behind = 5,
}

impl ExitStatus {
    const ALL: [ExitStatus; 6] = [
        Self::Success,
        Self::Failure,
        Self::Usage,
        Self::Conflicts,
        Self::Refused,
        Self::Behind,
    ];

    /// What the code means, as the help text says it (continuation lines already indented).
    fn meaning(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => {
                "error: something failed (a file could not be read or written, git failed)"
            }
            Self::Usage => {
                "usage: the command line or the answers are invalid (unknown flag, level or key, bad name)"
            }
            Self::Conflicts => {
                "conflicts: the upgrade was written, with conflicts left for you to resolve"
            }
            Self::Refused => {
                "refused: nothing was written, because it would overwrite or lose work, or the project is
     not in a state the command can start from (non-empty target, dirty tree, corrupt manifest)"
            }
            Self::Behind => {
                "behind: `--check` found a higher level (`upgrade`) or newer templates (`update`) for the
     project; nothing was written"
            }
        }
    }

    /// The `Exit codes:` section of a help text, listing `statuses`; `None` lists them all.
    pub(crate) fn help(statuses: Option<&[ExitStatus]>) -> String {
        let mut text = String::from("Exit codes:");
        for status in Self::ALL {
            if statuses.is_none_or(|listed| listed.contains(&status)) {
                let _ = write!(text, "\n  {}  {}", status as u8, status.meaning());
            }
        }
        text
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

type BoxedError = Box<dyn Error + Send + Sync>;

/// The command line or the answers are wrong: exit 2. It shows as the error it wraps.
pub(crate) struct Usage(BoxedError);

/// Nothing was written because writing would overwrite or lose work, or the project is not in a
/// state the command can start from: exit 4. It shows as the error it wraps.
pub(crate) struct Refused(BoxedError);

macro_rules! wrapper {
    ($name:ident) => {
        impl $name {
            /// Wraps an error, or a message (`String`, `&str`).
            pub(crate) fn new(error: impl Into<BoxedError>) -> Self {
                Self(error.into())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }

        impl Error for $name {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                self.0.source()
            }
        }
    };
}

wrapper!(Usage);
wrapper!(Refused);

/// The exit status an error stands for.
pub(crate) fn status_of(error: &anyhow::Error) -> ExitStatus {
    for cause in error.chain() {
        if cause.is::<Usage>() {
            return ExitStatus::Usage;
        }
        if cause.is::<Refused>() {
            return ExitStatus::Refused;
        }
    }
    ExitStatus::Failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_errors_choose_their_code_and_show_as_themselves() {
        let usage = anyhow::Error::new(Usage::new("bad level"));
        assert_eq!(status_of(&usage), ExitStatus::Usage);
        assert_eq!(usage.to_string(), "bad level");
        let refused = anyhow::Error::new(Refused::new("dirty")).context("while upgrading");
        assert_eq!(status_of(&refused), ExitStatus::Refused);
        let other = anyhow::anyhow!("disk full");
        assert_eq!(status_of(&other), ExitStatus::Failure);
    }

    #[test]
    fn help_lists_the_codes_asked_for() {
        let help = ExitStatus::help(Some(&[ExitStatus::Success, ExitStatus::Usage]));
        assert_eq!(
            help,
            "Exit codes:\n  0  success\n  2  usage: the command line or the answers are invalid \
             (unknown flag, level or key, bad name)"
        );
        assert!(ExitStatus::help(None).contains("\n  3  conflicts"));
    }
}
