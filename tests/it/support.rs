//! A test context: a temporary directory with a private HOME and git identity, in which the real
//! `mlops` binaries run, plus helpers to snapshot whole directory trees.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) struct Test {
    pub(crate) dir: tempfile::TempDir,
}

/// What a finished command printed and how it exited.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    #[track_caller]
    pub(crate) fn success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Test {
    pub(crate) fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("mlops-it-")
            .tempdir()
            .expect("a temporary directory");
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::write(
            dir.path().join("home/.gitconfig"),
            "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        Self { dir }
    }

    /// The directory commands run in.
    pub(crate) fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.work().join(relative)
    }

    pub(crate) fn command(&self, binary: &str) -> Command {
        let program = match binary {
            "mlops" => env!("CARGO_BIN_EXE_mlops"),
            "mlops-new" => env!("CARGO_BIN_EXE_mlops-new"),
            "mlops-upgrade" => env!("CARGO_BIN_EXE_mlops-upgrade"),
            "mlops-scaffold" => env!("CARGO_BIN_EXE_mlops-scaffold"),
            other => panic!("unknown binary {other}"),
        };
        self.command_at(Path::new(program))
    }

    /// Runs `program`, a copy of one of the binaries, in the test's environment.
    pub(crate) fn command_at(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.work())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("home/.config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        command
    }

    /// Runs `binary args...` in the work directory.
    pub(crate) fn run(&self, binary: &str, args: &[&str]) -> Output {
        self.run_in(binary, args, &self.work(), &[])
    }

    /// Runs `binary args...` in `cwd` with extra environment variables.
    pub(crate) fn run_in(
        &self,
        binary: &str,
        args: &[&str],
        cwd: &Path,
        env: &[(&str, &Path)],
    ) -> Output {
        let mut command = self.command(binary);
        command.current_dir(cwd).args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        let output = command.output().expect("the binary runs");
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }

    pub(crate) fn mlops(&self, args: &[&str]) -> Output {
        self.run("mlops", args)
    }

    pub(crate) fn write(&self, relative: &str, content: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
}

/// Every file under `root` (outside `.git`), by relative path.
pub(crate) fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    collect(root, root, &mut found);
    found
}

fn collect(root: &Path, dir: &Path, found: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            collect(root, &path, found);
        } else {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            found.insert(relative, std::fs::read(&path).unwrap());
        }
    }
}

/// A whole tree as text for a snapshot: each file's path, mode and content.
pub(crate) fn tree_text(root: &Path) -> String {
    let mut text = String::new();
    for (relative, content) in files(root) {
        let mode = file_mode(&root.join(&relative));
        match std::str::from_utf8(&content) {
            Ok(body) => {
                let _ = writeln!(text, "=== {relative} ({mode:o})\n{body}");
            }
            Err(_) => {
                let _ = writeln!(
                    text,
                    "=== {relative} ({mode:o}) binary, {} bytes\n",
                    content.len()
                );
            }
        }
    }
    text
}

#[cfg(unix)]
pub(crate) fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Insta settings that keep snapshots in the top-level `snapshots/` directory.
pub(crate) fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// Makes `dir` unwritable, even for root (where permission bits do not apply, the immutable
/// attribute does), and undoes it when dropped.
pub(crate) fn make_read_only(dir: &Path) -> impl Drop + use<> {
    struct Unlock(std::path::PathBuf, bool);
    impl Drop for Unlock {
        fn drop(&mut self) {
            if self.1 {
                let _ = std::process::Command::new("chattr")
                    .arg("-i")
                    .arg(&self.0)
                    .status();
            }
            let mut permissions = std::fs::metadata(&self.0).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            let _ = std::fs::set_permissions(&self.0, permissions);
        }
    }
    let mut permissions = std::fs::metadata(dir).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(dir, permissions).unwrap();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout == b"0\n");
    if is_root {
        let status = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .expect("chattr runs");
        assert!(
            status.success(),
            "as root, the test needs `chattr +i` to make a directory read-only"
        );
    }
    Unlock(dir.to_path_buf(), is_root)
}

/// Stages every file under `root` (a git repository, created if needed) and commits it.
pub(crate) fn commit_everything(root: &Path, message: &str) {
    let repository = git2::Repository::open(root)
        .or_else(|_| git2::Repository::init(root))
        .unwrap();
    let mut index = repository.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repository.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("Test User", "test@example.com").unwrap();
    let parent = repository
        .head()
        .ok()
        .map(|head| head.peel_to_commit().unwrap());
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
        .unwrap();
}

/// The top-level `level` of a manifest's text, parsed: every file record has a `level` too.
pub(crate) fn manifest_level(manifest: &str) -> i64 {
    let table: toml::Table = toml::from_str(manifest).expect("the manifest parses");
    table["level"]
        .as_integer()
        .expect("the manifest has a top-level level")
}
