//! mlops-scaffold: generate Python ML projects at an MLOps maturity level, take them up one level
//! at a time, and assess where any repository stands.
//!
//! # Code map
//!
//! - `cli`: the command line (clap types stop there); `commands/*`: one module per subcommand.
//! - `answers`: what a project is generated from, by precedence (flags, answers file, prompts,
//!   defaults); `prompt` is the only dialoguer caller; `python_names`: names a package may not take.
//! - `bundle`: the embedded templates (`templates/level-N/`), behind one small API.
//! - `render`: bundles + answers to a `tree::Tree` in memory.
//! - `manifest`: `.mlops/manifest.toml`, the project's record of its level, answers and files.
//! - `base`: recovering what the generator wrote (the base of a merge) from the manifest.
//! - `plan`: one upgrade step, (base, ours, theirs) to a classified plan; `merge`: the 3-way file
//!   merge; `preview`: a plan as text (the dry run) or JSON.
//! - `apply`: the only module that writes project files; `git`: everything git2.
//! - `exit`: the exit-code table and the errors that select a code.
//! - `criteria`: the maturity model as data (levels, the sixteen criteria, the people checklist).
//! - `scan`: the bounded, `.gitignore`-respecting walk that reads a repository for `assess`;
//!   `source`: what one file is and says (kind, test or not, code without comments, imports, CI
//!   triggers); `assess`: files to findings per criterion and the level reached.
//!
//! # Invariants
//!
//! - `render`, `base`, `plan`, `merge` and `preview` are pure (no IO, no prompts, no clock): same
//!   inputs, same bytes.
//! - `assess` and `source` are pure; `scan` is the only IO of an assessment, and it only reads.
//! - Only `apply` writes into a project, and a failure leaves the target as it was.
//! - A dry run is the same computation as the real run, printed instead of written.
//! - Templates are reached only through `bundle`.

mod answers;
mod assess;
mod bundle;
mod cli;
mod commands;
mod criteria;
mod exit;
mod level;
mod output;
mod project;
mod render;
mod scan;
mod source;
mod upgrade;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::exit::ExitStatus;

/// Runs `mlops` with `args` (the first being the program name) and returns its exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitStatus::Usage.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    // Every command but completions and the man pages reads the bundles: a malformed one is an
    // error before anything runs.
    let needs_bundles = !matches!(
        cli.command,
        Command::Completions(_) | Command::GenerateMan(_)
    );
    let result = if needs_bundles && let Err(error) = bundle::check() {
        Err(error)
    } else {
        match &cli.command {
            Command::Completions(args) => Ok(commands::completions::run(args)),
            Command::GenerateMan(args) => commands::generate_man::run(args),
            Command::New(args) => commands::new::run(args),
            Command::Upgrade(args) => commands::upgrade::run(args),
            Command::Assess(args) => commands::assess::run(args),
            Command::Levels(args) => commands::levels::run(args),
        }
    };
    match result {
        Ok(status) => status.into(),
        Err(error) if output::is_broken_pipe(&error) => ExitStatus::Success.into(),
        Err(error) => {
            output::report_error(&error);
            exit::status_of(&error).into()
        }
    }
}
