//! Wall time of `mlops upgrade --dry-run` from level 2 to level 3 (or the highest two levels this
//! build has), twice: in a project alone in its git repository, and in one whose repository also
//! holds 50,000 unrelated, committed files. The plan reads only the files the templates know, so
//! the unrelated ones should cost nothing; both must stay under 100 ms, and the benchmark exits
//! 1 when one does not. Run with `cargo bench --bench upgrade`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Timing;

const UNRELATED_FILES: usize = 50_000;
const TARGET: Duration = Duration::from_millis(100);

fn main() {
    let binary = env!("CARGO_BIN_EXE_mlops");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let home = common::git_home(scratch.path());
    let mlops = |args: &[&str], cwd: &Path| {
        let output = Command::new(binary)
            .args(args)
            .current_dir(cwd)
            .env("HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .output()
            .expect("mlops runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };

    let levels = Command::new(binary)
        .args(["levels", "--format", "json"])
        .output()
        .unwrap();
    let levels: serde_json::Value = serde_json::from_slice(&levels.stdout).unwrap();
    let highest = levels.as_array().unwrap().len() - 1;
    let from = highest.saturating_sub(1).min(2);
    let new_project = |name: &str| -> PathBuf {
        mlops(
            &["new", name, "--level", &from.to_string(), "--no-input"],
            scratch.path(),
        );
        scratch.path().join(name)
    };
    let alone = new_project("alone");
    let beside = new_project("beside");

    for index in 0..UNRELATED_FILES {
        let directory = beside.join(format!("data-lake/{:03}/{:02}", index % 500, index % 40));
        std::fs::create_dir_all(&directory).unwrap();
        std::fs::write(
            directory.join(format!("record-{index}.json")),
            format!("{{\"id\": {index}}}\n"),
        )
        .unwrap();
    }
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&beside)
            .env("HOME", &home)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "50,000 unrelated files"]);

    let step = format!("level {from} to {}", from + 1);
    let mut missed = Vec::new();
    for (project, name) in [
        (&alone, format!("mlops upgrade --dry-run, {step}, alone")),
        (
            &beside,
            format!("mlops upgrade --dry-run, {step}, {UNRELATED_FILES} unrelated files beside it"),
        ),
    ] {
        // Warm the page cache and the binary.
        mlops(&["upgrade", "--dry-run"], project);
        let timing = Timing::measure(31, |_| (), |()| mlops(&["upgrade", "--dry-run"], project));
        if !timing.report(&name, TARGET) {
            missed.push(name);
        }
    }
    let missed: Vec<&str> = missed.iter().map(String::as_str).collect();
    common::finish(&missed);
}
