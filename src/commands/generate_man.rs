//! `mlops generate-man DIR`, hidden, for packagers and the release workflow: the man pages of
//! `mlops` and of each subcommand (`mlops-new.1` documents the `mlops-new` binary as well), made
//! from the same definitions as `--help`, so they cannot disagree with it.

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::cli::{Cli, GenerateManArgs};
use crate::exit::ExitStatus;

pub(crate) fn run(args: &GenerateManArgs) -> anyhow::Result<ExitStatus> {
    let written = std::fs::create_dir_all(&args.dir)
        .and_then(|()| clap_mangen::generate_to(Cli::command(), &args.dir));
    written.with_context(|| format!("cannot write the man pages into `{}`", args.dir.display()))?;
    Ok(ExitStatus::Success)
}
