//! `mlops upgrade [PATH]`: the arguments to an upgrade request, the upgrade (see `upgrade`), and
//! its report on stdout.

use std::io::Write as _;
use std::path::Path;

use crate::answers::AnswerArgs;
use crate::cli::{Format, UpgradeArgs};
use crate::exit::ExitStatus;
use crate::templates::Templates;
use crate::upgrade::{self, Outcome, Request};

pub(crate) fn run(args: &UpgradeArgs, templates: &Templates<'_>) -> anyhow::Result<ExitStatus> {
    let flags = args.answers.flag_answers();
    let request = Request {
        start: args.path.as_deref().unwrap_or(Path::new(".")),
        to: args.to,
        dry_run: args.dry_run,
        allow_dirty: args.allow_dirty,
        commit: args.commit,
        answers: AnswerArgs {
            flags: &flags,
            answers_file: args.answers.answers.as_deref(),
            no_input: args.answers.no_input,
        },
        templates,
    };
    let upgrade = upgrade::upgrade(&request)?;
    let mut out = anstream::stdout().lock();
    match args.format {
        Format::Text => write!(out, "{}", upgrade::text(&upgrade))?,
        Format::Json => writeln!(out, "{}", upgrade::json(&upgrade))?,
    }
    Ok(if upgrade.outcome == Outcome::Conflicts {
        ExitStatus::Conflicts
    } else {
        ExitStatus::Success
    })
}
