//! The command line, as clap derive types. Clap stops here: commands receive these plain structs.

use std::path::PathBuf;
use std::sync::LazyLock;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::answers::{self, AnswerKey, FlagAnswer};
use crate::exit::ExitStatus::{self, Behind, Conflicts, Failure, Refused, Success, Usage};
use crate::level::Level;

/// `mlops --version`: the tool's version and that of the templates it embeds, which is the
/// `generator_version` its manifests record.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} (templates {})",
        env!("CARGO_PKG_VERSION"),
        crate::project::manifest::GENERATOR_VERSION
    )
});

#[derive(Debug, Parser)]
#[command(
    name = "mlops",
    version = VERSION.as_str(),
    about = "Generate Python ML projects at an MLOps maturity level (0 to 4), take them up one \
             level at a time, and assess any repository's level",
    after_help = ExitStatus::help(None),
    propagate_version = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate a new project at a maturity level
    #[command(after_help = ExitStatus::help(Some(&[Success, Failure, Usage, Refused])))]
    New(NewArgs),
    /// Take a project up one maturity level (or to `--to N`), merging the templates' changes into
    /// your files
    #[command(after_help = ExitStatus::help(Some(&[Success, Failure, Usage, Conflicts, Refused, Behind])))]
    Upgrade(UpgradeArgs),
    /// Merge what this mlops-scaffold's templates generate for the project's own level into your
    /// files, when they changed since the project was generated
    #[command(after_help = ExitStatus::help(Some(&[Success, Failure, Usage, Conflicts, Refused, Behind])))]
    Update(UpdateArgs),
    /// Assess which maturity level a repository has reached, with evidence
    #[command(after_help = ExitStatus::help(Some(&[Success, Failure, Usage])))]
    Assess(AssessArgs),
    /// List the maturity levels and what each template bundle adds
    #[command(after_help = ExitStatus::help(Some(&[Success, Failure, Usage])))]
    Levels(LevelsArgs),
    /// Print a shell completion script
    #[command(after_help = ExitStatus::help(Some(&[Success, Usage])))]
    Completions(CompletionsArgs),
    /// Write the man pages of mlops and of each subcommand into a directory (for packagers)
    #[command(hide = true)]
    GenerateMan(GenerateManArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum Format {
    /// For people
    #[default]
    Text,
    /// For programs; the schema is documented in the README
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Directory to create; it must not exist or be empty. Its name is the default project name
    pub(crate) path: PathBuf,

    /// Maturity level: 0 No MLOps, 1 DevOps but no MLOps, 2 Automated Training, 3 Automated Model
    /// Deployment, 4 Full MLOps Automated Retraining
    #[arg(long, value_parser = parse_level, allow_negative_numbers = true)]
    pub(crate) level: Option<Level>,

    /// Project name (default: the last component of PATH); the package name derives from it
    #[arg(long)]
    pub(crate) name: Option<String>,

    #[command(flatten)]
    pub(crate) answers: AnswerFlags,

    /// Do not create a git repository (none is created inside an existing work tree anyway)
    #[arg(long)]
    pub(crate) no_git: bool,

    /// Print the files that would be created, with sizes, and write nothing
    #[arg(long)]
    pub(crate) dry_run: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,
}

impl NewArgs {
    /// Every answer the command line gives, with the words that gave it.
    pub(crate) fn flag_answers(&self) -> Vec<FlagAnswer> {
        let mut flags = Vec::new();
        if let Some(level) = self.level {
            flags.push(FlagAnswer {
                key: AnswerKey::Level,
                value: level.to_string(),
                spelling: format!("--level {level}"),
            });
        }
        if let Some(name) = &self.name {
            flags.push(FlagAnswer {
                key: AnswerKey::ProjectName,
                value: name.clone(),
                spelling: format!("--name {name}"),
            });
        }
        flags.extend(self.answers.flag_answers());
        flags
    }
}

/// The answers' flags, shared by `new` and `upgrade` (which uses them only when it adopts a
/// repository without a manifest).
#[derive(Debug, Args)]
pub(crate) struct AnswerFlags {
    /// Set any answer: project_name, package_name, description, author, author_email,
    /// python_version (3.11, 3.12, 3.13), task (classification, regression), ci_provider (github,
    /// gitlab, azure), compute (local, ray; from level 2), level; for `upgrade`, only when
    /// adopting a repository without a manifest, or `compute` for a project below level 2
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = SetParser, hide_possible_values = true)]
    pub(crate) set: Vec<(AnswerKey, String)>,

    /// Read answers from a TOML or YAML file of KEY = VALUE; flags take precedence over it
    #[arg(long, value_name = "FILE")]
    pub(crate) answers: Option<PathBuf>,

    /// Never prompt: take missing answers from what is given, derived or the defaults, and fail
    /// if one has none
    #[arg(long)]
    pub(crate) no_input: bool,
}

/// `--set KEY=VALUE`: any key, any value (`answers::parse_set` checks the key; validation the
/// value), with `key=value` of every closed-set answer offered to shell completions.
#[derive(Debug, Clone, Copy)]
struct SetParser;

impl clap::builder::TypedValueParser for SetParser {
    type Value = (AnswerKey, String);

    fn parse_ref(
        &self,
        command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        answers::parse_set.parse_ref(command, argument, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let offered = AnswerKey::ALL
            .into_iter()
            .filter(|key| *key != AnswerKey::Level)
            .flat_map(|key| {
                key.choices()
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |(value, means)| {
                        // Built once per help or completion script: clap keeps `&'static str`s.
                        let spelled: &'static str = format!("{key}={value}").leak();
                        let value = clap::builder::PossibleValue::new(spelled);
                        if means.is_empty() {
                            value
                        } else {
                            value.help(means)
                        }
                    })
            });
        Some(Box::new(offered))
    }
}

impl AnswerFlags {
    pub(crate) fn flag_answers(&self) -> Vec<FlagAnswer> {
        self.set
            .iter()
            .map(|(key, value)| FlagAnswer {
                key: *key,
                value: value.clone(),
                spelling: format!("--set {key}={value}"),
            })
            .collect()
    }
}

fn parse_level(text: &str) -> Result<Level, String> {
    Level::parse(text)
}

// Each flag is a switch the user sets; grouping them into enums would not make the CLI clearer.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub(crate) struct UpgradeArgs {
    /// The project, or any directory inside it [default: the current directory]
    pub(crate) path: Option<PathBuf>,

    /// Go up to this level, one level at a time, stopping at the first step that leaves
    /// conflicts [default: the recorded level plus one]
    #[arg(long, value_parser = parse_level, allow_negative_numbers = true)]
    pub(crate) to: Option<Level>,

    /// Show the plan, with the diff of every change as it would be written, and write nothing
    #[arg(long)]
    pub(crate) dry_run: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,

    /// Write even if files the upgrade touches have uncommitted changes (or there is no git)
    #[arg(long)]
    pub(crate) allow_dirty: bool,

    /// Commit each level step with git ("Upgrade to MLOps level N"); otherwise the changes stay
    /// in the working tree for review
    #[arg(long)]
    pub(crate) commit: bool,

    /// Write nothing; exit 5 if the project is below `--to` (default: the highest level), for a
    /// scheduled CI job
    #[arg(long, conflicts_with_all = ["dry_run", "commit", "allow_dirty"])]
    pub(crate) check: bool,

    #[command(flatten)]
    pub(crate) answers: AnswerFlags,
}

// Each flag is a switch the user sets, as for `upgrade`.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// The project, or any directory inside it [default: the current directory]
    pub(crate) path: Option<PathBuf>,

    /// Show the plan, with the diff of every change as it would be written, and write nothing
    #[arg(long)]
    pub(crate) dry_run: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,

    /// Write even if files the update touches have uncommitted changes (or there is no git)
    #[arg(long)]
    pub(crate) allow_dirty: bool,

    /// Commit the update with git; otherwise the changes stay in the working tree for review
    #[arg(long)]
    pub(crate) commit: bool,

    /// Write nothing; exit 5 if this mlops-scaffold's templates would change the project, for a
    /// scheduled CI job
    #[arg(long, conflicts_with_all = ["dry_run", "commit", "allow_dirty"])]
    pub(crate) check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AssessArgs {
    /// The repository to assess (default: the current directory); any repository, generated by
    /// mlops-scaffold or not
    pub(crate) path: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: Format,

    /// Explain how the verdict on one criterion was reached: which files were read, which
    /// signals counted, which were rejected and why (the JSON report always has all of it)
    #[arg(long, value_name = "CRITERION", value_parser = criterion_parser())]
    pub(crate) explain: Option<String>,
}

/// The criterion ids `--explain` takes.
fn criterion_parser() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(crate::assess::criterion_ids())
}

#[derive(Debug, Args)]
pub(crate) struct LevelsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: LevelsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum LevelsFormat {
    /// For people
    #[default]
    Text,
    /// For programs; the schema is documented in the README
    Json,
    /// The specification of every level as a Markdown page (the project's docs/levels.md)
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate completions for
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct GenerateManArgs {
    /// Where to write `mlops.1`, `mlops-new.1` and the others; created if missing
    pub(crate) dir: PathBuf,
}
