//! Evidence of maturity in any repository: the files of a scan (see `scan.rs`) in, for each of
//! the sixteen criteria (see `criteria.rs`) whether it holds and which files show it, and the
//! level reached: the highest one whose criteria, and those of every level below, all hold.
//!
//! The parts: `criteria` declares the maturity model, each criterion with its detector; `scan`
//! is the bounded walk that reads a repository, and the only IO; `facts` says what one file is
//! and contains; `detectors` (by level) turn the facts of all files into evidence. Everything but
//! `scan` is pure.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

pub mod criteria;
mod detectors;
mod facts;
pub mod scan;

use criteria::Criterion;
use detectors::Repo;
use facts::Kind;
use scan::ScannedFile;

/// Whether `assess` reads the file at `path`: code, notebooks, CI, containers, DVC and configuration.
pub fn wanted(path: &str) -> bool {
    Kind::of(path).is_some()
}

/// A file that shows (part of) a criterion, and what it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub path: String,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub criterion: &'static Criterion,
    pub met: bool,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone)]
pub struct Assessment {
    pub level: u8,
    /// One per criterion, in the order of `criteria::ALL`.
    pub findings: Vec<Finding>,
}

impl Assessment {
    /// The next level and the criteria it requires that do not hold, or `None` at the top.
    pub fn next_level_missing(&self) -> Option<(u8, Vec<&Finding>)> {
        let next = self
            .level
            .checked_add(1)
            .filter(|next| *next <= criteria::max_level())?;
        let missing = self
            .findings
            .iter()
            .filter(|finding| finding.criterion.level <= next && !finding.met)
            .collect();
        Some((next, missing))
    }
}

/// Assesses the files of a repository.
pub fn assess(files: &[ScannedFile]) -> Assessment {
    let repo = Repo::new(files);
    let findings: Vec<Finding> = parallel_map(criteria::ALL, |criterion| {
        let (met, evidence) = (criterion.detect)(&repo).into_evidence();
        Finding {
            criterion,
            met,
            evidence,
        }
    });
    let level = (1..=criteria::max_level())
        .take_while(|level| {
            findings
                .iter()
                .filter(|finding| finding.criterion.level == *level)
                .all(|finding| finding.met)
        })
        .last()
        .unwrap_or(0);
    Assessment { level, findings }
}

/// `map` applied to every item, in order, on all cores. Large repositories have tens of thousands
/// of files to analyse, and the criteria are independent of each other.
fn parallel_map<'t, T: Sync, R: Send>(items: &'t [T], map: impl Fn(&'t T) -> R + Sync) -> Vec<R> {
    let n_threads = std::thread::available_parallelism().map_or(1, usize::from);
    if n_threads == 1 || items.len() < 2 {
        return items.iter().map(map).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n_threads.min(items.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            break done;
                        };
                        done.push((index, map(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a detector does not panic"))
            .collect()
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::detectors::testing::{DOWNLOAD, LEVEL_1, assessed, check};

    #[test]
    fn an_empty_repository_is_at_level_0() {
        let assessment = assessed(&[]);
        assert_eq!(assessment.level, 0);
        let (next, missing) = assessment.next_level_missing().unwrap();
        assert_eq!(next, 1);
        assert_eq!(missing.len(), 4);
    }

    #[test]
    fn prose_and_comments_prove_nothing() {
        check(
            &[
                (
                    "README.md",
                    "We track experiments with mlflow and deploy with kubectl.",
                ),
                (
                    "train.py",
                    "\"\"\"Later: import mlflow and mlflow.log_metric.\"\"\"\n# import wandb\n# wandb.init()\nprint('hi')\n",
                ),
                (
                    "notebooks/eda.ipynb",
                    r#"{"cells": [{"cell_type": "markdown", "source": ["import mlflow\n", "mlflow.log_metric('a', 1)"]}]}"#,
                ),
            ],
            &[],
        );
    }

    #[test]
    fn the_level_is_the_highest_with_every_criterion_below_it() {
        let assessment = assessed(&LEVEL_1);
        assert_eq!(assessment.level, 1);
        let (next, missing) = assessment.next_level_missing().unwrap();
        assert_eq!(next, 2);
        let missing: Vec<&str> = missing.iter().map(|finding| finding.criterion.id).collect();
        assert_eq!(
            missing,
            [
                "experiments-tracked",
                "code-and-models-versioned",
                "compute-managed",
                "scoring-versioned-tested",
                "model-ci"
            ]
        );
        // Level-4 evidence does not lift a repository that misses level 2.
        let mut files = LEVEL_1.to_vec();
        files.push(("src/pkg/app.py", "from prometheus_client import Counter\n"));
        assert_eq!(assessed(&files).level, 1);
        files.retain(|(path, _)| *path != DOWNLOAD.0);
        assert_eq!(assessed(&files).level, 0);
    }
}
