//! The bounded walk of a repository that `assess` reads: every file a caller wants, as its
//! relative path and the first [`PREFIX_BYTES`] of its text, in memory and sorted by path.
//!
//! This is the only IO of an assessment. It honours `.gitignore` (in a git repository or not),
//! `.ignore` and `.git/info/exclude`, and it never enters what holds no evidence and can be
//! huge: version-control metadata, virtual environments (any directory with a `pyvenv.cfg` or
//! `conda-meta`), caches, experiment-tracker stores (`mlruns`, `wandb`, ...), and the data and
//! model directories at the top of the repository (`data/`, `models/`, ... unless they are
//! Python packages). Of those top-level data and model directories it lists only the direct
//! children, for DVC pointer files (`*.dvc`). Binary files (a NUL byte in the prefix) are left
//! out. The walk runs on all cores.
//!
//! Hostile repositories cannot make it hang or read without end: it reads regular files only,
//! never a FIFO (which would wait for a writer), a device or a socket, and never through a
//! symbolic link, so never outside the repository; the type is checked on the opened file. The
//! ignore files it honours must be regular files too: a directory whose ignore file is not one
//! is skipped, and at the root (or above it) that is an error.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;

use crate::exit::Usage;
use crate::project::read;

/// How much of each file is read.
const PREFIX_BYTES: u64 = 64 * 1024;

/// Directories skipped wherever they are.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    "site-packages",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
    ".cache",
    ".idea",
    "mlruns",
    "mlartifacts",
    "wandb",
    "lightning_logs",
    ".neptune",
    ".clearml",
];

/// Data and model directories, skipped at the top of the repository unless they are packages.
const DATA_DIRS: &[&str] = &[
    "data",
    "dataset",
    "datasets",
    "models",
    "artifacts",
    "outputs",
];

/// A file's relative path (with `/`) and the text of its first [`PREFIX_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ScannedFile {
    pub(super) path: String,
    pub(super) text: String,
}

#[cfg(test)]
impl ScannedFile {
    pub(super) fn new(path: &str, text: &str) -> Self {
        Self {
            path: path.to_owned(),
            text: text.to_owned(),
        }
    }
}

/// The files that hold ignore rules in a directory, which the walk opens and reads whole.
const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore", ".git/info/exclude"];

/// Checks that `root` is a directory that can be assessed.
pub(super) fn check_root(root: &Path) -> anyhow::Result<()> {
    let shown = root.display();
    match std::fs::metadata(root) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => Err(Usage::new(format!("cannot assess `{shown}`: it is not a directory")).into()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            Err(Usage::new(format!("cannot assess `{shown}`: no such directory")).into())
        }
        Err(error) => Err(anyhow::Error::new(error).context(format!("cannot assess `{shown}`"))),
    }
}

/// Walks `root` and reads the files whose relative path `wanted` accepts.
pub(super) fn scan(root: &Path, wanted: fn(&str) -> bool) -> anyhow::Result<Vec<ScannedFile>> {
    std::fs::read_dir(root)
        .with_context(|| format!("cannot read directory `{}`", root.display()))?;
    // The walk reads the ignore files of the root and of every directory above it.
    let above = root.canonicalize().ok();
    let parents = above.iter().flat_map(|root| root.ancestors().skip(1));
    for dir in std::iter::once(root).chain(parents) {
        if let Some(path) = irregular_ignore_file(dir) {
            anyhow::bail!(
                "cannot read the ignore rules in `{}`: it is not a regular file",
                path.display()
            );
        }
    }
    let found = Mutex::new(Vec::new());
    let root_owned: PathBuf = root.to_path_buf();
    ignore::WalkBuilder::new(root)
        .hidden(false)
        .parents(true)
        .ignore(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .threads(0)
        .filter_entry(move |entry| !skipped_dir(entry))
        .build_parallel()
        .run(|| {
            let root = root_owned.clone();
            let found = &found;
            Box::new(move |entry| {
                if let Ok(entry) = entry
                    && entry.file_type().is_some_and(|kind| kind.is_file())
                    && let Some(relative) = relative_path(&root, entry.path())
                    && wanted(&relative)
                    && let Some(text) = read_prefix(entry.path())
                {
                    found
                        .lock()
                        .expect("no panic while holding the lock")
                        .push(ScannedFile {
                            path: relative,
                            text,
                        });
                }
                ignore::WalkState::Continue
            })
        });
    let mut files = found.into_inner().expect("the walk is over");
    files.extend(pointer_files_in_data_dirs(root, wanted));
    files.sort_by(|left, right| left.path.cmp(&right.path));
    files.dedup_by(|left, right| left.path == right.path);
    Ok(files)
}

fn skipped_dir(entry: &ignore::DirEntry) -> bool {
    if !entry.file_type().is_some_and(|kind| kind.is_dir()) || entry.depth() == 0 {
        return false;
    }
    let name = entry.file_name().to_string_lossy();
    if SKIPPED_DIRS.contains(&name.as_ref()) || name.ends_with(".egg-info") {
        return true;
    }
    let path = entry.path();
    // DVC's cache and temporary files; `.dvc/config` itself is read.
    if path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|parent| parent == ".dvc")
    {
        return true;
    }
    if entry.depth() == 1 && is_data_dir(path, &name) {
        return true;
    }
    path.join("pyvenv.cfg").exists()
        || path.join("conda-meta").is_dir()
        || irregular_ignore_file(path).is_some()
}

/// An ignore file of `dir` that is there but is not a regular file (a FIFO, a device, a link to
/// one), which the walk would wait on or read without end.
fn irregular_ignore_file(dir: &Path) -> Option<PathBuf> {
    IGNORE_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| std::fs::metadata(path).is_ok_and(|metadata| !metadata.is_file()))
}

fn is_data_dir(path: &Path, name: &str) -> bool {
    DATA_DIRS.contains(&name) && !path.join("__init__.py").exists()
}

/// `*.dvc` files directly inside the skipped top-level data and model directories, which is
/// where `dvc add data/raw` puts them.
fn pointer_files_in_data_dirs(root: &Path, wanted: fn(&str) -> bool) -> Vec<ScannedFile> {
    let mut found = Vec::new();
    for name in DATA_DIRS {
        let dir = root.join(name);
        // Not through a symbolic link, which may lead out of the repository.
        let is_dir = std::fs::symlink_metadata(&dir).is_ok_and(|metadata| metadata.is_dir());
        if !is_dir || !is_data_dir(&dir, name) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{name}/{file_name}");
            let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
            if is_file
                && Path::new(&file_name)
                    .extension()
                    .is_some_and(|extension| extension == "dvc")
                && wanted(&relative)
                && let Some(text) = read_prefix(&entry.path())
            {
                found.push(ScannedFile {
                    path: relative,
                    text,
                });
            }
        }
    }
    found
}

fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<&str> = relative
        .components()
        .map(|component| component.as_os_str().to_str())
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

/// The file's first [`PREFIX_BYTES`] as text, or `None` for an unreadable or binary file, or
/// one that is not a regular file (a FIFO is opened without blocking and then refused, a device
/// or a symbolic link never read).
fn read_prefix(path: &Path) -> Option<String> {
    let bytes = read::read_prefix(path, PREFIX_BYTES).ok()??;
    if bytes.contains(&0) {
        return None;
    }
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(error) => Some(String::from_utf8_lossy(error.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, relative: &str, content: &str) {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn check(layout: &[(&str, &str)], expected: &[&str]) {
        let root = tempfile::tempdir().unwrap();
        for (path, content) in layout {
            write(root.path(), path, content);
        }
        let files = scan(root.path(), |_| true).unwrap();
        let paths: Vec<&str> = files.iter().map(|file| file.path.as_str()).collect();
        assert_eq!(paths, expected);
    }

    #[test]
    fn skips_ignored_environments_caches_and_data() {
        check(
            &[
                (".gitignore", "secret/\n*.log\n"),
                ("secret/train.py", "import mlflow"),
                ("run.log", "x"),
                (".github/workflows/ci.yml", "on: push"),
                (".git/config", "[core]"),
                ("env/pyvenv.cfg", "home = /usr"),
                ("env/lib/mlflow.py", "x"),
                ("venv/lib/x.py", "x"),
                ("mlruns/0/meta.yaml", "x"),
                ("data/raw.csv", "a,b"),
                ("data/raw.dvc", "outs:\n- path: raw\n"),
                ("data/raw/more.dvc", "outs:"),
                ("models/model.pkl.dvc", "outs:"),
                (".dvc/config", "[core]"),
                (".dvc/cache/ab/cdef", "x"),
                ("src/pkg/data/ingest.py", "import requests"),
                ("notes/data/x.txt", "x"),
            ],
            &[
                ".dvc/config",
                ".github/workflows/ci.yml",
                ".gitignore",
                "data/raw.dvc",
                "models/model.pkl.dvc",
                "notes/data/x.txt",
                "src/pkg/data/ingest.py",
            ],
        );
    }

    #[test]
    fn a_model_package_is_code_and_is_walked() {
        check(
            &[
                ("models/__init__.py", ""),
                ("models/resnet.py", "import torch"),
            ],
            &["models/__init__.py", "models/resnet.py"],
        );
    }

    #[test]
    fn reads_a_bounded_prefix_and_leaves_binaries_out() {
        let root = tempfile::tempdir().unwrap();
        let long = "a".repeat(usize::try_from(PREFIX_BYTES).unwrap() * 2);
        write(root.path(), "long.py", &long);
        std::fs::write(root.path().join("blob.py"), b"x\0y").unwrap();
        let files = scan(root.path(), |_| true).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].text.len(), usize::try_from(PREFIX_BYTES).unwrap());
    }

    #[test]
    fn only_wanted_files_are_read() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "a.py", "x");
        write(root.path(), "b.csv", "x");
        let files = scan(root.path(), |path| {
            Path::new(path)
                .extension()
                .is_some_and(|extension| extension == "py")
        })
        .unwrap();
        assert_eq!(files, vec![ScannedFile::new("a.py", "x")]);
    }

    #[test]
    fn a_missing_root_is_an_error_naming_it() {
        let error = scan(Path::new("/nonexistent/repo"), |_| true).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot read directory `/nonexistent/repo`"
        );
    }

    /// Runs `work` on another thread and waits at most ten seconds for it: what is tested here
    /// used to block forever.
    #[cfg(unix)]
    fn within_seconds<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(work()));
        receiver
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("no blocking")
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[cfg(unix)]
    fn scan_within_seconds(root: &Path) -> anyhow::Result<Vec<String>> {
        let root = root.to_path_buf();
        within_seconds(move || {
            scan(&root, |_| true)
                .map(|files| files.into_iter().map(|file| file.path).collect::<Vec<_>>())
        })
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read_and_never_wait() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "src/model.py", "import torch");
        mkfifo(&root.path().join("train.py"));
        std::os::unix::fs::symlink("/dev/zero", root.path().join("zero.py")).unwrap();
        std::os::unix::fs::symlink("train.py", root.path().join("link.py")).unwrap();
        std::os::unix::fs::symlink("src/model.py", root.path().join("model_link.py")).unwrap();
        assert_eq!(scan_within_seconds(root.path()).unwrap(), ["src/model.py"]);
        // What the walk takes for a file may be something else by the time it is opened.
        for name in ["train.py", "zero.py", "link.py", "model_link.py"] {
            let path = root.path().join(name);
            assert_eq!(within_seconds(move || read_prefix(&path)), None, "{name}");
        }
        assert_eq!(
            read_prefix(&root.path().join("src/model.py")).as_deref(),
            Some("import torch")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_whose_ignore_file_is_not_a_regular_file_is_skipped() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "train.py", "import mlflow");
        write(root.path(), "fifo/model.py", "x");
        mkfifo(&root.path().join("fifo/.gitignore"));
        write(root.path(), "zero/model.py", "x");
        std::os::unix::fs::symlink("/dev/zero", root.path().join("zero/.ignore")).unwrap();
        write(root.path(), "repo/model.py", "x");
        mkfifo(&root.path().join("repo/.git/info/exclude"));
        write(root.path(), "fine/.gitignore", "*.log\n");
        write(root.path(), "fine/model.py", "x");
        assert_eq!(
            scan_within_seconds(root.path()).unwrap(),
            ["fine/.gitignore", "fine/model.py", "train.py"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_root_whose_ignore_file_is_not_a_regular_file_is_an_error() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "train.py", "import mlflow");
        mkfifo(&root.path().join(".gitignore"));
        let error = scan_within_seconds(root.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot read the ignore rules in `{}`: it is not a regular file",
                root.path().join(".gitignore").display()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_out_of_the_repository_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "src/train.py", "import mlflow");
        write(outside.path(), "train.py", "import mlflow");
        write(outside.path(), "data/raw.dvc", "outs:");
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "README.md", "x");
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(outside.path().join(target), root.path().join(name))
                .unwrap();
        };
        link("src", "src");
        link("train.py", "train.py");
        link("data", "data");
        std::fs::create_dir(root.path().join("models")).unwrap();
        link("data/raw.dvc", "models/raw.dvc");
        assert_eq!(scan_within_seconds(root.path()).unwrap(), ["README.md"]);
    }
}
