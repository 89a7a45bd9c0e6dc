//! A checked project-relative path, such as `src/demo/train.py`: the only kind of path that
//! enters a [`super::Tree`], a manifest or a plan.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A checked project-relative path, such as `src/demo/train.py`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct RelPath(String);

impl RelPath {
    /// Checks that `path` stays inside the project: relative, no empty, `.` or `..` components,
    /// no backslashes (which would mean a separator on Windows), no control characters (which
    /// could forge a line of a report on a terminal), and nothing under `.git`, which git owns
    /// and where a written hook would run on the next commit.
    pub(crate) fn new(path: &str) -> Result<Self, String> {
        if path.is_empty() {
            return Err("the path is empty".to_owned());
        }
        if path.chars().any(char::is_control) {
            return Err(format!("{path:?} contains a control character"));
        }
        if path.starts_with('/') {
            return Err(format!("`{path}` is absolute"));
        }
        if path.contains('\\') {
            return Err(format!("`{path}` contains a backslash"));
        }
        for component in path.split('/') {
            match component {
                "" => return Err(format!("`{path}` has an empty component")),
                "." | ".." => return Err(format!("`{path}` has a `{component}` component")),
                _ if component.eq_ignore_ascii_case(".git") => {
                    return Err(format!("`{path}` is inside `.git`, which belongs to git"));
                }
                _ => {}
            }
        }
        Ok(Self(path.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RelPath {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value)
    }
}

impl From<RelPath> for String {
    fn from(value: RelPath) -> Self {
        value.0
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, expected: Result<(), &str>) {
        let actual = RelPath::new(path).map(|_| ());
        assert_eq!(actual, expected.map_err(str::to_owned), "path {path:?}");
    }

    #[test]
    fn relative_paths_are_checked() {
        check("README.md", Ok(()));
        check(".github/workflows/ci.yml", Ok(()));
        check("src/demo/__init__.py", Ok(()));
        check("", Err("the path is empty"));
        check("/etc/passwd", Err("`/etc/passwd` is absolute"));
        check("a/../../b", Err("`a/../../b` has a `..` component"));
        check("./a", Err("`./a` has a `.` component"));
        check("a//b", Err("`a//b` has an empty component"));
        check("a\\b", Err("`a\\b` contains a backslash"));
        check("a\0b", Err("\"a\\0b\" contains a control character"));
        check("a\nb", Err("\"a\\nb\" contains a control character"));
        check(
            ".git/hooks/pre-commit",
            Err("`.git/hooks/pre-commit` is inside `.git`, which belongs to git"),
        );
        check(
            "sub/.GIT/config",
            Err("`sub/.GIT/config` is inside `.git`, which belongs to git"),
        );
        check(".github/workflows/ci.yml", Ok(()));
        check(".gitignore", Ok(()));
    }
}
