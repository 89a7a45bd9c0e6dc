//! Where any repository stands on the maturity model: the files of a scan in, for each of the
//! sixteen criteria whether it holds and which files show it, and the level reached: the highest
//! one whose criteria, and those of every level below, all hold.
//!
//! The parts, in the order an assessment runs:
//! - `criteria`: the model, each criterion declared once with its detector; the level names
//!   and the people checklist.
//! - `scan`: the bounded, `.gitignore`-respecting walk that reads a repository: the only IO.
//! - `facts`: what one file is and says (kind, test or not, code without comments, imports,
//!   CI triggers, Makefile targets).
//! - `detectors`: the facts of every file to evidence, one detector per criterion, by level.
//! - `report`: an assessment as text or JSON, or one criterion explained; `recorded`: the level
//!   the manifest records.
//!
//! Beside the criteria, an assessment reports problems: files that still hold conflict markers
//! from a merge never resolved (an adoption or upgrade leaves them), which no criterion should
//! be read through.
//!
//! The rest of the crate sees only this facade: [`assess_repository`], [`recorded_level`],
//! [`criterion_ids`], [`write_text`], [`write_explanation`] and [`write_json`].

mod criteria;
mod detectors;
mod facts;
mod recorded;
mod report;
mod scan;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use criteria::Criterion;
use detectors::Repo;
use facts::Kind;
use scan::ScannedFile;

pub(crate) use recorded::{Recorded, recorded_level};
pub(crate) use report::{write_explanation, write_json, write_text};

/// The title of the criterion `id`, such as `CI/CD for the application`, if there is one.
pub(crate) fn criterion_title(id: &str) -> Option<&'static str> {
    criteria::ALL
        .iter()
        .find(|criterion| criterion.id == id)
        .map(|criterion| criterion.title)
}

/// Every criterion id, in level order.
pub(crate) fn criterion_ids() -> impl Iterator<Item = &'static str> {
    criteria::ALL.iter().map(|criterion| criterion.id)
}

/// A file that shows (part of) a criterion, and what it shows; or, rejected, why it does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Evidence {
    path: String,
    detail: String,
}

/// What a detector read of one kind: how many files, and the first few.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Read {
    what: &'static str,
    count: usize,
    sample: Vec<String>,
}

#[derive(Debug, Clone)]
struct Finding {
    criterion: &'static Criterion,
    met: bool,
    evidence: Vec<Evidence>,
    /// Signals that looked like evidence and were rejected, with why.
    rejected: Vec<Evidence>,
    read: Vec<Read>,
}

/// A file that needs attention before its evidence can be trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Problem {
    path: String,
    problem: &'static str,
}

/// What an assessment found: the level reached and the findings behind it.
#[derive(Debug, Clone)]
pub(crate) struct Assessment {
    pub(crate) level: u8,
    /// One per criterion, in the order of `criteria::ALL`.
    findings: Vec<Finding>,
    /// How many files were read for evidence.
    files_read: usize,
    problems: Vec<Problem>,
    /// The module that serves the team's application (a FastAPI or Flask app), if there is one.
    app_entry_point: Option<String>,
}

/// The team's own files for roles the templates also fill: an adoption leaves them the team's
/// instead of adding a second file for the same role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Roles {
    /// The module that serves the application.
    pub(crate) app: Option<String>,
    /// What gathers the data: a DVC pipeline or import, an ingest module.
    pub(crate) data: Option<String>,
    /// A CI pipeline that runs the tests.
    pub(crate) tests_ci: Option<String>,
}

impl Assessment {
    /// The team's files for the roles the templates fill, from what the assessment found.
    pub(crate) fn roles(&self) -> Roles {
        let evidence_of = |id: &str| {
            self.findings
                .iter()
                .find(|finding| finding.criterion.id == id)
                .map(|finding| finding.evidence.as_slice())
                .unwrap_or_default()
        };
        // A DVC pipeline is the data pipeline, whatever modules its stages run.
        let gathering = evidence_of("data-gathered-automatically");
        let data = gathering
            .iter()
            .find(|evidence| evidence.path.ends_with("dvc.yaml"))
            .or_else(|| {
                gathering.iter().find(|evidence| {
                    Path::new(&evidence.path)
                        .extension()
                        .is_some_and(|extension| extension == "py")
                })
            })
            .map(|evidence| evidence.path.clone());
        let tests_ci = evidence_of("app-ci-cd")
            .iter()
            .find(|evidence| evidence.detail.contains("runs the tests"))
            .map(|evidence| evidence.path.clone());
        Roles {
            app: self.app_entry_point.clone(),
            data,
            tests_ci,
        }
    }

    /// The next level and the criteria it requires that do not hold, or `None` at the top.
    fn next_level_missing(&self) -> Option<(u8, Vec<&Finding>)> {
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

/// Reads the repository at `root` and assesses it.
pub(crate) fn assess_repository(root: &Path) -> anyhow::Result<Assessment> {
    scan::check_root(root)?;
    let files = scan::scan(root, wanted)?;
    Ok(assess(&files))
}

/// Whether `assess` reads the file at `path`: code, notebooks, CI, containers, DVC and
/// configuration; and the files at the top of the repository, whatever they are, for conflict
/// markers (`README.md`, `.gitignore`), which an adoption may leave there.
fn wanted(path: &str) -> bool {
    Kind::of(path).is_some() || !path.contains('/')
}

/// Files holding conflict markers.
fn problems(files: &[ScannedFile]) -> Vec<Problem> {
    files
        .iter()
        .filter(|file| file.text.contains("<<<<<<<"))
        .filter(|file| crate::upgrade::has_conflict_markers(file.text.as_bytes()))
        .map(|file| Problem {
            path: file.path.clone(),
            problem: "holds conflict markers (`<<<<<<<`, `=======`, `>>>>>>>`) from a merge never \
                      resolved: resolve them, then assess again",
        })
        .collect()
}

/// Assesses the files of a repository.
fn assess(files: &[ScannedFile]) -> Assessment {
    let repo = Repo::new(files);
    let findings: Vec<Finding> = parallel_map(criteria::ALL, |criterion| {
        let (met, evidence, rejected, read) = (criterion.detect)(&repo).into_parts();
        Finding {
            criterion,
            met,
            evidence,
            rejected,
            read,
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
    Assessment {
        level,
        findings,
        files_read: repo.n_sources(),
        problems: problems(files),
        app_entry_point: repo.app_entry_point(),
    }
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
