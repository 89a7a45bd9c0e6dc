//! What kind of file a path names, for `assess`: Python, a notebook, a CI pipeline of some
//! provider, a Dockerfile, DVC, a Makefile, shell or configuration; and whether Python is a test.

use super::ci::Provider;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Python,
    Notebook,
    Ci(Provider),
    Dockerfile,
    /// `dvc.yaml`, `dvc.lock`, `*.dvc` pointer files and `.dvc/config`.
    Dvc,
    Makefile,
    Shell,
    /// YAML, TOML, INI, requirements, `MLproject`, `.gitattributes` and the like.
    Config,
}

impl Kind {
    /// The kind of the file at `path` (relative, with `/`), or `None` if assess has no use for it.
    pub(crate) fn of(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path).to_lowercase();
        let extension = name.rsplit_once('.').map_or("", |(_, extension)| extension);
        let is_yaml = is_yaml(path);
        let in_dir = |dir: &str| path.starts_with(dir) || path.contains(&format!("/{dir}"));
        let provider = if path.starts_with(".github/workflows/") && is_yaml {
            Some(Provider::GithubActions)
        } else if name.ends_with(".gitlab-ci.yml") || (in_dir(".gitlab/") && is_yaml) {
            Some(Provider::GitlabCi)
        } else if (name.starts_with("azure-pipelines") || in_dir(".azure-pipelines/")) && is_yaml {
            Some(Provider::AzurePipelines)
        } else if name.starts_with("jenkinsfile") || name.ends_with(".jenkinsfile") {
            Some(Provider::Jenkins)
        } else if path == ".circleci/config.yml" {
            Some(Provider::CircleCi)
        } else if name == "bitbucket-pipelines.yml" {
            Some(Provider::Bitbucket)
        } else if name == ".travis.yml" {
            Some(Provider::Travis)
        } else if matches!(name.as_str(), "cloudbuild.yaml" | "cloudbuild.yml") {
            Some(Provider::CloudBuild)
        } else if name == "buildspec.yml" || name == "buildspec.yaml" {
            Some(Provider::CodeBuild)
        } else if matches!(name.as_str(), ".drone.yml" | ".woodpecker.yml")
            || (path.starts_with(".buildkite/") && is_yaml)
        {
            Some(Provider::Other)
        } else {
            None
        };
        if let Some(provider) = provider {
            return Some(Self::Ci(provider));
        }
        let kind = match extension {
            "py" => Self::Python,
            "ipynb" => Self::Notebook,
            "dvc" => Self::Dvc,
            "sh" | "bash" => Self::Shell,
            "mk" => Self::Makefile,
            _ if name == "dvc.yaml" || name == "dvc.lock" || path == ".dvc/config" => Self::Dvc,
            _ if name.starts_with("dockerfile")
                || name.ends_with(".dockerfile")
                || name == "containerfile" =>
            {
                Self::Dockerfile
            }
            _ if name == "makefile" || name == "gnumakefile" => Self::Makefile,
            "yml" | "yaml" | "toml" | "cfg" | "ini" => Self::Config,
            "txt" if name.starts_with("requirements") => Self::Config,
            _ if matches!(
                name.as_str(),
                "mlproject" | "procfile" | "pipfile" | ".gitattributes"
            ) =>
            {
                Self::Config
            }
            _ => return None,
        };
        Some(kind)
    }
}

/// A YAML file, by its extension.
pub(super) fn is_yaml(path: &str) -> bool {
    let extension = path.rsplit_once('.').map_or("", |(_, extension)| extension);
    extension.eq_ignore_ascii_case("yml") || extension.eq_ignore_ascii_case("yaml")
}

/// A Python test module (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`).
pub(super) fn is_python_test(path: &str, kind: Kind) -> bool {
    if !matches!(kind, Kind::Python | Kind::Notebook) {
        return false;
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or_default();
    let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
    parts
        .iter()
        .any(|dir| matches!(*dir, "tests" | "test" | "testing"))
        || stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem == "conftest"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_paths() {
        let cases = [
            (
                ".github/workflows/ci.yml",
                Some(Kind::Ci(Provider::GithubActions)),
            ),
            (".gitlab-ci.yml", Some(Kind::Ci(Provider::GitlabCi))),
            ("ci/train.gitlab-ci.yml", Some(Kind::Ci(Provider::GitlabCi))),
            (
                "azure-pipelines.yml",
                Some(Kind::Ci(Provider::AzurePipelines)),
            ),
            ("Jenkinsfile", Some(Kind::Ci(Provider::Jenkins))),
            (
                "jenkins/train.Jenkinsfile",
                Some(Kind::Ci(Provider::Jenkins)),
            ),
            (".circleci/config.yml", Some(Kind::Ci(Provider::CircleCi))),
            ("src/pkg/train.py", Some(Kind::Python)),
            ("notebooks/eda.ipynb", Some(Kind::Notebook)),
            ("docker/Dockerfile.gpu", Some(Kind::Dockerfile)),
            ("dvc.yaml", Some(Kind::Dvc)),
            ("data/raw.dvc", Some(Kind::Dvc)),
            ("Makefile", Some(Kind::Makefile)),
            ("configs/train.yaml", Some(Kind::Config)),
            ("requirements-dev.txt", Some(Kind::Config)),
            ("MLproject", Some(Kind::Config)),
            ("README.md", None),
            ("data.csv", None),
            ("notes.txt", None),
        ];
        for (path, expected) in cases {
            assert_eq!(Kind::of(path), expected, "{path}");
        }
    }
}
