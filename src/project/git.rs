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
///
/// The first commit's objects are collected in memory and written as one pack, as a clone would
/// have them, instead of a loose file (and often a directory) per object: a few files to create
/// instead of a hundred or more, which is most of what generating a project costs on a busy disk.
pub fn init_and_commit(directory: &Path, message: &str) -> anyhow::Result<()> {
    // Without git's sample hooks: thirteen files nobody reads, and what costs most is creating
    // files.
    let mut options = git2::RepositoryInitOptions::new();
    options.external_template(false);
    let repository = Repository::init_opts(directory, &options).with_context(|| {
        format!(
            "could not create a git repository in `{}`",
            directory.display()
        )
    })?;
    let odb = repository
        .odb()
        .context("could not open the git object database")?;
    // Above the loose and pack backends, so that every new object lands here.
    let mempack = odb
        .add_new_mempack_backend(1000)
        .context("could not set up the in-memory git object store")?;
    commit_all(&repository, message)?;
    let mut pack = git2::Buf::new();
    mempack
        .dump(&repository, &mut pack)
        .context("could not pack the first commit")?;
    let mut writer = odb.packwriter().context("could not write the git pack")?;
    std::io::Write::write_all(&mut writer, &pack).context("could not write the git pack")?;
    writer.commit().context("could not write the git pack")?;
    mempack
        .reset()
        .context("could not clear the in-memory git object store")?;
    Ok(())
}

/// Stages every file of the work tree and commits it on HEAD.
pub fn commit_all(repository: &Repository, message: &str) -> anyhow::Result<()> {
    let mut index = repository.index().context("could not open the git index")?;
    index
        .add_all(["*"], IndexAddOption::DEFAULT, None)
        .context("could not stage the files")?;
    commit_index(repository, &mut index, message)
}

/// The repository whose work tree contains `path`, if any.
pub fn repository_of(path: &Path) -> Option<Repository> {
    let repository = Repository::discover(path).ok()?;
    repository.workdir()?;
    Some(repository)
}

/// The content of blob `id` in the repository's object database, if it is there.
pub fn find_blob(repository: &Repository, id: &str) -> Option<Vec<u8>> {
    let oid = git2::Oid::from_str(id).ok()?;
    repository
        .find_blob(oid)
        .ok()
        .map(|blob| blob.content().to_vec())
}

/// The path of `project_root/relative` relative to the repository's work tree.
fn in_work_tree(repository: &Repository, project_root: &Path, relative: &str) -> Option<PathBuf> {
    let workdir = repository.workdir()?.canonicalize().ok()?;
    let root = project_root.canonicalize().ok()?;
    Some(root.strip_prefix(&workdir).ok()?.join(relative))
}

/// Which of `paths` (relative to `project_root`) have changes git does not have committed:
/// modified, staged, deleted or untracked.
pub fn uncommitted<'a>(
    repository: &Repository,
    project_root: &Path,
    paths: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<Vec<String>> {
    let mut dirty = Vec::new();
    for path in paths {
        let Some(relative) = in_work_tree(repository, project_root, path) else {
            continue;
        };
        match repository.status_file(&relative) {
            Ok(status) if status.is_empty() || status.contains(git2::Status::IGNORED) => {}
            Ok(_) => dirty.push(path.to_owned()),
            // Neither tracked nor present: nothing of the user's to lose.
            Err(error) if error.code() == git2::ErrorCode::NotFound => {}
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("could not read the git status of `{path}`"));
            }
        }
    }
    Ok(dirty)
}

/// Stages exactly `paths` (relative to `project_root`; removed files are unstaged as removals)
/// and commits them on HEAD with `message`.
pub fn commit_paths<'a>(
    repository: &Repository,
    project_root: &Path,
    paths: impl IntoIterator<Item = &'a str>,
    message: &str,
) -> anyhow::Result<()> {
    let mut index = repository.index().context("could not open the git index")?;
    for path in paths {
        let relative = in_work_tree(repository, project_root, path)
            .with_context(|| format!("`{path}` is outside the git work tree"))?;
        if project_root.join(path).exists() {
            index
                .add_path(&relative)
                .with_context(|| format!("could not stage `{path}`"))?;
        } else if index.get_path(&relative, 0).is_some() {
            index
                .remove_path(&relative)
                .with_context(|| format!("could not stage the removal of `{path}`"))?;
        }
    }
    commit_index(repository, &mut index, message)
}

/// Writes the staged index and commits it on HEAD (the first commit if there is none).
fn commit_index(
    repository: &Repository,
    index: &mut git2::Index,
    message: &str,
) -> anyhow::Result<()> {
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
