//! Everything that touches git, through git2: finding the work tree, reading the user's identity,
//! creating the first commit, checking for uncommitted changes, and finding old blobs by id.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use git2::{IndexAddOption, Repository, Signature};

/// The identity commits are made with when git has none configured.
const FALLBACK_NAME: &str = "mlops-scaffold";
const FALLBACK_EMAIL: &str = "mlops-scaffold@localhost";

/// The root of the git work tree containing `path`, if any.
pub fn work_tree_of(path: &Path) -> Option<PathBuf> {
    let repository = Repository::discover(path).ok()?;
    repository.workdir().map(Path::to_path_buf)
}

/// `user.name` and `user.email` from the user's git configuration, if set.
pub fn configured_identity() -> (Option<String>, Option<String>) {
    let Ok(config) = git2::Config::open_default() else {
        return (None, None);
    };
    let read = |key: &str| {
        config
            .get_string(key)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    (read("user.name"), read("user.email"))
}

fn signature(repository: &Repository) -> anyhow::Result<Signature<'static>> {
    match repository.signature() {
        Ok(signature) => Ok(signature.to_owned()),
        Err(_) => {
            Signature::now(FALLBACK_NAME, FALLBACK_EMAIL).context("could not make a git signature")
        }
    }
}

/// Creates a repository in `directory` and commits everything in it.
pub fn init_and_commit(directory: &Path, message: &str) -> anyhow::Result<()> {
    let repository = Repository::init(directory).with_context(|| {
        format!(
            "could not create a git repository in `{}`",
            directory.display()
        )
    })?;
    commit_all(&repository, message)
}

/// Stages every file of the work tree and commits it on HEAD.
pub fn commit_all(repository: &Repository, message: &str) -> anyhow::Result<()> {
    let mut index = repository.index().context("could not open the git index")?;
    index
        .add_all(["*"], IndexAddOption::DEFAULT, None)
        .context("could not stage the files")?;
    index.write().context("could not write the git index")?;
    let tree_id = index.write_tree().context("could not write the git tree")?;
    let tree = repository
        .find_tree(tree_id)
        .context("could not read the git tree back")?;
    let signature = signature(repository)?;
    let parent = match repository.head() {
        Ok(head) => Some(head.peel_to_commit().context("HEAD is not a commit")?),
        Err(_) => None,
    };
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repository
        .commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &parents,
        )
        .context("could not commit")?;
    Ok(())
}
