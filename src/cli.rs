//! The command line, as clap derive types. Clap stops here: commands receive these plain structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::answers;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  error: something failed (a file could not be read or written, git failed)
  2  usage: the command line or the answers are invalid (unknown flag, level or key, bad name)
  3  conflicts: the upgrade was written, with conflicts left for you to resolve
  4  refused: nothing was written, because it would overwrite or lose work, or the project is
     not in a state the command can start from (non-empty target, dirty tree, corrupt manifest)";

#[derive(Debug, Parser)]
#[command(
    name = "mlops",
    version,
    about = "Generate Python ML projects at an MLOps maturity level (0 to 4), take them up one \
             level at a time, and assess any repository's level",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a new project at a maturity level
    #[command(after_help = EXIT_CODES)]
    New(NewArgs),
    /// Take a project up one maturity level (or to `--to N`), merging the templates' changes into
    /// your files
    #[command(after_help = EXIT_CODES)]
    Upgrade(UpgradeArgs),
    /// Assess which maturity level a repository has reached, with evidence
    #[command(after_help = EXIT_CODES)]
    Assess(AssessArgs),
    /// List the maturity levels and what each template bundle adds
    #[command(after_help = EXIT_CODES)]
    Levels(LevelsArgs),
    /// Print a shell completion script
    #[command(after_help = EXIT_CODES)]
    Completions(CompletionsArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// For people
    #[default]
    Text,
    /// For programs; the schema is documented in the README
    Json,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Directory to create; it must not exist or be empty. Its name is the default project name
    pub path: PathBuf,

    /// Maturity level: 0 No MLOps, 1 DevOps but no MLOps, 2 Automated Training, 3 Automated Model
    /// Deployment, 4 Full MLOps Automated Retraining
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=i64::from(answers::MAX_LEVEL)))]
    pub level: Option<u8>,

    /// Project name (default: the last component of PATH); the package name derives from it
    #[arg(long)]
    pub name: Option<String>,

    /// Set any answer: project_name, package_name, description, author, author_email,
    /// python_version, task (classification, regression), ci_provider (github), level
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,

    /// Read answers from a TOML or YAML file of KEY = VALUE; flags take precedence over it
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// Never prompt: take missing answers from their defaults, and fail if one has none
    #[arg(long)]
    pub no_input: bool,

    /// Do not create a git repository (none is created inside an existing work tree anyway)
    #[arg(long)]
    pub no_git: bool,

    /// Print the files that would be created, with sizes, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn parse_set(argument: &str) -> Result<(String, String), String> {
    answers::parse_set(argument)
}

// Each flag is a switch the user sets; grouping them into enums would not make the CLI clearer.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// The project, or any directory inside it [default: the current directory]
    pub path: Option<PathBuf>,

    /// Go up to this level, one level at a time, stopping at the first step that leaves
    /// conflicts [default: the recorded level plus one]
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=i64::from(answers::MAX_LEVEL)))]
    pub to: Option<u8>,

    /// Show the plan, with the diff of every change as it would be written, and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,

    /// Write even if files the upgrade touches have uncommitted changes (or there is no git)
    #[arg(long)]
    pub allow_dirty: bool,

    /// Commit each level step with git ("Upgrade to MLOps level N"); otherwise the changes stay
    /// in the working tree for review
    #[arg(long)]
    pub commit: bool,

    /// When adopting a repository without a manifest: set an answer the repository does not
    /// determine (see `mlops new --help` for the keys)
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,

    /// When adopting a repository without a manifest: read answers from a TOML or YAML file
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,

    /// When adopting a repository without a manifest: never prompt; use what the repository says
    /// and the defaults
    #[arg(long)]
    pub no_input: bool,
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The repository to assess (default: the current directory); any repository, generated by
    /// mlops-scaffold or not
    pub path: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct LevelsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for
    pub shell: clap_complete::Shell,
}
