//! The answers with a closed set of values, as types: the task, the CI provider, the compute
//! engine and the Python version. Each is declared once, with its spelling and what it means;
//! prompts, validation, the manifest and the templates all read it from here, so adding a value is
//! adding a variant.

use std::fmt;

/// A closed set of answer values.
pub(crate) trait Choice: Copy + Eq + Sized + 'static {
    /// Every value, in the order prompts offer them; the first is the default.
    const ALL: &'static [Self];

    /// The value as users, the manifest and the templates spell it.
    fn as_str(self) -> &'static str;

    /// What choosing it means, shown beside it in prompts.
    fn describe(self) -> &'static str;

    fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|value| value.as_str() == text)
    }

    /// The values, for error messages: `a, b, c`.
    fn listed() -> String {
        Self::ALL
            .iter()
            .map(|value| value.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Implements `Display` and string (de)serialisation for a [`Choice`].
macro_rules! choice_serde {
    ($type:ty, $what:literal) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                <$type>::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`{text}` is not a {}: choose one of {}",
                        $what,
                        <$type>::listed()
                    ))
                })
            }
        }
    };
}

/// What the model predicts, and so which data set and metrics the project starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    Classification,
    Regression,
}

impl Choice for Task {
    const ALL: &'static [Self] = &[Self::Classification, Self::Regression];

    fn as_str(self) -> &'static str {
        match self {
            Self::Classification => "classification",
            Self::Regression => "regression",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Classification => "breast cancer data set: benign or malignant",
            Self::Regression => "diabetes data set: disease progression after a year",
        }
    }
}

choice_serde!(Task, "task");

/// Where the project's pipelines run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CiProvider {
    Github,
    Gitlab,
    Azure,
}

impl Choice for CiProvider {
    const ALL: &'static [Self] = &[Self::Github, Self::Gitlab, Self::Azure];

    fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Azure => "azure",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Github => "GitHub Actions: workflows in .github/, images in GHCR, GitHub issues",
            Self::Gitlab => {
                "GitLab CI/CD: .gitlab-ci.yml, the project's container registry, GitLab issues"
            }
            Self::Azure => {
                "Azure Pipelines: azure-pipelines.yml, a registry by service connection, Azure Boards"
            }
        }
    }
}

choice_serde!(CiProvider, "CI provider");

/// Where the training's hyperparameter search and batch scoring run, from level 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Compute {
    #[default]
    Local,
    Ray,
}

impl Choice for Compute {
    const ALL: &'static [Self] = &[Self::Local, Self::Ray];

    fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Ray => "ray",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Local => "in the training process, on the runner",
            Self::Ray => {
                "a Ray cluster: Tune trials, Ray Data scoring, the Jobs API, KubeRay manifests"
            }
        }
    }
}

choice_serde!(Compute, "compute engine");

impl Compute {
    /// Whether `self` is the default, which manifests written before the answer existed mean.
    /// (By reference: serde's `skip_serializing_if` calls it so.)
    #[allow(clippy::trivially_copy_pass_by_ref)]
    pub(crate) fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// The Python versions the generated projects support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PythonVersion {
    Py311,
    Py312,
    Py313,
}

impl Choice for PythonVersion {
    const ALL: &'static [Self] = &[Self::Py311, Self::Py312, Self::Py313];

    fn as_str(self) -> &'static str {
        match self {
            Self::Py311 => "3.11",
            Self::Py312 => "3.12",
            Self::Py313 => "3.13",
        }
    }

    fn describe(self) -> &'static str {
        ""
    }
}

choice_serde!(PythonVersion, "supported Python version");

impl PythonVersion {
    /// Ruff's and black's spelling: `py311`.
    pub(crate) fn tag(self) -> String {
        format!("py{}", self.as_str().replace('.', ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_from_their_spelling_only() {
        for task in Task::ALL {
            assert_eq!(Task::parse(task.as_str()), Some(*task));
        }
        assert_eq!(Task::parse("Regression"), None);
        assert_eq!(CiProvider::parse("github"), Some(CiProvider::Github));
        assert_eq!(CiProvider::parse("gitlab"), Some(CiProvider::Gitlab));
        assert_eq!(CiProvider::parse("azure"), Some(CiProvider::Azure));
        assert_eq!(CiProvider::parse("GitLab"), None);
        assert_eq!(CiProvider::listed(), "github, gitlab, azure");
        assert_eq!(Compute::parse("ray"), Some(Compute::Ray));
        assert_eq!(Compute::listed(), "local, ray");
        assert_eq!(Compute::default(), Compute::Local);
        assert_eq!(PythonVersion::parse("3.12"), Some(PythonVersion::Py312));
        assert_eq!(PythonVersion::parse("3.1"), None);
        assert_eq!(PythonVersion::Py313.tag(), "py313");
        assert_eq!(Task::listed(), "classification, regression");
    }

    #[test]
    fn serialised_as_their_spelling() {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Holder {
            task: Task,
        }
        let text = toml::to_string(&Holder {
            task: Task::Regression,
        })
        .unwrap();
        assert_eq!(text, "task = \"regression\"\n");
        let error = toml::from_str::<Holder>("task = \"clustering\"\n").unwrap_err();
        assert!(
            error
                .message()
                .contains("`clustering` is not a task: choose one of classification, regression"),
            "{error}"
        );
    }
}
