//! Resolving every answer from its sources, by precedence: the command line, the answers file,
//! what an adopted repository says, a prompt, the default.
//!
//! Pure: the caller reads files, git's configuration and the terminal, and passes a [`Prompter`]
//! only when prompting is allowed. Every value is validated whatever its source, and an error
//! names the source so the user knows what to fix.

use std::collections::BTreeMap;
use std::fmt;

use super::choice::{Choice, CiProvider, Compute, PythonVersion, Task};
use super::key::AnswerKey;
use super::validate::{Earlier, package_name_for, validate};
use super::{AnswerError, Answers};
use crate::exit::Usage;
use crate::level::Level;

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    Flag,
    File(String),
    Default,
    Derived(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("from the command line"),
            Self::File(path) => write!(f, "from the answers file `{path}`"),
            Self::Default => f.write_str("the default"),
            Self::Derived(from) => write!(f, "derived from the {from}"),
        }
    }
}

/// One answer given on the command line, with the words that gave it (`--level 2`,
/// `--set level=3`), so that two flags that contradict each other can both be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlagAnswer {
    pub(crate) key: AnswerKey,
    pub(crate) value: String,
    pub(crate) spelling: String,
}

/// Answers given before prompting: flags, the answers file, and (when adopting a repository
/// `mlops new` did not make) what the repository itself says.
#[derive(Debug, Default, Clone)]
pub(crate) struct Given {
    flags: BTreeMap<AnswerKey, String>,
    file: BTreeMap<AnswerKey, String>,
    file_path: Option<String>,
    derived: BTreeMap<AnswerKey, String>,
}

impl Given {
    /// The command line's answers; two flags that give one key different values are a usage
    /// error naming both, since neither can be taken over the other.
    pub(crate) fn with_flags(mut self, flags: &[FlagAnswer]) -> Result<Self, AnswerError> {
        let mut seen: BTreeMap<AnswerKey, &FlagAnswer> = BTreeMap::new();
        for flag in flags {
            if let Some(earlier) = seen.get(&flag.key)
                && earlier.value != flag.value
            {
                return Err(AnswerError::Contradicting {
                    key: flag.key,
                    first: earlier.spelling.clone(),
                    second: flag.spelling.clone(),
                });
            }
            seen.insert(flag.key, flag);
            self.flags.insert(flag.key, flag.value.clone());
        }
        Ok(self)
    }

    /// The answers file's answers, and the path it was read from.
    pub(crate) fn with_file(mut self, path: String, answers: BTreeMap<AnswerKey, String>) -> Self {
        self.file = answers;
        self.file_path = Some(path);
        self
    }

    /// What an adopted repository says.
    pub(crate) fn with_derived(mut self, derived: BTreeMap<AnswerKey, String>) -> Self {
        self.derived = derived;
        self
    }

    fn lookup(&self, key: AnswerKey) -> Option<(String, Source)> {
        if let Some(value) = self.flags.get(&key) {
            return Some((value.clone(), Source::Flag));
        }
        if let Some(value) = self.file.get(&key) {
            let path = self.file_path.clone().unwrap_or_default();
            return Some((value.clone(), Source::File(path)));
        }
        self.derived
            .get(&key)
            .map(|value| (value.clone(), Source::Derived("repository")))
    }
}

/// Defaults that depend on the machine (the target directory's name, git's `user.name`), found
/// by the caller so that resolution stays pure.
#[derive(Debug, Clone)]
pub(crate) struct Defaults {
    pub(crate) project_name: Option<String>,
    pub(crate) author: String,
    pub(crate) author_email: String,
}

/// Asks the user for an answer.
pub(crate) trait Prompter {
    /// A free-text answer; `validate` returns the reason a value is refused.
    fn text(
        &mut self,
        key: AnswerKey,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> anyhow::Result<String>;

    /// One of `choices` (value, what it means); returns its index.
    fn choice(
        &mut self,
        key: AnswerKey,
        choices: &[(String, &'static str)],
        default: usize,
    ) -> anyhow::Result<usize>;
}

/// Resolves the level and every answer, in the order of [`AnswerKey::ALL`].
pub(crate) fn resolve(
    given: &Given,
    defaults: &Defaults,
    mut prompter: Option<&mut dyn Prompter>,
) -> anyhow::Result<(Level, Answers)> {
    let mut values = Earlier::new();
    for key in AnswerKey::ALL {
        let default = default_for(key, &values, defaults);
        let invalid = |value: &str, origin: Source, reason: String| {
            Usage::new(AnswerError::Invalid {
                key,
                value: value.to_owned(),
                origin,
                reason,
            })
        };
        let value = if let Some((value, source)) = given.lookup(key) {
            validate(key, &value, &values).map_err(|reason| invalid(&value, source, reason))?;
            value
        } else if let Some(prompter) = prompter.as_deref_mut().filter(|_| asked_at(key, &values)) {
            ask(
                prompter,
                key,
                default.as_ref().map(|(value, _)| value.as_str()),
                &values,
            )?
        } else if let Some((value, source)) = default {
            validate(key, &value, &values).map_err(|reason| invalid(&value, source, reason))?;
            value
        } else {
            return Err(Usage::new(AnswerError::Missing { key }).into());
        };
        values.insert(key, value);
    }
    Ok(typed(values))
}

/// Whether a prompt asks `key`, given the answers before it: the compute engine only for a
/// project of a level it changes; below, the default stands until an upgrade to that level.
fn asked_at(key: AnswerKey, earlier: &Earlier) -> bool {
    key != AnswerKey::Compute
        || earlier
            .get(&AnswerKey::Level)
            .and_then(|level| Level::parse(level).ok())
            .is_none_or(|level| level >= Level::COMPUTE_FROM)
}

/// The validated values as types.
fn typed(mut values: Earlier) -> (Level, Answers) {
    let mut take = |key: AnswerKey| values.remove(&key).expect("every key is answered");
    let level = Level::parse(&take(AnswerKey::Level)).expect("validated");
    let answers = Answers {
        project_name: take(AnswerKey::ProjectName),
        package_name: take(AnswerKey::PackageName),
        description: take(AnswerKey::Description),
        author: take(AnswerKey::Author),
        author_email: take(AnswerKey::AuthorEmail),
        python_version: PythonVersion::parse(&take(AnswerKey::PythonVersion)).expect("validated"),
        task: Task::parse(&take(AnswerKey::Task)).expect("validated"),
        ci_provider: CiProvider::parse(&take(AnswerKey::CiProvider)).expect("validated"),
        compute: Compute::parse(&take(AnswerKey::Compute)).expect("validated"),
    };
    (level, answers)
}

fn ask(
    prompter: &mut dyn Prompter,
    key: AnswerKey,
    default: Option<&str>,
    earlier: &Earlier,
) -> anyhow::Result<String> {
    match key.choices() {
        None => {
            let check = |value: &str| validate(key, value, earlier);
            prompter.text(key, default.unwrap_or(""), &check)
        }
        Some(choices) => {
            let default_index = default
                .and_then(|default| choices.iter().position(|(value, _)| value == default))
                .unwrap_or(0);
            let index = prompter.choice(key, &choices, default_index)?;
            Ok(choices[index].0.clone())
        }
    }
}

fn default_for(key: AnswerKey, earlier: &Earlier, defaults: &Defaults) -> Option<(String, Source)> {
    let value = match key {
        AnswerKey::Level => return None,
        AnswerKey::ProjectName => {
            return defaults
                .project_name
                .clone()
                .map(|name| (name, Source::Derived("target directory name")));
        }
        AnswerKey::PackageName => {
            return earlier
                .get(&AnswerKey::ProjectName)
                .map(|name| (package_name_for(name), Source::Derived("project name")));
        }
        AnswerKey::Description => earlier
            .get(&AnswerKey::ProjectName)
            .map_or_else(String::new, |name| {
                format!("{name}: a machine-learning project")
            }),
        AnswerKey::Author => defaults.author.clone(),
        AnswerKey::AuthorEmail => defaults.author_email.clone(),
        AnswerKey::PythonVersion => PythonVersion::ALL[0].as_str().to_owned(),
        AnswerKey::Task => Task::ALL[0].as_str().to_owned(),
        AnswerKey::CiProvider => CiProvider::ALL[0].as_str().to_owned(),
        AnswerKey::Compute => Compute::ALL[0].as_str().to_owned(),
    };
    Some((value, Source::Default))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Defaults {
        Defaults {
            project_name: Some("demo".to_owned()),
            author: "Ada".to_owned(),
            author_email: String::new(),
        }
    }

    fn flag(key: AnswerKey, value: &str, spelling: &str) -> FlagAnswer {
        FlagAnswer {
            key,
            value: value.to_owned(),
            spelling: spelling.to_owned(),
        }
    }

    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() {
        let given = Given::default()
            .with_flags(&[
                flag(AnswerKey::Level, "2", "--level 2"),
                flag(AnswerKey::Task, "regression", "--set task=regression"),
            ])
            .unwrap()
            .with_file(
                "answers.toml".to_owned(),
                BTreeMap::from([
                    (AnswerKey::Task, "classification".to_owned()),
                    (AnswerKey::Author, "Grace".to_owned()),
                ]),
            );
        let (level, answers) = resolve(&given, &defaults(), None).unwrap();
        assert_eq!(level, Level::new(2).unwrap());
        assert_eq!(answers.task, Task::Regression);
        assert_eq!(answers.author, "Grace");
        assert_eq!(answers.package_name, "demo");
        assert_eq!(answers.python_version, PythonVersion::Py311);
    }

    #[test]
    fn contradicting_flags_name_both() {
        let error = Given::default()
            .with_flags(&[
                flag(AnswerKey::Level, "2", "--level 2"),
                flag(AnswerKey::Level, "3", "--set level=3"),
            ])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "contradicting answers for `level`: `--level 2` and `--set level=3`: give it once"
        );
        let same = Given::default().with_flags(&[
            flag(AnswerKey::Level, "2", "--level 2"),
            flag(AnswerKey::Level, "2", "--set level=2"),
        ]);
        assert!(same.is_ok());
    }

    #[test]
    fn a_missing_level_without_prompts_is_an_error() {
        let error = resolve(&Given::default(), &defaults(), None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "missing answer `level`: pass `--level N` (0 to 4), or set `level` in the answers file"
        );
    }

    #[test]
    fn a_derived_package_name_that_is_invalid_names_its_origin() {
        let given = Given::default()
            .with_flags(&[flag(AnswerKey::Level, "0", "--level 0")])
            .unwrap();
        let defaults = Defaults {
            project_name: Some("1abc".to_owned()),
            ..defaults()
        };
        let error = resolve(&given, &defaults, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid package name `1abc` (derived from the project name): it is not a Python identifier: \
             it must start with a lowercase letter or `_`; choose another project name or pass \
             `--set package_name=NAME`"
        );
    }

    /// Answers every prompt with its default, recording what was asked.
    struct Recorder(Vec<String>);

    impl Prompter for Recorder {
        fn text(
            &mut self,
            key: AnswerKey,
            default: &str,
            validate: &dyn Fn(&str) -> Result<(), String>,
        ) -> anyhow::Result<String> {
            self.0.push(format!("{key}={default}"));
            validate(default).map_err(anyhow::Error::msg)?;
            Ok(default.to_owned())
        }

        fn choice(
            &mut self,
            key: AnswerKey,
            choices: &[(String, &'static str)],
            default: usize,
        ) -> anyhow::Result<usize> {
            self.0.push(format!("{key}={}", choices[default].0));
            Ok(if key == AnswerKey::Level { 3 } else { default })
        }
    }

    #[test]
    fn prompts_ask_only_what_was_not_given_in_order() {
        let given = Given::default()
            .with_flags(&[flag(AnswerKey::Task, "regression", "--set task=regression")])
            .unwrap();
        let mut recorder = Recorder(Vec::new());
        let (level, answers) = resolve(&given, &defaults(), Some(&mut recorder)).unwrap();
        assert_eq!(level, Level::new(3).unwrap());
        assert_eq!(answers.task, Task::Regression);
        assert_eq!(
            recorder.0,
            [
                "level=0",
                "project_name=demo",
                "package_name=demo",
                "description=demo: a machine-learning project",
                "author=Ada",
                "author_email=",
                "python_version=3.11",
                "ci_provider=github",
                "compute=local"
            ]
        );
    }

    #[test]
    fn the_compute_engine_is_not_asked_below_the_level_it_changes() {
        let given = Given::default()
            .with_flags(&[flag(AnswerKey::Level, "1", "--level 1")])
            .unwrap();
        let mut recorder = Recorder(Vec::new());
        let (_, answers) = resolve(&given, &defaults(), Some(&mut recorder)).unwrap();
        assert_eq!(answers.compute, Compute::Local);
        assert!(
            !recorder.0.iter().any(|asked| asked.starts_with("compute=")),
            "{:?}",
            recorder.0
        );
    }
}
