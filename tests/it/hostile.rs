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

#[test]
fn a_blob_id_edited_into_the_manifest_cannot_turn_an_edit_into_an_update() {
    let test = Test::new();
    let root = project(&test, "0");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let edited = readme.replacen("## Train", "## Train\n\nOur team's own notes.\n", 1);
    std::fs::write(root.join("README.md"), &edited).unwrap();
    commit_everything(&root, "notes");
    // Point the manifest's record at the user's committed content.
    let ours = git2::Oid::hash_object(git2::ObjectType::Blob, edited.as_bytes())
        .unwrap()
        .to_string();
    let manifest_path = root.join(".mlops/manifest.toml");
    let mut manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["files"]["README.md"]["blob"] = toml::Value::String(ours);
    std::fs::write(&manifest_path, toml::to_string(&manifest).unwrap()).unwrap();
    commit_everything(&root, "tamper");

    let output = test.run_in("mlops", &["upgrade", "--format", "json"], &root, &[]);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).unwrap();
    let readme_change = report["steps"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|file| file["path"] == "README.md")
        .unwrap();
    assert_ne!(readme_change["action"], "update", "{readme_change}");
    assert_ne!(readme_change["base"], "git_history", "{readme_change}");
    let after = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        after.contains("Our team's own notes."),
        "the edit was dropped:\n{after}"
    );
}

#[test]
fn the_project_search_stops_at_the_repository_boundary() {
    let test = Test::new();
    let outer = project(&test, "0");
    // A repository inside the project (vendored code, a submodule checkout) is its own.
    let inner = outer.join("vendor/tool");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(inner.join("tool.py"), "print('hi')\n").unwrap();
    commit_everything(&inner, "vendored");
    let before = std::fs::read(outer.join(".mlops/manifest.toml")).unwrap();
    let output = test.run_in(
        "mlops",
        &["upgrade", "--dry-run", "--no-input"],
        &inner,
        &[],
    );
    output.success();
    assert!(
        output
            .stdout
            .contains("has no `.mlops/manifest.toml`: adopting it"),
        "the inner repository is adopted on its own, not upgraded as the outer project: {}",
        output.stdout
    );
    assert_eq!(
        std::fs::read(outer.join(".mlops/manifest.toml")).unwrap(),
        before
    );

    // Outside any repository, a manifest above is named, not used.
    let plain = test.path("plain");
    test.mlops(&["new", "plain", "--level", "0", "--no-input", "--no-git"])
        .success();
    std::fs::create_dir(plain.join("sub")).unwrap();
    let output = test.run_in(
        "mlops",
        &["upgrade", "--dry-run", "--allow-dirty"],
        &plain.join("sub"),
        &[],
    );
    output.code(4);
    assert!(
        output.stderr.contains(
            "is not in a git repository, so mlops does not look for the project above it"
        ),
        "{}",
        output.stderr
    );
}

#[test]
fn commit_takes_only_the_upgrade_s_files_and_leaves_other_staged_work_staged() {
    let test = Test::new();
    let root = project(&test, "0");
    std::fs::write(root.join("notes.txt"), "work in progress\n").unwrap();
    let repository = git2::Repository::open(&root).unwrap();
    let mut index = repository.index().unwrap();
    index.add_path(Path::new("notes.txt")).unwrap();
    index.write().unwrap();

    test.run_in("mlops", &["upgrade", "--commit"], &root, &[])
        .success();
    let head = repository.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(head.message().ok(), Some("Upgrade to MLOps level 1"));
    let tree = head.tree().unwrap();
    assert!(
        tree.get_path(Path::new("notes.txt")).is_err(),
        "notes.txt was swept into the commit"
    );
    assert!(tree.get_path(Path::new("src/demo/app.py")).is_ok());
    let status = repository.status_file(Path::new("notes.txt")).unwrap();
    assert!(
        status.contains(git2::Status::INDEX_NEW),
        "notes.txt is still staged: {status:?}"
    );
    let app = repository
        .status_file(Path::new("src/demo/app.py"))
        .unwrap();
    assert!(
        app.is_empty(),
        "the upgrade's files are committed and clean: {app:?}"
    );
}

#[test]
fn a_relocated_git_directory_still_guards_uncommitted_work() {
    let test = Test::new();
    let root = project(&test, "0");
    let gitdir = test.path("elsewhere.git");
    std::fs::rename(root.join(".git"), &gitdir).unwrap();
    std::fs::write(root.join(".git"), format!("gitdir: {}\n", gitdir.display())).unwrap();
    std::fs::write(root.join("README.md"), "uncommitted work\n").unwrap();
    let output = test.run_in("mlops", &["upgrade"], &root, &[]);
    output.code(4);
    assert!(
        output.stderr.starts_with(
            "error: uncommitted changes to files this upgrade would write: `README.md`"
        ),
        "{}",
        output.stderr
    );
    assert_eq!(
        std::fs::read_to_string(root.join("README.md")).unwrap(),
        "uncommitted work\n"
    );
}
