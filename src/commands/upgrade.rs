//! `mlops upgrade [PATH]`: the arguments to an upgrade request, the upgrade (see `upgrade`), and
//! its report on stdout, which `update` shares.

use std::io::Write as _;
use std::path::Path;

use crate::answers::AnswerArgs;
use crate::cli::{Format, UpgradeArgs};
use crate::exit::ExitStatus;
use crate::templates::Templates;
use crate::upgrade::{self, Kind, Outcome, Request, Upgrade};

pub(crate) fn run(args: &UpgradeArgs, templates: &Templates<'_>) -> anyhow::Result<ExitStatus> {
    let flags = args.answers.flag_answers();
    let request = Request {
        kind: Kind::Upgrade,
        start: args.path.as_deref().unwrap_or(Path::new(".")),
        to: args.to,
        dry_run: args.dry_run,
        check: args.check,
        allow_dirty: args.allow_dirty,
        commit: args.commit,
        answers: AnswerArgs {
            flags: &flags,
            answers_file: args.answers.answers.as_deref(),
            no_input: args.answers.no_input,
        },
        templates,
    };
    report(&upgrade::upgrade(&request)?, args.format)
}

/// Prints a run of `upgrade` or `update` and returns its exit status.
pub(crate) fn report(upgrade: &Upgrade, format: Format) -> anyhow::Result<ExitStatus> {
    let mut out = anstream::stdout().lock();
    match format {
        Format::Text => write!(out, "{}", upgrade::text(upgrade))?,
        Format::Json => writeln!(out, "{}", upgrade::json(upgrade))?,
    }
    Ok(match upgrade.outcome {
        Outcome::Conflicts => ExitStatus::Conflicts,
        Outcome::Behind => ExitStatus::Behind,
        Outcome::DryRun | Outcome::Applied | Outcome::UpToDate => ExitStatus::Success,
    })
}
