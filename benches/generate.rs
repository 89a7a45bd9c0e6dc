//! Wall time of `mlops new DIR --level 1 --no-input`, git repository and first commit included,
//! measured on the release binary as a user runs it. Run with `cargo bench --bench generate`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::Timing;

fn main() {
    // The disk's state moves the figure more than the program does: creating a file on this
    // machine's virtual disk takes from tens of microseconds to a millisecond, depending on what
    // else was written lately. So the benchmark runs on the default temporary directory, as a
    // user would, and on a file system in memory where there is one, which is the program's own
    // cost.
    let mut places = vec![("the temporary directory", std::env::temp_dir())];
    let memory = std::path::Path::new("/dev/shm");
    if memory.is_dir() {
        places.push(("a file system in memory", memory.to_path_buf()));
    }
    let judged = places.len() - 1;
    let mut missed = Vec::new();
    for (index, (name, place)) in places.into_iter().enumerate() {
        let scratch = tempfile::tempdir_in(&place).expect("a temporary directory");
        let label = format!("mlops new --level 1 (with git init and commit), on {name}");
        // The target holds the program to account, so it is judged on the last place measured:
        // memory where there is such a file system, whose figure the disk's mood does not move.
        if !measure(scratch.path(), &label) && index == judged {
            missed.push(label);
        }
    }
    let missed: Vec<&str> = missed.iter().map(String::as_str).collect();
    common::finish(&missed);
}

/// Measures and reports; returns whether the median met the target.
fn measure(scratch: &std::path::Path, name: &str) -> bool {
    let binary = env!("CARGO_BIN_EXE_mlops");
    let home = common::git_home(scratch);

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
        run(&scratch.join(format!("warm-{warm}")));
    }
    let timing = Timing::measure(
        51,
        |index| scratch.join(format!("project-{index}")),
        |target| run(&target),
    );
    assert!(
        scratch.join("project-0/.git").is_dir(),
        "the benchmark includes the git commit"
    );
    timing.report(name, Duration::from_millis(30))
}
