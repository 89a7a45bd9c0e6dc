//! Wall time of `mlops new DIR --level 1 --no-input`, git repository and first commit included,
//! measured on the release binary as a user runs it. Run with `cargo bench --bench generate`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::Timing;

fn main() {
    let binary = env!("CARGO_BIN_EXE_mlops");
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let home = common::git_home(scratch.path());

    let run = |target: &std::path::Path| {
        let status = Command::new(binary)
            .args(["new"])
            .arg(target)
            .args(["--level", "1", "--no-input"])
            .env("HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("mlops runs");
        assert!(status.success());
    };
    // Warm the page cache and the binary.
    for warm in 0..3 {
        run(&scratch.path().join(format!("warm-{warm}")));
    }
    let timing = Timing::measure(
        51,
        |index| scratch.path().join(format!("project-{index}")),
        |target| run(&target),
    );
    assert!(
        scratch.path().join("project-0/.git").is_dir(),
        "the benchmark includes the git commit"
    );
    timing.report(
        "mlops new --level 1 (with git init and commit)",
        Duration::from_millis(30),
    );
}
