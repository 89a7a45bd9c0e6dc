//! What an install relies on: the shims (`mlops-new`, `mlops-upgrade`, `mlops-scaffold`) run
//! the `mlops` installed beside them, wherever that is and through links, with the arguments and
//! exit status unchanged, or say clearly that it is missing; `mlops --version` names the
//! templates too; `mlops generate-man` writes the man pages packagers ship.

use std::path::{Path, PathBuf};

use crate::support::{Test, snapshot_settings};

#[test]
fn mlops_scaffold_is_mlops() {
    // `uvx mlops-scaffold ARGS` runs the command named like the package.
    let test = Test::new();
    for args in [
        &["--help"][..],
        &["--version"],
        &[],
        &["new", "demo", "--level", "1", "--no-input", "--dry-run"],
        &["levels", "--format", "json"],
        &["new", "demo", "--level", "9"],
    ] {
        let via_shim = test.run("mlops-scaffold", args);
        let direct = test.mlops(args);
        assert_eq!(via_shim.code, direct.code, "{args:?}");
        assert_eq!(via_shim.stdout, direct.stdout, "{args:?}");
        assert_eq!(via_shim.stderr, direct.stderr, "{args:?}");
    }
}

#[test]
fn the_shim_passes_every_argument_unchanged() {
    let test = Test::new();
    let args = [
        "my project",
        "--level",
        "1",
        "--no-input",
        "--dry-run",
        "--format",
        "json",
        "--set",
        "description=  two  spaces, a \"quote\" and ünïcode ",
        "--set",
        "",
    ];
    let via_shim = test.run("mlops-new", &args);
    let mut full = vec!["new"];
    full.extend_from_slice(&args);
    let via_subcommand = test.mlops(&full);
    // The empty `--set` is a usage error, reported the same way by both.
    assert_eq!(via_shim.code, 2, "{}", via_shim.stderr);
    assert_eq!(via_shim.stderr, via_subcommand.stderr);
    assert_eq!(via_shim.stdout, via_subcommand.stdout);

    let without_the_empty_one = &args[..args.len() - 2];
    let via_shim = test.run("mlops-new", without_the_empty_one);
    via_shim.success();
    let description = serde_json::from_str::<serde_json::Value>(&via_shim.stdout).unwrap()
        ["answers"]["description"]
        .clone();
    assert_eq!(description, "  two  spaces, a \"quote\" and ünïcode ");
    assert_eq!(via_shim.stdout, test.mlops(&full[..full.len() - 2]).stdout);
}

/// `binary` (one of the built ones) at `dir/binary`: a hard link where the file system allows,
/// else a copy. A copy is a file this process wrote, and a test thread that forks while it is
/// open for writing makes executing it fail with "text file busy" until that child execs; `run`
/// retries then.
fn install(binary: &str, dir: &Path) -> PathBuf {
    let built = match binary {
        "mlops" => env!("CARGO_BIN_EXE_mlops"),
        "mlops-new" => env!("CARGO_BIN_EXE_mlops-new"),
        other => panic!("unknown binary {other}"),
    };
    std::fs::create_dir_all(dir).unwrap();
    let installed = dir
        .join(binary)
        .with_extension(std::env::consts::EXE_EXTENSION);
    if std::fs::hard_link(built, &installed).is_err() {
        std::fs::copy(built, &installed).unwrap();
    }
    installed
}

fn run(test: &Test, program: &Path, args: &[&str]) -> std::process::Output {
    const TEXT_FILE_BUSY: &str = "(os error 26)";
    for _ in 0..50 {
        match test.command_at(program).args(args).output() {
            Err(error) if error.kind() == std::io::ErrorKind::ExecutableFileBusy => {}
            Ok(output) if String::from_utf8_lossy(&output.stderr).contains(TEXT_FILE_BUSY) => {}
            result => return result.unwrap(),
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("`{}` stayed busy", program.display())
}

#[test]
fn a_shim_without_mlops_beside_it_says_so() {
    let test = Test::new();
    let lonely = test.dir.path().join("lonely");
    let shim = install("mlops-new", &lonely);
    let output = run(&test, &shim, &["demo", "--level", "1", "--no-input"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr)
        .unwrap()
        .replace(&lonely.display().to_string(), "[DIR]");
    snapshot_settings().bind(|| insta::assert_snapshot!("install_shim_without_mlops", stderr));
    assert!(!test.path("demo").exists());
}

#[test]
fn a_shim_runs_the_mlops_beside_it_not_one_on_path() {
    let test = Test::new();
    let bin = test.dir.path().join("bin");
    let shim = install("mlops-new", &bin);
    install("mlops", &bin);
    let output = run(&test, &shim, &["demo", "--level", "0", "--no-input"]);
    assert!(output.status.success(), "{output:?}");
    assert!(test.path("demo/.mlops/manifest.toml").is_file());
}

#[cfg(unix)]
#[test]
fn a_link_to_a_shim_finds_mlops_beside_the_shim() {
    // `uv tool install` and `pipx` link the installed scripts into `~/.local/bin`.
    let test = Test::new();
    let bin = test.dir.path().join("venv/bin");
    let shim = install("mlops-new", &bin);
    install("mlops", &bin);
    let links = test.dir.path().join("local/bin");
    std::fs::create_dir_all(&links).unwrap();
    std::os::unix::fs::symlink(&shim, links.join("mlops-new")).unwrap();
    let output = run(
        &test,
        &links.join("mlops-new"),
        &["demo", "--level", "0", "--no-input"],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(test.path("demo/.mlops/manifest.toml").is_file());
}

/// The shim replaces itself with `mlops` (so signals and the exit status are the real program's):
/// while `mlops` is blocked writing a dry run longer than a pipe holds, the shim's process is
/// running `mlops`.
#[cfg(target_os = "linux")]
#[test]
fn on_linux_the_shim_becomes_mlops() {
    use std::io::Read as _;

    let test = Test::new();
    test.mlops(&["new", "demo", "--level", "0", "--no-input"])
        .success();
    let mut command = test.command("mlops-upgrade");
    command
        .args(["--dry-run", "--to", "4"])
        .current_dir(test.path("demo"))
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let running = Path::new("/proc").join(child.id().to_string()).join("exe");
    let mlops = std::fs::canonicalize(env!("CARGO_BIN_EXE_mlops")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_link(&running).ok().as_ref() != Some(&mlops) {
        assert!(
            std::time::Instant::now() < deadline,
            "the shim's process never became `{}`",
            mlops.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let mut dry_run = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut dry_run)
        .unwrap();
    assert!(child.wait().unwrap().success());
    // Longer than a pipe holds (64 KiB on Linux): `mlops` could not have finished unread.
    assert!(dry_run.len() > 64 * 1024, "{} bytes", dry_run.len());
}

#[test]
fn version_names_the_tool_and_the_templates_its_manifests_record() {
    let test = Test::new();
    let version = test.mlops(&["--version"]);
    version.success();
    test.mlops(&["new", "demo", "--level", "0", "--no-input", "--no-git"])
        .success();
    let manifest = std::fs::read_to_string(test.path("demo/.mlops/manifest.toml")).unwrap();
    let manifest: toml::Table = toml::from_str(&manifest).unwrap();
    let templates = manifest["generator_version"].as_str().unwrap();
    assert_eq!(
        version.stdout,
        format!(
            "mlops {} (templates {templates})\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    for (shim, subcommand) in [("mlops-new", "new"), ("mlops-upgrade", "upgrade")] {
        let via_shim = test.run(shim, &["--version"]);
        via_shim.success();
        assert_eq!(
            via_shim.stdout,
            test.mlops(&[subcommand, "--version"]).stdout
        );
        let suffix = format!(" (templates {templates})\n");
        assert!(via_shim.stdout.ends_with(&suffix), "{}", via_shim.stdout);
    }
}

#[test]
fn man_pages_cover_mlops_and_every_subcommand_but_the_hidden_one() {
    let test = Test::new();
    test.mlops(&["generate-man", "share/man/man1"]).success();
    let dir = test.path("share/man/man1");
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "mlops-assess.1",
            "mlops-completions.1",
            "mlops-levels.1",
            "mlops-new.1",
            "mlops-update.1",
            "mlops-upgrade.1",
            "mlops.1"
        ]
    );
    let main_page = std::fs::read_to_string(dir.join("mlops.1")).unwrap();
    let version = test.mlops(&["--version"]).stdout;
    assert!(
        main_page.contains(&format!(".TH mlops 1  \"{}\"", version.trim_end())),
        "{main_page}"
    );
    assert!(!main_page.contains(r"generate\-man"), "{main_page}");
    assert!(!test.mlops(&["--help"]).stdout.contains("generate-man"));
    let new_page = std::fs::read_to_string(dir.join("mlops-new.1")).unwrap();
    for flag in [
        r"\-\-level",
        r"\-\-no\-input",
        r"\-\-dry\-run",
        "Exit codes:",
    ] {
        assert!(
            new_page.contains(flag),
            "mlops-new.1 lacks {flag}:\n{new_page}"
        );
    }
}

#[test]
fn man_pages_that_cannot_be_written_are_an_error() {
    let test = Test::new();
    test.write("taken", "a file, not a directory\n");
    let output = test.mlops(&["generate-man", "taken"]);
    output.code(1);
    assert!(
        output
            .stderr
            .starts_with("error: cannot write the man pages into `taken`: "),
        "{}",
        output.stderr
    );
}
