//! Shared by the benchmarks: run a command many times and report the distribution of wall times.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) struct Timing {
    pub(crate) samples: Vec<Duration>,
}

impl Timing {
    /// Runs `setup` untimed and `measured` timed, `runs` times.
    pub(crate) fn measure<S>(
        runs: usize,
        mut setup: impl FnMut(usize) -> S,
        mut measured: impl FnMut(S),
    ) -> Self {
        let mut samples = Vec::with_capacity(runs);
        for run in 0..runs {
            let state = setup(run);
            let start = Instant::now();
            measured(state);
            samples.push(start.elapsed());
        }
        samples.sort();
        Self { samples }
    }

    pub(crate) fn median(&self) -> Duration {
        self.samples[self.samples.len() / 2]
    }

    /// Prints the distribution and whether the median met `target`; returns whether it did.
    pub(crate) fn report(&self, name: &str, target: Duration) -> bool {
        let percentile = |p: usize| self.samples[(self.samples.len() - 1) * p / 100];
        let median = self.median();
        println!(
            "{name}: median {:.1} ms, min {:.1} ms, p90 {:.1} ms over {} runs (target: under {} ms){}",
            ms(median),
            ms(self.samples[0]),
            ms(percentile(90)),
            self.samples.len(),
            target.as_millis(),
            if median < target { "" } else { "  MISSED" }
        );
        median < target
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A home directory under `scratch` whose git configuration names a committer, so that the
/// benchmarks commit the same way on any machine.
#[allow(dead_code)]
pub(crate) fn git_home(scratch: &Path) -> PathBuf {
    let home = scratch.join("home");
    std::fs::create_dir(&home).expect("a home directory");
    std::fs::write(
        home.join(".gitconfig"),
        "[user]\n\tname = Bench\n\temail = bench@example.com\n",
    )
    .expect("a git configuration");
    home
}

/// Ends a benchmark: exit 1 when a target was missed, so that CI notices.
#[allow(dead_code)]
pub(crate) fn finish(missed: &[&str]) {
    if !missed.is_empty() {
        eprintln!("missed the target: {}", missed.join(", "));
        std::process::exit(1);
    }
}
