//! What makes an answer valid, whatever its source. Each refusal says what is wrong in a way the
//! user can act on, and proposes a value when one is obvious.
//!
//! Every answer is a single line without control characters: answers are rendered into Python,
//! TOML, YAML, Makefiles, shell and Markdown, and a control character has no safe spelling in
//! all of them (and could forge a line on the terminal).

use std::collections::BTreeMap;

use heck::ToSnakeCase;

use super::choice::{Choice, PythonVersion};
use super::key::AnswerKey;
use super::python_names::{KEYWORDS, RESERVED_BY_PROJECT, STDLIB_MODULES};
use crate::level::Level;

/// The longest package name: every template keeps its lines within ruff's 100 columns up to it,
/// which a unit test of the rendering checks.
pub(crate) const MAX_PACKAGE_NAME: usize = 30;

/// Names a package may not take because the project's layout or Python's start-up gives them a
/// meaning of their own.
const RESERVED_BY_LAYOUT: &[&str] = &["src", "tests", "conftest", "sitecustomize", "usercustomize"];

/// Answers resolved so far, by key.
pub(crate) type Earlier = BTreeMap<AnswerKey, String>;

/// Checks one answer; `earlier` holds the answers already resolved.
pub(crate) fn validate(key: AnswerKey, value: &str, earlier: &Earlier) -> Result<(), String> {
    if let Some(control) = value.chars().find(|c| c.is_control()) {
        return Err(if matches!(control, '\n' | '\r') {
            "it must be a single line".to_owned()
        } else {
            format!(
                "it contains the control character U+{:04X}: use printable characters only",
                u32::from(control)
            )
        });
    }
    match key {
        AnswerKey::Level => Level::parse(value).map(|_| ()),
        AnswerKey::ProjectName => validate_project_name(value),
        AnswerKey::PackageName => validate_package_name(value).map_err(|reason| {
            let derived = earlier
                .get(&AnswerKey::ProjectName)
                .is_some_and(|name| package_name_for(name) == value);
            if derived {
                format!("{reason}; choose another project name or pass `--set package_name=NAME`")
            } else {
                reason
            }
        }),
        AnswerKey::AuthorEmail if !value.is_empty() && !is_plausible_email(value) => {
            Err("it must look like `name@example.com`, or be empty".to_owned())
        }
        AnswerKey::PythonVersion if PythonVersion::parse(value).is_none() => Err(format!(
            "the supported versions are {}",
            PythonVersion::listed()
        )),
        _ => match key.choices() {
            Some(choices) if !choices.iter().any(|(choice, _)| choice == value) => {
                let listed: Vec<&str> = choices.iter().map(|(choice, _)| choice.as_str()).collect();
                Err(format!("choose one of {}", listed.join(", ")))
            }
            _ => Ok(()),
        },
    }
}

/// The package name derived from a project name: `Fraud Detector` becomes `fraud_detector`.
pub(crate) fn package_name_for(project_name: &str) -> String {
    project_name.to_snake_case()
}

/// A project name is a distribution name (PEP 508): ASCII letters, digits, `-`, `_`, `.` and
/// spaces, starting and ending with a letter or digit, so it can name a directory and a package.
pub(crate) fn validate_project_name(name: &str) -> Result<(), String> {
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

/// A package name is a lowercase Python identifier that shadows nothing the project imports and
/// means nothing special to Python or the project's layout.
pub(crate) fn validate_package_name(name: &str) -> Result<(), String> {
    let Some(first) = name.chars().next() else {
        return Err("it is empty".to_owned());
    };
    if name.chars().any(|c| c.is_ascii_uppercase()) {
        let lowercase = name.to_snake_case();
        return Err(if validate_package_name(&lowercase).is_ok() {
            format!("Python package names are lowercase: use `{lowercase}`")
        } else {
            "Python package names are lowercase".to_owned()
        });
    }
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
    if name.len() > 4 && name.starts_with("__") && name.ends_with("__") {
        return Err(format!(
            "`{name}` is a name Python reserves for itself (double underscores on both sides)"
        ));
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
    if RESERVED_BY_LAYOUT.contains(&name) {
        return Err(format!(
            "`{name}` has a meaning of its own to Python or the project layout: choose another name"
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

    fn check(key: AnswerKey, value: &str, expected: Result<(), &str>) {
        assert_eq!(
            validate(key, value, &Earlier::new()),
            expected.map_err(str::to_owned),
            "{key} {value:?}"
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
        check_package("Foo", Err("Python package names are lowercase: use `foo`"));
        check_package(
            "FraudDetector",
            Err("Python package names are lowercase: use `fraud_detector`"),
        );
        check_package("Class", Err("Python package names are lowercase"));
        check_package(
            "__pycache__",
            Err(
                "`__pycache__` is a name Python reserves for itself (double underscores on both sides)",
            ),
        );
        for reserved in ["src", "conftest", "sitecustomize"] {
            check_package(
                reserved,
                Err(&format!(
                    "`{reserved}` has a meaning of its own to Python or the project layout: choose another name"
                )),
            );
        }
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
    fn control_characters_are_refused_in_every_answer() {
        check(
            AnswerKey::Description,
            "a\nb",
            Err("it must be a single line"),
        );
        check(
            AnswerKey::Description,
            "nul\0",
            Err("it contains the control character U+0000: use printable characters only"),
        );
        check(
            AnswerKey::Author,
            "del\u{7f}",
            Err("it contains the control character U+007F: use printable characters only"),
        );
        check(
            AnswerKey::Description,
            "\u{1b}[31mred",
            Err("it contains the control character U+001B: use printable characters only"),
        );
        check(
            AnswerKey::Description,
            "Says \"no\" to fraud \\ café",
            Ok(()),
        );
    }

    #[test]
    fn closed_sets_and_levels() {
        check(AnswerKey::Level, "4", Ok(()));
        check(AnswerKey::Level, "5", Err("levels are 0 to 4"));
        check(
            AnswerKey::Task,
            "clustering",
            Err("choose one of classification, regression"),
        );
        check(
            AnswerKey::PythonVersion,
            "3.10",
            Err("the supported versions are 3.11, 3.12, 3.13"),
        );
        check(
            AnswerKey::AuthorEmail,
            "nobody",
            Err("it must look like `name@example.com`, or be empty"),
        );
        check(AnswerKey::AuthorEmail, "", Ok(()));
    }
}
