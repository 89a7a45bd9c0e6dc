//! Everything that touches git, through git2: finding the work tree, reading the user's identity,
//! creating the first commit, checking for uncommitted changes, finding old blobs by id,
//! recording conflicts as unmerged index entries, and following files the user moved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use git2::{IndexAddOption, Repository, Signature};

use super::RelPath;
use super::manifest::{MANIFEST_PATH, Manifest};

/// The branch a generated repository starts on.
pub(crate) const INITIAL_BRANCH: &str = "main";

/// The identity commits are made with when git has none configured.
const FALLBACK_NAME: &str = "mlops-scaffold";
const FALLBACK_EMAIL: &str = "mlops-scaffold@localhost";

/// The root of the git work tree containing `path`, if any.
pub(crate) fn work_tree_of(path: &Path) -> Option<PathBuf> {
    repository_of(path)?.workdir().map(Path::to_path_buf)
}

/// `user.name` and `user.email` from the user's git configuration, if set.
pub(crate) fn configured_identity() -> (Option<String>, Option<String>) {
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
pub(crate) fn init_and_commit(directory: &Path, message: &str) -> anyhow::Result<()> {
    // Without git's sample hooks: thirteen files nobody reads, and what costs most is creating
    // files.
    let mut options = git2::RepositoryInitOptions::new();
    options.external_template(false);
    // The generated pipelines release only from `main`, so that is the branch the project starts
    // on, whatever `init.defaultBranch` says (libgit2 would otherwise start on `master`).
    options.initial_head(INITIAL_BRANCH);
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
pub(crate) fn commit_all(repository: &Repository, message: &str) -> anyhow::Result<()> {
    let mut index = repository.index().context("could not open the git index")?;
    index
        .add_all(["*"], IndexAddOption::DEFAULT, None)
        .context("could not stage the files")?;
    commit_index(repository, &mut index, message)
}

/// The repository whose work tree contains `path`, if any.
pub(crate) fn repository_of(path: &Path) -> Option<Repository> {
    let repository = Repository::discover(path).ok()?;
    repository.workdir()?;
    // A `.git` file points to a git directory elsewhere. Without `core.worktree`, libgit2 takes
    // that directory's parent as the work tree, where git takes the directory holding the file;
    // follow git, or every path would look outside the work tree and go unchecked.
    let absolute = path.canonicalize().ok()?;
    if let Some(holder) = absolute
        .ancestors()
        .find(|directory| std::fs::symlink_metadata(directory.join(".git")).is_ok())
        && std::fs::symlink_metadata(holder.join(".git")).is_ok_and(|metadata| metadata.is_file())
        && repository.config().ok()?.get_path("core.worktree").is_err()
    {
        repository.set_workdir(holder, false).ok()?;
    }
    Some(repository)
}

/// How many commits the search for generated content looks through, newest first.
const HISTORY_LIMIT: usize = 10_000;

/// Every `(path, blob)` that the project's git history shows the generator wrote: a commit in
/// which the manifest's record of `path` became `blob` and the file itself became that content.
/// A blob id edited into the manifest by hand (or by anyone) does not qualify, since no commit
/// changed the file to it together with its record; so a user's own committed content can never
/// pass for the generator's and turn their edit into an "update".
pub(crate) fn generated_in_history(
    repository: &Repository,
    project_root: &Path,
) -> BTreeSet<(RelPath, String)> {
    let mut found = BTreeSet::new();
    let Some(prefix) = in_work_tree(repository, project_root, "") else {
        return found;
    };
    let manifest_path = prefix.join(MANIFEST_PATH);
    let Ok(mut walk) = repository.revwalk() else {
        return found;
    };
    if walk.push_head().is_err() {
        return found;
    }
    let records = |tree: &git2::Tree<'_>| -> Option<BTreeMap<RelPath, String>> {
        let entry = tree.get_path(&manifest_path).ok()?;
        let blob = repository.find_blob(entry.id()).ok()?;
        let text = std::str::from_utf8(blob.content()).ok()?;
        let manifest = Manifest::parse(text, MANIFEST_PATH).ok()?;
        Some(
            manifest
                .files
                .into_iter()
                .map(|(path, record)| (path, record.blob))
                .collect(),
        )
    };
    let blob_at = |tree: &git2::Tree<'_>, path: &RelPath| {
        tree.get_path(&prefix.join(path.as_str()))
            .ok()
            .map(|entry| entry.id().to_string())
    };
    for oid in walk.take(HISTORY_LIMIT).flatten() {
        let Ok(commit) = repository.find_commit(oid) else {
            continue;
        };
        let Ok(tree) = commit.tree() else { continue };
        let parent_tree = commit.parent(0).ok().and_then(|parent| parent.tree().ok());
        let manifest_blob =
            |tree: &git2::Tree<'_>| tree.get_path(&manifest_path).ok().map(|entry| entry.id());
        if manifest_blob(&tree).is_none()
            || parent_tree.as_ref().and_then(manifest_blob) == manifest_blob(&tree)
        {
            continue;
        }
        let Some(now) = records(&tree) else { continue };
        let before = parent_tree.as_ref().and_then(records).unwrap_or_default();
        for (path, blob) in now {
            let record_changed = before.get(&path) != Some(&blob);
            let file_became_it = blob_at(&tree, &path).as_deref() == Some(blob.as_str())
                && parent_tree
                    .as_ref()
                    .and_then(|parent| blob_at(parent, &path))
                    .as_deref()
                    != Some(blob.as_str());
            if record_changed && file_became_it {
                found.insert((path, blob));
            }
        }
    }
    found
}

/// Where generated files missing from the work tree went, by git's rename detection: for each
/// `(path, blob)` (a path relative to the project and the blob id the manifest records), the
/// newest commit whose tree holds the file (with that blob if one does) is compared with the
/// working tree (the index's view of it, untracked files included), with renames found at 50%
/// similarity, as `git status` and `git log --follow` find them. A file the team deleted has no
/// rename and is not in the result; nor is one moved out of the project.
pub(crate) fn moved_files(
    repository: &Repository,
    project_root: &Path,
    missing: &[(RelPath, String)],
) -> BTreeMap<RelPath, RelPath> {
    let mut moved = BTreeMap::new();
    let Some(prefix) = in_work_tree(repository, project_root, "") else {
        return moved;
    };
    let Ok(mut walk) = repository.revwalk() else {
        return moved;
    };
    if walk.push_head().is_err() {
        return moved;
    }
    // The newest tree holding each missing file, preferring one with the recorded blob.
    let mut trees: BTreeMap<git2::Oid, Vec<&RelPath>> = BTreeMap::new();
    let mut fallback: BTreeMap<&RelPath, git2::Oid> = BTreeMap::new();
    let mut pending: Vec<&(RelPath, String)> = missing.iter().collect();
    for oid in walk.take(HISTORY_LIMIT).flatten() {
        if pending.is_empty() {
            break;
        }
        let Ok(tree) = repository.find_commit(oid).and_then(|commit| commit.tree()) else {
            continue;
        };
        pending.retain(|(path, blob)| {
            let Ok(entry) = tree.get_path(&prefix.join(path.as_str())) else {
                return true;
            };
            if entry.id().to_string() == *blob {
                trees.entry(tree.id()).or_default().push(path);
                fallback.remove(path);
                return false;
            }
            fallback.entry(path).or_insert(tree.id());
            true
        });
    }
    for (path, tree) in fallback {
        trees.entry(tree).or_default().push(path);
    }
    for (tree_id, paths) in trees {
        let Ok(tree) = repository.find_tree(tree_id) else {
            continue;
        };
        for (from, to) in renames_since(repository, &tree, &prefix) {
            if paths.iter().any(|path| **path == from) {
                moved.insert(from, to);
            }
        }
    }
    moved
}

/// The renames between `tree` and the working tree, as paths relative to the project at
/// `prefix`; renames into or out of the project are left out.
fn renames_since(
    repository: &Repository,
    tree: &git2::Tree<'_>,
    prefix: &Path,
) -> Vec<(RelPath, RelPath)> {
    let mut options = git2::DiffOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .ignore_submodules(true);
    let Ok(mut diff) = repository.diff_tree_to_workdir_with_index(Some(tree), Some(&mut options))
    else {
        return Vec::new();
    };
    let mut find = git2::DiffFindOptions::new();
    find.renames(true).for_untracked(true).rename_threshold(50);
    if diff.find_similar(Some(&mut find)).is_err() {
        return Vec::new();
    }
    let relative = |path: Option<&Path>| -> Option<RelPath> {
        let inside = path?.strip_prefix(prefix).ok()?;
        RelPath::new(&inside.to_string_lossy().replace('\\', "/")).ok()
    };
    diff.deltas()
        .filter(|delta| delta.status() == git2::Delta::Renamed)
        .filter_map(|delta| {
            Some((
                relative(delta.old_file().path())?,
                relative(delta.new_file().path())?,
            ))
        })
        .collect()
}

/// The content of blob `id` in the repository's object database, if it is there.
pub(crate) fn find_blob(repository: &Repository, id: &str) -> Option<Vec<u8>> {
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
pub(crate) fn uncommitted<'a>(
    repository: &Repository,
    project_root: &Path,
    paths: impl IntoIterator<Item = &'a str>,
) -> anyhow::Result<Vec<String>> {
    let mut dirty = Vec::new();
    for path in paths {
        let relative = in_work_tree(repository, project_root, path).with_context(|| {
            format!("cannot check `{path}` against git: it is outside the repository's work tree")
        })?;
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
/// and commits them, and only them, on HEAD with `message`. Anything else the user had staged
/// stays staged and out of the commit.
pub(crate) fn commit_paths<'a>(
    repository: &Repository,
    project_root: &Path,
    paths: impl IntoIterator<Item = &'a str>,
    message: &str,
) -> anyhow::Result<()> {
    let mut index = repository.index().context("could not open the git index")?;
    let mut staged = Vec::new();
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
        staged.push(relative);
    }
    index.write().context("could not write the git index")?;

    // The commit's tree: HEAD's, with exactly these paths as the index now has them.
    let mut commit_index = git2::Index::new().context("could not make a git index")?;
    if let Ok(head) = repository.head()
        && let Ok(tree) = head.peel_to_tree()
    {
        commit_index
            .read_tree(&tree)
            .context("could not read HEAD's tree")?;
    }
    for relative in &staged {
        match index.get_path(relative, 0) {
            Some(entry) => commit_index.add(&entry),
            None => match commit_index.get_path(relative, 0) {
                Some(_) => commit_index.remove_path(relative),
                None => Ok(()),
            },
        }
        .with_context(|| format!("could not stage `{}`", relative.display()))?;
    }
    let tree_id = commit_index
        .write_tree_to(repository)
        .context("could not write the git tree")?;
    commit_tree(repository, tree_id, message)
}

/// One conflicted file, as a merge leaves it in git's index.
pub(crate) struct ConflictStages<'a> {
    /// Relative to the project root.
    pub(crate) path: &'a str,
    /// Stage 1, the common ancestor; a file added on both sides has none.
    pub(crate) base: Option<&'a [u8]>,
    /// Stage 2, yours.
    pub(crate) ours: &'a [u8],
    /// Stage 3, theirs.
    pub(crate) theirs: &'a [u8],
    pub(crate) executable: bool,
}

/// Records each conflicted file as `git merge` does: its index entry is replaced by stages 1
/// (base), 2 (yours) and 3 (theirs), so that `git status` lists it as unmerged, `git mergetool`
/// and editors offer to resolve it, and `git commit` refuses until it is `git add`ed.
pub(crate) fn record_conflicts(
    repository: &Repository,
    project_root: &Path,
    conflicts: &[ConflictStages<'_>],
) -> anyhow::Result<()> {
    if conflicts.is_empty() {
        return Ok(());
    }
    let mut index = repository.index().context("could not open the git index")?;
    for conflict in conflicts {
        let relative = in_work_tree(repository, project_root, conflict.path)
            .with_context(|| format!("`{}` is outside the git work tree", conflict.path))?;
        let path_bytes = relative.to_string_lossy().replace('\\', "/").into_bytes();
        let entry = |content: &[u8], stage: u16| -> anyhow::Result<git2::IndexEntry> {
            let id = repository.blob(content).with_context(|| {
                format!("could not store a version of `{}` in git", conflict.path)
            })?;
            Ok(git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: if conflict.executable {
                    0o100_755
                } else {
                    0o100_644
                },
                uid: 0,
                gid: 0,
                file_size: u32::try_from(content.len()).unwrap_or(u32::MAX),
                id,
                flags: stage << 12,
                flags_extended: 0,
                path: path_bytes.clone(),
            })
        };
        // Stage 0 is the resolved file; a conflict has none until it is resolved.
        if index.get_path(&relative, 0).is_some() {
            index
                .remove(&relative, 0)
                .with_context(|| format!("could not unstage `{}`", conflict.path))?;
        }
        let stages = [
            (conflict.base, 1),
            (Some(conflict.ours), 2),
            (Some(conflict.theirs), 3),
        ];
        for (content, stage) in stages {
            if let Some(content) = content {
                index.add(&entry(content, stage)?).with_context(|| {
                    format!("could not record the conflict in `{}`", conflict.path)
                })?;
            }
        }
    }
    index.write().context("could not write the git index")
}

/// Writes the staged index and commits it on HEAD (the first commit if there is none).
fn commit_index(
    repository: &Repository,
    index: &mut git2::Index,
    message: &str,
) -> anyhow::Result<()> {
    index.write().context("could not write the git index")?;
    let tree_id = index.write_tree().context("could not write the git tree")?;
    commit_tree(repository, tree_id, message)
}

/// Commits the tree `tree_id` on HEAD (the first commit if there is none).
fn commit_tree(repository: &Repository, tree_id: git2::Oid, message: &str) -> anyhow::Result<()> {
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
