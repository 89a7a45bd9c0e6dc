//! The answer keys, declared once: how each is spelt on the command line and in answers files,
//! how it is asked, how errors name it, and which values it may take when they are a closed set.

use std::fmt;

use super::choice::{Choice, CiProvider, Compute, PythonVersion, Task};
use crate::level::Level;

/// One question the generator can ask, in the order prompts ask them. `Level` is a question too,
/// although the manifest records it apart from the other answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum AnswerKey {
    Level,
    ProjectName,
    PackageName,
    Description,
    Author,
    AuthorEmail,
    PythonVersion,
    Task,
    CiProvider,
    Compute,
}

impl AnswerKey {
    /// Every key, in prompt order: a key's default may depend on the keys before it.
    pub(crate) const ALL: [AnswerKey; 10] = [
        Self::Level,
        Self::ProjectName,
        Self::PackageName,
        Self::Description,
        Self::Author,
        Self::AuthorEmail,
        Self::PythonVersion,
        Self::Task,
        Self::CiProvider,
        Self::Compute,
    ];

    /// The key as `--set KEY=VALUE`, answers files and the manifest spell it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Level => "level",
            Self::ProjectName => "project_name",
            Self::PackageName => "package_name",
            Self::Description => "description",
            Self::Author => "author",
            Self::AuthorEmail => "author_email",
            Self::PythonVersion => "python_version",
            Self::Task => "task",
            Self::CiProvider => "ci_provider",
            Self::Compute => "compute",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<AnswerKey> {
        Self::ALL.into_iter().find(|key| key.as_str() == text)
    }

    /// Every key's spelling, for error messages.
    pub(crate) fn listed() -> String {
        Self::ALL
            .iter()
            .map(|key| key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The question as a prompt asks it.
    pub(crate) fn prompt(self) -> &'static str {
        match self {
            Self::Level => "MLOps maturity level",
            Self::ProjectName => "Project name",
            Self::PackageName => "Python package name",
            Self::Description => "One-line description",
            Self::Author => "Author",
            Self::AuthorEmail => "Author e-mail (may be empty)",
            Self::PythonVersion => "Python version",
            Self::Task => "Task",
            Self::CiProvider => "CI provider",
            Self::Compute => "Compute engine (from level 2)",
        }
    }

    /// The key as an error message names it: `invalid package name ...`.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::ProjectName => "project name",
            Self::PackageName => "package name",
            Self::PythonVersion => "Python version",
            Self::AuthorEmail => "author e-mail",
            Self::CiProvider => "CI provider",
            Self::Compute => "compute engine",
            other => other.as_str(),
        }
    }

    /// The values a closed-set key may take, with what each means; `None` for free text.
    pub(crate) fn choices(self) -> Option<Vec<(String, &'static str)>> {
        fn of<C: Choice>() -> Vec<(String, &'static str)> {
            C::ALL
                .iter()
                .map(|value| (value.as_str().to_owned(), value.describe()))
                .collect()
        }
        match self {
            Self::Level => Some(
                Level::all()
                    .map(|level| (level.to_string(), level.name()))
                    .collect(),
            ),
            Self::PythonVersion => Some(of::<PythonVersion>()),
            Self::Task => Some(of::<Task>()),
            Self::CiProvider => Some(of::<CiProvider>()),
            Self::Compute => Some(of::<Compute>()),
            Self::ProjectName
            | Self::PackageName
            | Self::Description
            | Self::Author
            | Self::AuthorEmail => None,
        }
    }

    /// How to give the answer when it is missing and there is no default.
    pub(crate) fn missing_hint(self) -> &'static str {
        match self {
            Self::Level => "pass `--level N` (0 to 4), or set `level` in the answers file",
            Self::ProjectName => "pass `--name NAME`, or give a target path that ends in a name",
            _ => "pass `--set KEY=VALUE`, or set it in the answers file",
        }
    }
}

impl fmt::Display for AnswerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_from_its_spelling() {
        for key in AnswerKey::ALL {
            assert_eq!(AnswerKey::parse(key.as_str()), Some(key));
        }
        assert_eq!(AnswerKey::parse("colour"), None);
        assert!(AnswerKey::listed().starts_with("level, project_name, package_name"));
    }

    #[test]
    fn closed_sets_offer_their_values() {
        let tasks = AnswerKey::Task.choices().unwrap();
        assert_eq!(tasks[0].0, "classification");
        assert!(tasks[0].1.contains("breast cancer"));
        assert_eq!(AnswerKey::Level.choices().unwrap().len(), 5);
        assert_eq!(AnswerKey::Description.choices(), None);
    }
}
