//! `mlops completions SHELL`: a completion script on stdout.

use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::ExitStatus;

pub(crate) fn run(args: &CompletionsArgs) -> ExitStatus {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "mlops", &mut std::io::stdout());
    ExitStatus::Success
}
