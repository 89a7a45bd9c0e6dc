//! Answers for a repository that `mlops new` did not make, derived from what it already says.
//!
//! The project name, description, author and Python version come from `pyproject.toml`
//! (`[project]`), `setup.cfg` (`[metadata]`) or `setup.py` (`name="..."`), in that order; without
//! any, the project name is the last component of git's `origin` URL, else the repository's one
//! package (a checkout's directory name says little: `repo`, `app`, a clone's rename). The package
//! name is the one package under `src/` or at the top level. Everything not found is left to
//! flags, prompts and defaults (`answers`). Pure: the caller reads the files.

use std::collections::BTreeMap;

use crate::answers::{AnswerKey, Choice as _, PythonVersion, package_name_for};

/// What the caller read from the repository.
#[derive(Debug, Default)]
pub(super) struct Evidence<'a> {
    pub(super) pyproject: Option<&'a str>,
    pub(super) setup_cfg: Option<&'a str>,
    pub(super) setup_py: Option<&'a str>,
    /// Directories with an `__init__.py`, under `src/` or at the top level, as `src/name` or `name`.
    pub(super) packages: Vec<String>,
    /// The repository directory's name.
    pub(super) directory_name: &'a str,
    /// The URL of git's `origin` remote, if there is one.
    pub(super) origin_url: Option<&'a str>,
}

/// Answer key to value, for every answer the repository determines.
pub(super) fn derive(evidence: &Evidence<'_>) -> BTreeMap<AnswerKey, String> {
    let mut found = BTreeMap::new();
    let mut put = |key: AnswerKey, value: Option<String>| {
        if let Some(value) = value
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
        {
            found.entry(key).or_insert(value);
        }
    };

    if let Some(project) = evidence
        .pyproject
        .and_then(|text| toml::from_str::<toml::Table>(text).ok())
        .and_then(|table| {
            table
                .get("project")
                .and_then(toml::Value::as_table)
                .cloned()
        })
    {
        let text = |key: &str| {
            project
                .get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
        };
        put(AnswerKey::ProjectName, text("name"));
        put(AnswerKey::Description, text("description"));
        let first_author = project
            .get("authors")
            .and_then(toml::Value::as_array)
            .and_then(|authors| authors.first());
        let author_field = |key: &str| {
            first_author
                .and_then(|author| author.get(key))
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
        };
        put(AnswerKey::Author, author_field("name"));
        put(AnswerKey::AuthorEmail, author_field("email"));
        put(
            AnswerKey::PythonVersion,
            text("requires-python").and_then(|spec| python_version(&spec)),
        );
    }
    if let Some(cfg) = evidence.setup_cfg {
        let metadata = ini_section(cfg, "metadata");
        put(AnswerKey::ProjectName, metadata.get("name").cloned());
        put(AnswerKey::Description, metadata.get("description").cloned());
        put(AnswerKey::Author, metadata.get("author").cloned());
        put(
            AnswerKey::AuthorEmail,
            metadata.get("author_email").cloned(),
        );
    }
    if let Some(setup) = evidence.setup_py {
        put(AnswerKey::ProjectName, keyword_string(setup, "name"));
        put(AnswerKey::Description, keyword_string(setup, "description"));
        put(AnswerKey::Author, keyword_string(setup, "author"));
        put(
            AnswerKey::AuthorEmail,
            keyword_string(setup, "author_email"),
        );
    }

    put(
        AnswerKey::ProjectName,
        evidence.origin_url.and_then(repository_name),
    );
    let name = found
        .get(&AnswerKey::ProjectName)
        .cloned()
        .unwrap_or_else(|| evidence.directory_name.to_owned());
    let package = package_for(&evidence.packages, &name).or_else(|| {
        // The directory's name found no package; the only package names the project.
        let names = package_names(&evidence.packages);
        (names.len() == 1).then(|| names[0].to_owned())
    });
    if let Some(package) = package {
        found
            .entry(AnswerKey::ProjectName)
            .or_insert_with(|| package.clone());
        found.entry(AnswerKey::PackageName).or_insert(package);
    }
    found
}

/// The repository's name in a remote URL: its last component without `.git`
/// (`git@github.com:acme/churn-model.git` and `https://github.com/acme/churn-model` give
/// `churn-model`).
fn repository_name(url: &str) -> Option<String> {
    let last = url
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()?
        .trim_end_matches(".git");
    (!last.is_empty()).then(|| last.to_owned())
}

/// The names of the packages, `tests` and the layout's `src` left out.
fn package_names(packages: &[String]) -> Vec<&str> {
    packages
        .iter()
        .map(|package| package.rsplit('/').next().unwrap_or(package))
        .filter(|name| *name != "tests" && *name != "src")
        .collect()
}

/// The package the project already has: the only one, or the one named like the project.
fn package_for(packages: &[String], project_name: &str) -> Option<String> {
    let names: Vec<&str> = packages
        .iter()
        .map(|package| package.rsplit('/').next().unwrap_or(package))
        .collect();
    let wanted = package_name_for(project_name);
    let under_src: Vec<&str> = packages
        .iter()
        .filter_map(|package| package.strip_prefix("src/"))
        .collect();
    if under_src.len() == 1 {
        return Some(under_src[0].to_owned());
    }
    if names.contains(&wanted.as_str()) {
        return Some(wanted);
    }
    let top_level: Vec<&str> = packages
        .iter()
        .filter(|package| !package.contains('/'))
        .map(String::as_str)
        .filter(|name| *name != "tests" && *name != "src")
        .collect();
    (top_level.len() == 1).then(|| top_level[0].to_owned())
}

/// `>=3.11` or `>=3.11,<4` to `3.11`, if it is a version the templates support.
fn python_version(spec: &str) -> Option<String> {
    let lower = spec
        .split(',')
        .find_map(|part| part.trim().strip_prefix(">="))?
        .trim();
    let mut parts = lower.split('.');
    let version = format!("{}.{}", parts.next()?, parts.next()?);
    PythonVersion::parse(&version).map(|version| version.as_str().to_owned())
}

/// `key = value` lines of one `[section]` of an INI file.
fn ini_section(text: &str, section: &str) -> BTreeMap<String, String> {
    let mut inside = false;
    let mut values = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == format!("[{section}]");
        } else if inside && let Some((key, value)) = line.split_once('=') {
            values.insert(key.trim().to_owned(), value.trim().to_owned());
        }
    }
    values
}

/// The string literal passed as `key=` in a `setup(...)` call.
fn keyword_string(source: &str, key: &str) -> Option<String> {
    let mut rest = source;
    while let Some(index) = rest.find(key) {
        let before = rest[..index].chars().last();
        let after = rest[index + key.len()..].trim_start();
        rest = &rest[index + key.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let Some(value) = after.strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        return value[1..].split(quote).next().map(str::to_owned);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(evidence: &Evidence<'_>, expected: &[(&str, &str)]) {
        let actual: BTreeMap<&str, String> = derive(evidence)
            .into_iter()
            .map(|(key, value)| (key.as_str(), value))
            .collect();
        let expected: BTreeMap<&str, String> = expected
            .iter()
            .map(|(key, value)| (*key, (*value).to_owned()))
            .collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn from_pyproject_and_a_src_layout() {
        let pyproject = r#"
[project]
name = "churn-model"
description = "Predicts churn"
requires-python = ">=3.12,<4"
authors = [{ name = "Ada", email = "ada@example.com" }]
"#;
        check(
            &Evidence {
                pyproject: Some(pyproject),
                packages: vec!["src/churn".to_owned()],
                directory_name: "repo",
                ..Evidence::default()
            },
            &[
                ("author", "Ada"),
                ("author_email", "ada@example.com"),
                ("description", "Predicts churn"),
                ("package_name", "churn"),
                ("project_name", "churn-model"),
                ("python_version", "3.12"),
            ],
        );
    }

    #[test]
    fn from_setup_py_and_a_flat_layout() {
        let setup = "from setuptools import setup\nsetup(\n    name='fraud_detector',\n    author=\"Grace\",\n)\n";
        check(
            &Evidence {
                setup_py: Some(setup),
                packages: vec!["fraud_detector".to_owned(), "tests".to_owned()],
                directory_name: "repo",
                ..Evidence::default()
            },
            &[
                ("author", "Grace"),
                ("package_name", "fraud_detector"),
                ("project_name", "fraud_detector"),
            ],
        );
    }

    #[test]
    fn from_setup_cfg() {
        let cfg = "[metadata]\nname = scoring\ndescription = Scores things\n\n[options]\nname = not this\n";
        check(
            &Evidence {
                setup_cfg: Some(cfg),
                directory_name: "repo",
                ..Evidence::default()
            },
            &[
                ("description", "Scores things"),
                ("project_name", "scoring"),
            ],
        );
    }

    #[test]
    fn without_metadata_the_name_comes_from_the_remote_or_the_package() {
        check(
            &Evidence {
                packages: vec!["churn".to_owned(), "tests".to_owned()],
                directory_name: "checkout",
                origin_url: Some("git@github.com:acme/churn-model.git"),
                ..Evidence::default()
            },
            &[("package_name", "churn"), ("project_name", "churn-model")],
        );
        check(
            &Evidence {
                packages: vec!["src/fraud_detection".to_owned()],
                directory_name: "repo",
                origin_url: Some("https://gitlab.com/acme/ml/fraud-detection/"),
                ..Evidence::default()
            },
            &[
                ("package_name", "fraud_detection"),
                ("project_name", "fraud-detection"),
            ],
        );
        // No remote: the one package, not the directory's name.
        check(
            &Evidence {
                packages: vec!["recsys".to_owned(), "tests".to_owned()],
                directory_name: "repo",
                ..Evidence::default()
            },
            &[("package_name", "recsys"), ("project_name", "recsys")],
        );
        // Metadata wins over the remote; `src/__init__.py` is a layout, not a package.
        check(
            &Evidence {
                setup_py: Some("setup(name='churn')"),
                packages: vec!["src".to_owned()],
                directory_name: "repo",
                origin_url: Some("https://github.com/acme/other.git"),
                ..Evidence::default()
            },
            &[("project_name", "churn")],
        );
    }

    #[test]
    fn nothing_to_go_on() {
        check(
            &Evidence {
                directory_name: "notebooks",
                ..Evidence::default()
            },
            &[],
        );
    }

    #[test]
    fn python_versions() {
        assert_eq!(python_version(">=3.11"), Some("3.11".to_owned()));
        assert_eq!(python_version(">= 3.13.1, <4"), Some("3.13".to_owned()));
        assert_eq!(python_version(">=3.8"), None);
        assert_eq!(python_version("~=3.11"), None);
    }
}
