//! Everything that answers the questions, brought together in one place for `mlops new` and for
//! adopting a repository: the command line, the answers file, git's identity, what the
//! repository says, and the terminal when there is one to prompt on.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::Path;

use super::key::AnswerKey;
use super::prompt::TerminalPrompter;
use super::resolve::{Defaults, FlagAnswer, Given, resolve};
use super::{Answers, file};
use crate::level::Level;
use crate::project::git;

/// What the command line says about the answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnswerArgs<'a> {
    /// Answers given by flags, with the words that gave them.
    pub(crate) flags: &'a [FlagAnswer],
    pub(crate) answers_file: Option<&'a Path>,
    pub(crate) no_input: bool,
}

/// Resolves the level and the answers. `derived` is what an adopted repository says;
/// `default_project_name` the name of the directory the project is (or goes) in; `level_labels`
/// describe the levels in the level menu.
pub(crate) fn gather(
    args: AnswerArgs<'_>,
    derived: BTreeMap<AnswerKey, String>,
    default_project_name: Option<String>,
    level_labels: Vec<String>,
) -> anyhow::Result<(Level, Answers)> {
    let mut given = Given::default()
        .with_flags(args.flags)
        .map_err(crate::exit::Usage::new)?
        .with_derived(derived);
    if let Some(path) = args.answers_file {
        given = given.with_file(path.display().to_string(), file::read(path)?);
    }
    let (name, email) = git::configured_identity();
    let defaults = Defaults {
        project_name: default_project_name,
        author: name.unwrap_or_else(|| "Unknown".to_owned()),
        author_email: email.unwrap_or_default(),
    };
    if !args.no_input && std::io::stdin().is_terminal() {
        let mut prompter = TerminalPrompter::new(level_labels);
        resolve(&given, &defaults, Some(&mut prompter))
    } else {
        resolve(&given, &defaults, None)
    }
}
