//! The answers a project is generated from, and where each one comes from.
//!
//! Precedence, highest first: command-line flags (`--level`, `--name`, `--set KEY=VALUE`), the
//! answers file (TOML or YAML), a prompt (only on a terminal without `--no-input`; the prompting
//! itself lives in `prompt.rs` behind the [`Prompter`] trait), then the default. Every value is
//! validated whatever its source, and an error names the source so the user knows what to fix.
//! Resolution is pure: the caller reads files, git config and the terminal.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use heck::ToSnakeCase;
use serde::{Deserialize, Serialize};

use crate::python_names::{KEYWORDS, RESERVED_BY_PROJECT, STDLIB_MODULES};

/// The highest maturity level, also the number of levels minus one.
pub const MAX_LEVEL: u8 = 4;

/// The answers recorded in the manifest and given to the templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub project_name: String,
    pub package_name: String,
    pub description: String,
    pub author: String,
    pub author_email: String,
    pub python_version: String,
    pub task: String,
    pub ci_provider: String,
}

/// One question the generator can ask. `level` is a question too, but not an [`Answers`] field:
/// the manifest records it on its own.
#[derive(Debug)]
pub struct Question {
    pub key: &'static str,
    pub prompt: &'static str,
    /// Allowed values; empty for free text.
    pub choices: &'static [&'static str],
}

pub const LEVEL_KEY: &str = "level";

/// Every question, in the order prompts ask them.
pub const QUESTIONS: &[Question] = &[
    Question {
        key: LEVEL_KEY,
        prompt: "MLOps maturity level",
        choices: &["0", "1", "2", "3", "4"],
    },
    Question {
        key: "project_name",
        prompt: "Project name",
        choices: &[],
    },
    Question {
        key: "package_name",
        prompt: "Python package name",
        choices: &[],
    },
    Question {
        key: "description",
        prompt: "One-line description",
        choices: &[],
    },
    Question {
        key: "author",
        prompt: "Author",
        choices: &[],
    },
    Question {
        key: "author_email",
        prompt: "Author e-mail (may be empty)",
        choices: &[],
    },
    Question {
        key: "python_version",
        prompt: "Python version",
        choices: &[],
    },
    Question {
        key: "task",
        prompt: "Task",
        choices: &["classification", "regression"],
    },
    Question {
        key: "ci_provider",
        prompt: "CI provider",
        choices: &["github"],
    },
];

/// The longest package name: every template keeps its lines within ruff's 100 columns up to it,
/// which a unit test of `render` checks.
pub const MAX_PACKAGE_NAME: usize = 30;

pub const SUPPORTED_PYTHON: &[&str] = &["3.11", "3.12", "3.13"];

pub fn question(key: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|question| question.key == key)
}

pub fn known_keys() -> String {
    QUESTIONS
        .iter()
        .map(|question| question.key)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    File(String),
    Prompt,
    Default,
    Derived(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("from the command line"),
            Self::File(path) => write!(f, "from the answers file `{path}`"),
            Self::Prompt => f.write_str("from the prompt"),
            Self::Default => f.write_str("the default"),
            Self::Derived(from) => write!(f, "derived from the {from}"),
        }
    }
}

/// Why the answers cannot be resolved. Each is the user's to fix, so each says how.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnswerError {
    #[error("invalid {key} `{value}` ({origin}): {reason}")]
    Invalid {
        key: &'static str,
        value: String,
        origin: Source,
        reason: String,
    },
    #[error("missing answer `{key}`: {hint}")]
    Missing {
        key: &'static str,
        hint: &'static str,
    },
    #[error("unknown answer `{key}`{origin}: the known answers are {known}")]
    Unknown {
        key: String,
        origin: String,
        known: String,
    },
    #[error("malformed answers file `{path}`: {reason}")]
    MalformedFile { path: String, reason: String },
}

/// Answers given before prompting: flags, the answers file, and (when adopting a repository
/// `mlops new` did not make) what the repository itself says.
#[derive(Debug, Default, Clone)]
pub struct Given {
    pub flags: BTreeMap<String, String>,
    pub file: BTreeMap<String, String>,
    pub file_path: Option<String>,
    pub derived: BTreeMap<String, String>,
}

impl Given {
    fn lookup(&self, key: &str) -> Option<(String, Source)> {
        if let Some(value) = self.flags.get(key) {
            return Some((value.clone(), Source::Flag));
        }
        if let Some(value) = self.file.get(key) {
            let path = self.file_path.clone().unwrap_or_default();
            return Some((value.clone(), Source::File(path)));
        }
        self.derived
            .get(key)
            .map(|value| (value.clone(), Source::Derived("repository")))
    }
}

/// Defaults that depend on the machine (the target directory's name, git's `user.name`), found
/// by the caller so that resolution stays pure.
#[derive(Debug, Clone)]
pub struct Defaults {
    pub project_name: Option<String>,
    pub author: String,
    pub author_email: String,
}

/// Asks the user for an answer. `validate` returns the reason a value is refused.
pub trait Prompter {
    fn text(
        &mut self,
        question: &Question,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> anyhow::Result<String>;

    fn choice(&mut self, question: &Question, default: usize) -> anyhow::Result<usize>;
}

/// Resolves the level and every answer, in the order of [`QUESTIONS`].
pub fn resolve(
    given: &Given,
    defaults: &Defaults,
    mut prompter: Option<&mut dyn Prompter>,
) -> anyhow::Result<(u8, Answers)> {
    let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
    for question in QUESTIONS {
        let default = default_for(question.key, &values, defaults);
        let value = if let Some((value, source)) = given.lookup(question.key) {
            validate(question.key, &value, &values).map_err(|reason| AnswerError::Invalid {
                key: display_key(question.key),
                value: value.clone(),
                origin: source,
                reason,
            })?;
            value
        } else if let Some(prompter) = prompter.as_deref_mut() {
            ask(
                prompter,
                question,
                default.as_ref().map(|(value, _)| value.as_str()),
                &values,
            )?
        } else if let Some((value, source)) = default {
            validate(question.key, &value, &values).map_err(|reason| AnswerError::Invalid {
                key: display_key(question.key),
                value: value.clone(),
                origin: source,
                reason,
            })?;
            value
        } else {
            return Err(AnswerError::Missing {
                key: question.key,
                hint: missing_hint(question.key),
            }
            .into());
        };
        values.insert(question.key, value);
    }
    let level = values[LEVEL_KEY].parse().expect("validated level");
    let mut take = |key: &str| values.remove(key).expect("every question is answered");
    let answers = Answers {
        project_name: take("project_name"),
        package_name: take("package_name"),
        description: take("description"),
        author: take("author"),
        author_email: take("author_email"),
        python_version: take("python_version"),
        task: take("task"),
        ci_provider: take("ci_provider"),
    };
    Ok((level, answers))
}

fn ask(
    prompter: &mut dyn Prompter,
    question: &'static Question,
    default: Option<&str>,
    earlier: &BTreeMap<&'static str, String>,
) -> anyhow::Result<String> {
    if question.choices.is_empty() {
        let check = |value: &str| validate(question.key, value, earlier);
        prompter.text(question, default.unwrap_or(""), &check)
    } else {
        let default_index = default
            .and_then(|default| {
                question
                    .choices
                    .iter()
                    .position(|choice| *choice == default)
            })
            .unwrap_or(0);
        let index = prompter.choice(question, default_index)?;
        Ok(question.choices[index].to_owned())
    }
}

fn default_for(
    key: &str,
    earlier: &BTreeMap<&'static str, String>,
    defaults: &Defaults,
) -> Option<(String, Source)> {
    let value = match key {
        LEVEL_KEY => return None,
        "project_name" => {
            return defaults
                .project_name
                .clone()
                .map(|name| (name, Source::Derived("target directory name")));
        }
        "package_name" => {
            return earlier
                .get("project_name")
                .map(|name| (package_name_for(name), Source::Derived("project name")));
        }
        "description" => earlier
            .get("project_name")
            .map_or_else(String::new, |name| {
                format!("{name}: a machine-learning project")
            }),
        "author" => defaults.author.clone(),
        "author_email" => defaults.author_email.clone(),
        "python_version" => "3.11".to_owned(),
        "task" => "classification".to_owned(),
        "ci_provider" => "github".to_owned(),
        _ => return None,
    };
    Some((value, Source::Default))
}

fn missing_hint(key: &str) -> &'static str {
    match key {
        LEVEL_KEY => "pass `--level N` (0 to 4), or set `level` in the answers file",
        "project_name" => "pass `--name NAME`, or give a target path that ends in a name",
        _ => "pass `--set KEY=VALUE`, or set it in the answers file",
    }
}

fn display_key(key: &'static str) -> &'static str {
    match key {
        "project_name" => "project name",
        "package_name" => "package name",
        "python_version" => "Python version",
        "author_email" => "author e-mail",
        "ci_provider" => "CI provider",
        other => other,
    }
}

/// The package name derived from a project name: `Fraud Detector` becomes `fraud_detector`.
pub fn package_name_for(project_name: &str) -> String {
    project_name.to_snake_case()
}

/// Checks one answer; `earlier` holds the answers already resolved.
pub fn validate(
    key: &str,
    value: &str,
    earlier: &BTreeMap<&'static str, String>,
) -> Result<(), String> {
    if value.contains(['\n', '\r']) {
        return Err("it must be a single line".to_owned());
    }
    match key {
        LEVEL_KEY => match value.parse::<u8>() {
            Ok(level) if level <= MAX_LEVEL => Ok(()),
            _ => Err(format!("levels are 0 to {MAX_LEVEL}")),
        },
        "project_name" => validate_project_name(value),
        "package_name" => validate_package_name(value).map_err(|reason| {
            let derived = earlier
                .get("project_name")
                .is_some_and(|name| package_name_for(name) == value);
            if derived {
                format!("{reason}; choose another project name or pass `--set package_name=NAME`")
            } else {
                reason
            }
        }),
        "author_email" if !value.is_empty() && !is_plausible_email(value) => {
            Err("it must look like `name@example.com`, or be empty".to_owned())
        }
        "python_version" if !SUPPORTED_PYTHON.contains(&value) => Err(format!(
            "the supported versions are {}",
            SUPPORTED_PYTHON.join(", ")
        )),
        _ => match question(key) {
            Some(question)
                if !question.choices.is_empty() && !question.choices.contains(&value) =>
            {
                Err(format!("choose one of {}", question.choices.join(", ")))
            }
            _ => Ok(()),
        },
    }
}

/// A project name is a distribution name (PEP 508): ASCII letters, digits, `-`, `_`, `.` and
/// spaces, starting and ending with a letter or digit, so it can name a directory and a package.
pub fn validate_project_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("it is empty".to_owned());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ')))
    {
        return Err(format!(
            "`{bad}` is not allowed: use ASCII letters, digits, `-`, `_`, `.` and spaces"
        ));
    }
    let first_and_last = [name.chars().next(), name.chars().last()];
    if first_and_last
        .iter()
        .flatten()
        .any(|c| !c.is_ascii_alphanumeric())
    {
        return Err("it must start and end with a letter or digit".to_owned());
    }
    if name.len() > 64 {
        return Err("it is longer than 64 characters".to_owned());
    }
    Ok(())
}

/// A package name is a lowercase Python identifier that shadows nothing the project imports.
pub fn validate_package_name(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("it is empty".to_owned());
    };
    if !(first.is_ascii_lowercase() || first == '_') {
        return Err(
            "it is not a Python identifier: it must start with a lowercase letter or `_`"
                .to_owned(),
        );
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "`{bad}` is not allowed: use lowercase ASCII letters, digits and `_`"
        ));
    }
    if name.len() > MAX_PACKAGE_NAME {
        return Err(format!(
            "it is longer than {MAX_PACKAGE_NAME} characters, the longest for which the generated code \
             stays within its line length"
        ));
    }
    if KEYWORDS.contains(&name) {
        return Err("it is a Python keyword".to_owned());
    }
    if STDLIB_MODULES.contains(&name) {
        return Err(format!(
            "it would shadow the standard-library module `{name}`"
        ));
    }
    if RESERVED_BY_PROJECT.contains(&name) {
        return Err(format!(
            "it would shadow `{name}`, which the generated project imports"
        ));
    }
    Ok(())
}

fn is_plausible_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !value.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// Parses `KEY=VALUE` from `--set`, refusing unknown keys.
pub fn parse_set(argument: &str) -> Result<(String, String), String> {
    let Some((key, value)) = argument.split_once('=') else {
        return Err(format!(
            "`{argument}` is not KEY=VALUE: the known keys are {}",
            known_keys()
        ));
    };
    let key = key.trim();
    if question(key).is_none() {
        return Err(format!(
            "unknown key `{key}`: the known keys are {}",
            known_keys()
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// Reads the answers file's text: a flat table of scalars, TOML or YAML by extension.
pub fn parse_answers_file(
    path: &Path,
    text: &str,
) -> Result<BTreeMap<String, String>, AnswerError> {
    let shown = path.display().to_string();
    let malformed = |reason: String| AnswerError::MalformedFile {
        path: shown.clone(),
        reason,
    };
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("");
    let table: BTreeMap<String, ScalarValue> = match extension {
        "toml" => toml::from_str(text).map_err(|error| malformed(error.message().to_owned()))?,
        "yaml" | "yml" => {
            if text.trim().is_empty() {
                BTreeMap::new()
            } else {
                serde_saphyr::from_str(text)
                    .map_err(|error| malformed(first_line(&error.to_string())))?
            }
        }
        _ => {
            return Err(malformed(
                "the extension must be `.toml`, `.yaml` or `.yml`".to_owned(),
            ));
        }
    };
    let mut answers = BTreeMap::new();
    for (key, value) in table {
        if question(&key).is_none() {
            return Err(AnswerError::Unknown {
                key,
                origin: format!(" in `{shown}`"),
                known: known_keys(),
            });
        }
        answers.insert(key, value.0);
    }
    Ok(answers)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).to_owned()
}

/// A string, number or boolean from an answers file, kept as the text the user meant.
struct ScalarValue(String);

impl<'de> Deserialize<'de> for ScalarValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ScalarValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a number or a boolean")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<ScalarValue, E> {
                Ok(ScalarValue(value.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<ScalarValue, E> {
                Ok(ScalarValue(value.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<ScalarValue, E> {
                Ok(ScalarValue(value.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<ScalarValue, E> {
                // A YAML `3.11` arrives as a float; its shortest form is what the user wrote,
                // except that `3.10` reads back as `3.1`, which validation then refuses.
                Ok(ScalarValue(value.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<ScalarValue, E> {
                Ok(ScalarValue(value.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
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
        python_version: "3.11".to_owned(),
        task: "classification".to_owned(),
        ci_provider: "github".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_package(name: &str, expected: Result<(), &str>) {
        assert_eq!(
            validate_package_name(name),
            expected.map_err(str::to_owned),
            "package {name:?}"
        );
    }

    fn check_project(name: &str, expected: Result<(), &str>) {
        assert_eq!(
            validate_project_name(name),
            expected.map_err(str::to_owned),
            "project {name:?}"
        );
    }

    #[test]
    fn package_names() {
        check_package("demo", Ok(()));
        check_package("fraud_detector2", Ok(()));
        check_package("_private", Ok(()));
        check_package("match", Ok(()));
        check_package("", Err("it is empty"));
        check_package(
            "1abc",
            Err("it is not a Python identifier: it must start with a lowercase letter or `_`"),
        );
        check_package("class", Err("it is a Python keyword"));
        check_package(
            "json",
            Err("it would shadow the standard-library module `json`"),
        );
        check_package(
            "mlflow",
            Err("it would shadow `mlflow`, which the generated project imports"),
        );
        check_package(
            "my-pkg",
            Err("`-` is not allowed: use lowercase ASCII letters, digits and `_`"),
        );
    }

    #[test]
    fn project_names() {
        check_project("demo", Ok(()));
        check_project("Fraud Detector", Ok(()));
        check_project("churn-model.v2", Ok(()));
        check_project("", Err("it is empty"));
        check_project(
            "my/../x",
            Err("`/` is not allowed: use ASCII letters, digits, `-`, `_`, `.` and spaces"),
        );
        check_project("-x", Err("it must start and end with a letter or digit"));
        check_project(
            "café",
            Err("`é` is not allowed: use ASCII letters, digits, `-`, `_`, `.` and spaces"),
        );
    }

    #[test]
    fn package_names_derive_from_project_names() {
        assert_eq!(package_name_for("Fraud Detector"), "fraud_detector");
        assert_eq!(package_name_for("churn-model"), "churn_model");
        assert_eq!(package_name_for("demo"), "demo");
    }

    #[test]
    fn set_arguments() {
        assert_eq!(
            parse_set("task=regression"),
            Ok(("task".to_owned(), "regression".to_owned()))
        );
        assert_eq!(
            parse_set("description=a=b"),
            Ok(("description".to_owned(), "a=b".to_owned()))
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

    fn defaults() -> Defaults {
        Defaults {
            project_name: Some("demo".to_owned()),
            author: "Ada".to_owned(),
            author_email: String::new(),
        }
    }

    #[test]
    fn flags_win_over_the_file_and_defaults_fill_the_rest() {
        let given = Given {
            flags: BTreeMap::from([
                ("level".to_owned(), "2".to_owned()),
                ("task".to_owned(), "regression".to_owned()),
            ]),
            file: BTreeMap::from([
                ("task".to_owned(), "classification".to_owned()),
                ("author".to_owned(), "Grace".to_owned()),
            ]),
            file_path: Some("answers.toml".to_owned()),
            ..Given::default()
        };
        let (level, answers) = resolve(&given, &defaults(), None).unwrap();
        assert_eq!(level, 2);
        assert_eq!(answers.task, "regression");
        assert_eq!(answers.author, "Grace");
        assert_eq!(answers.package_name, "demo");
        assert_eq!(answers.python_version, "3.11");
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
        let given = Given {
            flags: BTreeMap::from([("level".to_owned(), "0".to_owned())]),
            ..Given::default()
        };
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

    #[test]
    fn answers_files_in_toml_and_yaml() {
        let toml =
            parse_answers_file(Path::new("a.toml"), "level = 2\ntask = \"regression\"\n").unwrap();
        assert_eq!(toml["level"], "2");
        assert_eq!(toml["task"], "regression");
        let yaml = parse_answers_file(Path::new("a.yaml"), "level: 3\npython_version: \"3.12\"\n")
            .unwrap();
        assert_eq!(yaml["level"], "3");
        assert_eq!(yaml["python_version"], "3.12");
        let unknown = parse_answers_file(Path::new("a.toml"), "colour = \"red\"\n").unwrap_err();
        assert!(
            unknown
                .to_string()
                .starts_with("unknown answer `colour` in `a.toml`")
        );
        let nested = parse_answers_file(Path::new("a.toml"), "[task]\nx = 1\n").unwrap_err();
        assert!(
            nested
                .to_string()
                .starts_with("malformed answers file `a.toml`"),
            "{nested}"
        );
        let extension = parse_answers_file(Path::new("a.json"), "{}").unwrap_err();
        assert!(extension.to_string().contains("the extension must be"));
    }
}
