//! `mlops update [PATH]`: the arguments to an update request (an upgrade from the project's level
//! to itself, with this build's templates), and its report, as `upgrade` prints it.

use std::path::Path;

use crate::answers::AnswerArgs;
use crate::cli::UpdateArgs;
use crate::exit::ExitStatus;
use crate::templates::Templates;
use crate::upgrade::{self, Kind, Request};

pub(crate) fn run(args: &UpdateArgs, templates: &Templates<'_>) -> anyhow::Result<ExitStatus> {
    let request = Request {
        kind: Kind::Update,
        start: args.path.as_deref().unwrap_or(Path::new(".")),
        to: None,
        dry_run: args.dry_run,
        check: args.check,
        allow_dirty: args.allow_dirty,
        commit: args.commit,
        answers: AnswerArgs {
            flags: &[],
            answers_file: None,
            no_input: true,
        },
        templates,
    };
    super::upgrade::report(&upgrade::upgrade(&request)?, args.format)
}
