//! mlops-scaffold: generate Python ML projects at an MLOps maturity level, take them up one level
//! at a time, and assess where any repository stands.
//!
//! # Code map
//!
//! - `main.rs`, `bin/`: `mlops`, and the `mlops-new`, `mlops-upgrade` and `mlops-scaffold` shims,
//!   which exec the `mlops` beside them (`bin/sibling/`).
//! - `cli`: the command line (clap types stop there); `commands/`: one thin module per
//!   subcommand, arguments to the domain call to the report.
//! - `exit`: the exit codes and the two errors that choose one; `output`: where results and
//!   errors meet the terminal (error chains, broken pipes, styles, escaped control characters).
//! - `level`: `Level`, the range and names of the maturity levels, declared once.
//! - `answers/`: typed keys and closed sets, validation, the answers file, prompts, and their
//!   resolution by precedence (flags, answers file, an adopted repository, prompts, defaults).
//! - `templates/`: the bundles (`templates/level-N/`), read once, embedded or from
//!   `MLOPS_TEMPLATES_DIR`, and passed explicitly; rendering with per-context escapes and budgets.
//! - `project/`: a project as data (`Tree`, `RelPath`), its manifest, safe reads, the only writer
//!   (`apply`, confined to the project) and git.
//! - `upgrade/`: locating or adopting the project, recovering bases, planning each level step
//!   (or the update of the same level to newer templates), merging (by the file's structure where
//!   it has one, else by lines), walking several levels, executing and reporting.
//! - `assess/`: the maturity model's criteria, each declared once with its detector, the bounded
//!   scan, the facts of a file by concern, detectors by level, and the report.
//!
//! # Invariants
//!
//! - Rendering, planning, merging, base recovery, previews and assessment are pure (no IO, no
//!   prompts, no clock): same inputs, same bytes.
//! - Templates are read once, by `templates::source`, and reached only through the `Templates`
//!   value passed to whatever renders.
//! - An assessment only reads, and only through `assess::scan`.
//! - Only `project::apply` writes into a project, never outside it (`project::confined`), and a
//!   failure leaves the target as it was.
//! - A dry run is the same computation as the real run, printed instead of written.

mod answers;
mod assess;
mod cli;
mod commands;
mod exit;
mod level;
mod output;
mod project;
mod templates;
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
    let result = run_command(&cli.command);
    match result {
        Ok(status) => status.into(),
        Err(error) if output::is_broken_pipe(&error) => ExitStatus::Success.into(),
        Err(error) => {
            output::report_error(&error);
            exit::status_of(&error).into()
        }
    }
}

/// Runs the command. Those that render (new, upgrade, update, levels) read the templates, loaded
/// once per run, so that a malformed bundle is an error before anything runs; assess, completions
/// and the man pages never need them.
fn run_command(command: &Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Completions(args) => Ok(commands::completions::run(args)),
        Command::GenerateMan(args) => commands::generate_man::run(args),
        Command::New(args) => with_templates(|templates| commands::new::run(args, templates)),
        Command::Upgrade(args) => {
            with_templates(|templates| commands::upgrade::run(args, templates))
        }
        Command::Update(args) => with_templates(|templates| commands::update::run(args, templates)),
        Command::Assess(args) => commands::assess::run(args),
        Command::Levels(args) => with_templates(|templates| commands::levels::run(args, templates)),
    }
}

/// Loads the templates (embedded, or from `MLOPS_TEMPLATES_DIR`) and runs `command` with them.
fn with_templates(
    command: impl FnOnce(&templates::Templates) -> anyhow::Result<ExitStatus>,
) -> anyhow::Result<ExitStatus> {
    let raw = templates::RawTemplates::from_environment()
        .map_err(|(origin, error)| templates::malformed(&origin, &error))?;
    command(&templates::Templates::load(&raw)?)
}
