//! The answers a project is generated from: their keys and closed sets as types, where each one
//! comes from, and how each is checked.
//!
//! - `key`: [`AnswerKey`], every question declared once; `choice`: [`Task`], [`CiProvider`],
//!   [`Compute`], [`PythonVersion`], the closed sets.
//! - `validate`: what makes a value valid, whatever its source; `python_names`: what a package
//!   may not be called.
//! - `resolve`: precedence (flags, answers file, an adopted repository, prompts, defaults), pure.
//! - `file`: the answers file; `prompt`: the only dialoguer caller; `gather`: the command line,
//!   the file, git's identity and the terminal brought together for `new` and adoption.

mod choice;
mod file;
mod gather;
mod key;
mod prompt;
mod python_names;
mod resolve;
mod validate;

use serde::{Deserialize, Serialize};

pub(crate) use choice::{Choice, CiProvider, Compute, PythonVersion, Task};
pub(crate) use gather::{AnswerArgs, gather};
pub(crate) use key::AnswerKey;
pub(crate) use resolve::FlagAnswer;
#[cfg(test)]
pub(crate) use validate::MAX_PACKAGE_NAME;
pub(crate) use validate::{package_name_for, validate};

/// The answers recorded in the manifest and given to the templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Answers {
    pub(crate) project_name: String,
    pub(crate) package_name: String,
    pub(crate) description: String,
    pub(crate) author: String,
    pub(crate) author_email: String,
    pub(crate) python_version: PythonVersion,
    pub(crate) task: Task,
    pub(crate) ci_provider: CiProvider,
    /// Manifests written before the answer existed have none: their projects compute locally.
    #[serde(default, skip_serializing_if = "Compute::is_default")]
    pub(crate) compute: Compute,
}

impl Answers {
    /// The answer to `key` as text, or `None` for the level, which is not an answer of its own.
    pub(crate) fn get(&self, key: AnswerKey) -> Option<String> {
        Some(match key {
            AnswerKey::Level => return None,
            AnswerKey::ProjectName => self.project_name.clone(),
            AnswerKey::PackageName => self.package_name.clone(),
            AnswerKey::Description => self.description.clone(),
            AnswerKey::Author => self.author.clone(),
            AnswerKey::AuthorEmail => self.author_email.clone(),
            AnswerKey::PythonVersion => self.python_version.as_str().to_owned(),
            AnswerKey::Task => self.task.as_str().to_owned(),
            AnswerKey::CiProvider => self.ci_provider.as_str().to_owned(),
            AnswerKey::Compute => self.compute.as_str().to_owned(),
        })
    }

    /// Checks every answer as if it had been given on the command line: how a manifest's answers,
    /// which anyone can edit, are checked before they are rendered.
    pub(crate) fn check(&self) -> Result<(), String> {
        for key in AnswerKey::ALL {
            if let Some(value) = self.get(key) {
                validate(key, &value, &validate::Earlier::new())
                    .map_err(|reason| format!("answers.{key} `{value}` is invalid: {reason}"))?;
            }
        }
        Ok(())
    }
}

/// Why the answers cannot be resolved. Each is the user's to fix, so each says how; callers wrap
/// them in [`crate::exit::Usage`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum AnswerError {
    #[error("invalid {} `{value}` ({origin}): {reason}", key.noun())]
    Invalid {
        key: AnswerKey,
        value: String,
        origin: resolve::Source,
        reason: String,
    },
    #[error("missing answer `{key}`: {}", key.missing_hint())]
    Missing { key: AnswerKey },
    #[error(
        "unknown answer `{key}`{origin}: the known answers are {}",
        AnswerKey::listed()
    )]
    Unknown { key: String, origin: String },
    #[error("contradicting answers for `{key}`: `{first}` and `{second}`: give it once")]
    Contradicting {
        key: AnswerKey,
        first: String,
        second: String,
    },
    #[error("malformed answers file `{path}`: {reason}")]
    MalformedFile { path: String, reason: String },
}

/// Parses `KEY=VALUE` from `--set`, refusing unknown keys.
pub(crate) fn parse_set(argument: &str) -> Result<(AnswerKey, String), String> {
    let Some((key, value)) = argument.split_once('=') else {
        return Err(format!(
            "`{argument}` is not KEY=VALUE: the known keys are {}",
            AnswerKey::listed()
        ));
    };
    let key = key.trim();
    let Some(known) = AnswerKey::parse(key) else {
        return Err(format!(
            "unknown key `{key}`: the known keys are {}",
            AnswerKey::listed()
        ));
    };
    Ok((known, value.to_owned()))
}

/// The answers of a project called `demo`, for tests.
#[cfg(test)]
pub(crate) fn example() -> Answers {
    Answers {
        project_name: "demo".to_owned(),
        package_name: "demo".to_owned(),
        description: "A demo".to_owned(),
        author: "Ada".to_owned(),
        author_email: String::new(),
        python_version: PythonVersion::Py311,
        task: Task::Classification,
        ci_provider: CiProvider::Github,
        compute: Compute::Local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_arguments() {
        assert_eq!(
            parse_set("task=regression"),
            Ok((AnswerKey::Task, "regression".to_owned()))
        );
        assert_eq!(
            parse_set("description=a=b"),
            Ok((AnswerKey::Description, "a=b".to_owned()))
        );
        assert!(
            parse_set("task")
                .unwrap_err()
                .starts_with("`task` is not KEY=VALUE")
        );
        assert!(
            parse_set("colour=red")
                .unwrap_err()
                .starts_with("unknown key `colour`")
        );
    }

    #[test]
    fn a_manifest_s_answers_are_checked_like_given_ones() {
        assert_eq!(example().check(), Ok(()));
        let hostile = Answers {
            description: "x\u{1b}]0;owned\u{7}".to_owned(),
            ..example()
        };
        assert_eq!(
            hostile.check(),
            Err(
                "answers.description `x\u{1b}]0;owned\u{7}` is invalid: it contains the control \
                 character U+001B: use printable characters only"
                    .to_owned()
            )
        );
    }
}
