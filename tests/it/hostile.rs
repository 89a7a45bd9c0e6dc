//! Hostile input, as a security engineer would try it: repository tricks that must neither write
//! outside the project, nor copy anything from outside into it, nor make the tool panic.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::support::{Test, commit_everything};

/// A level-`level` project `demo` in `test`, committed.
fn project(test: &Test, level: &str) -> std::path::PathBuf {
    test.mlops(&["new", "demo", "--level", level, "--no-input"])
        .success();
    test.path("demo")
}

/// Every file under `dir`, with its content, following nothing.
fn snapshot_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push((
                    entry.path().display().to_string(),
                    std::fs::read(entry.path()).unwrap(),
                ));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_symlinked_directory_is_never_written_through() {
    let test = Test::new();
    let root = project(&test, "1");
    let outside = test.path("outside");
    std::fs::create_dir_all(outside.join("workflows")).unwrap();
    std::fs::write(outside.join("workflows/ci.yml"), "mine: true\n").unwrap();
    std::fs::remove_dir_all(root.join(".github")).unwrap();
    symlink(&outside, root.join(".github")).unwrap();
    commit_everything(&root, "CI lives elsewhere");
    let before = snapshot_of(&outside);

    let output = test.run_in("mlops", &["upgrade", "--commit"], &root, &[]);
    output.success();
    assert!(
        output
            .stdout
            .contains("behind a symlink or a file where a directory should be: left alone"),
        "{}",
        output.stdout
    );
    assert_eq!(
        snapshot_of(&outside),
        before,
        "nothing outside the project changed"
    );
    assert!(
        std::fs::symlink_metadata(root.join(".github"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_symlinked_base_store_is_refused_by_name_and_nothing_is_written() {
    let test = Test::new();
    let root = project(&test, "0");
    // An edit far from the level's change, so the upgrade merges and keeps a base.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    std::fs::write(root.join("README.md"), format!("{readme}\nOur notes.\n")).unwrap();
    let outside = test.path("outside");
    std::fs::create_dir(&outside).unwrap();
    symlink(&outside, root.join(".mlops/base")).unwrap();
    commit_everything(&root, "notes, and a base store elsewhere");
    let before = std::fs::read(root.join("README.md")).unwrap();

    for args in [&["upgrade", "--dry-run"][..], &["upgrade"][..]] {
        let output = test.run_in("mlops", args, &root, &[]);
        output.code(4);
        assert!(
            output
                .stderr
                .starts_with("error: `.mlops/base` is a symlink: mlops never writes through one"),
            "{}",
            output.stderr
        );
    }
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert_eq!(std::fs::read(root.join("README.md")).unwrap(), before);
}

#[test]
fn a_generated_file_replaced_by_a_symlink_is_left_alone_and_its_target_never_read() {
    let test = Test::new();
    let root = project(&test, "0");
    let secret = test.path("secret.txt");
    std::fs::write(&secret, "TOKEN=hunter2\n").unwrap();
    std::fs::remove_file(root.join("Makefile")).unwrap();
    symlink(&secret, root.join("Makefile")).unwrap();
    commit_everything(&root, "a shared Makefile");

    let dry_run = test.run_in("mlops", &["upgrade", "--dry-run"], &root, &[]);
    dry_run.success();
    assert!(!dry_run.stdout.contains("hunter2"), "{}", dry_run.stdout);
    assert!(
        dry_run
            .stdout
            .contains("Makefile   a symlink, never followed: left alone")
            || dry_run
                .stdout
                .contains("a symlink, never followed: left alone"),
        "{}",
        dry_run.stdout
    );
    test.run_in("mlops", &["upgrade"], &root, &[]).success();
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "TOKEN=hunter2\n");
    let mut found = String::new();
    for (_, content) in snapshot_of(&root) {
        found.push_str(&String::from_utf8_lossy(&content));
    }
    assert!(
        !found.contains("hunter2"),
        "the secret was copied into the project"
    );
}

#[test]
fn a_manifest_that_is_a_fifo_or_a_device_is_refused_without_blocking() {
    let test = Test::new();
    let root = project(&test, "0");
    std::fs::remove_file(root.join(".mlops/manifest.toml")).unwrap();
    symlink("/dev/zero", root.join(".mlops/manifest.toml")).unwrap();
    let output = test.run_in("mlops", &["upgrade", "--dry-run"], &root, &[]);
    output.code(4);
    assert!(
        output
            .stderr
            .contains("it is a symlink, which the manifest never is"),
        "{}",
        output.stderr
    );
    std::fs::remove_file(root.join(".mlops/manifest.toml")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(root.join(".mlops/manifest.toml"))
        .status()
        .unwrap();
    assert!(status.success());
    let output = test.run_in("mlops", &["upgrade", "--dry-run"], &root, &[]);
    output.code(4);
    assert!(output.stderr.contains("it is a FIFO"), "{}", output.stderr);
}
