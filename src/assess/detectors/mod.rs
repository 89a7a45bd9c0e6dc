//! The detectors: one per criterion, a function from the repository's files (`Repo`, each file
//! analysed once into its facts) to what it found (`Found`). They are grouped by the level of
//! their criterion; `signals` holds what detectors of several levels read. Which detector serves
//! which criterion is declared in `criteria.rs`, with the criterion.
//!
//! Detectors look for generic signals (imports, calls, CI triggers and commands, file roles,
//! what code does) rather than this generator's file names, so that projects laid out by other
//! teams and tools are recognised; they read code and CI files only, with comments and
//! docstrings removed, so that a word in prose proves nothing. A CI pipeline is read with what
//! it runs (`reach`): the Makefile targets, scripts, job specs and modules it names. A criterion
//! that does not hold may still list what was found, when that is part of the way there; and
//! every detector says what it read and which signals it rejected, and why, for `--explain`.

mod gathering;
pub(super) mod level1;
pub(super) mod level2;
pub(super) mod level3;
pub(super) mod level4;
mod reach;
mod signals;
mod tracking;
mod training;

use std::collections::{BTreeSet, HashMap};

use super::facts::{Kind, MakeBudget, MakeTargets, Source};
use super::scan::ScannedFile;
use super::{Evidence, Read, parallel_map};

/// The repository's files, analysed once.
pub(super) struct Repo<'a> {
    sources: Vec<Source<'a>>,
    /// For each CI pipeline that names files it runs, by path, the indexes in `sources` of the
    /// files it reaches.
    reached: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Repo<'a> {
    pub(super) fn new(files: &'a [ScannedFile]) -> Self {
        let mut sources: Vec<Source<'a>> =
            parallel_map(files, |file| Source::new(&file.path, &file.text))
                .into_iter()
                .flatten()
                .collect();
        // CI pipelines are thin: what `make test` or `make train` runs is part of what they do.
        let make_targets = sources
            .iter()
            .find(|source| source.kind == Kind::Makefile && !source.path.contains('/'))
            .map(|makefile| MakeTargets::parse(&makefile.code))
            .unwrap_or_default();
        let mut budget = MakeBudget::per_repository();
        for source in sources.iter_mut().filter(|source| source.is_ci()) {
            let expanded = make_targets.expand(&source.code, &mut budget);
            if !expanded.is_empty() {
                source.append_code(&expanded);
            }
        }
        let reached = reach::reached(&sources)
            .into_iter()
            .enumerate()
            .filter(|(_, reached)| !reached.is_empty())
            .map(|(index, reached)| (sources[index].path, reached))
            .collect();
        Self { sources, reached }
    }

    /// How many files were read for evidence.
    pub(super) fn n_sources(&self) -> usize {
        self.sources.len()
    }

    /// The module that creates the application's web app (FastAPI, Flask), the one nearest the
    /// root if there are several.
    pub(super) fn app_entry_point(&self) -> Option<String> {
        self.modules()
            .filter(|module| module.has("fastapi(") || module.has("flask(__name__"))
            .min_by_key(|module| (module.path.matches('/').count(), module.path))
            .map(|module| module.path.to_owned())
    }

    /// The files `ci` reaches, in the order found: scripts, job specs, templates, pipelines and
    /// Python modules it runs.
    fn reached<'s>(&'s self, ci: &Source<'_>) -> impl Iterator<Item = &'s Source<'a>> {
        self.reached
            .get(ci.path)
            .into_iter()
            .flatten()
            .map(|index| &self.sources[*index])
    }

    /// The Python modules and notebooks `ci` runs, tests left out.
    fn reached_modules<'s>(&'s self, ci: &Source<'_>) -> impl Iterator<Item = &'s Source<'a>> {
        self.reached(ci)
            .filter(|source| source.is_code() && !source.is_test)
    }

    /// The first thing `find` finds in `ci`, or else in the scripts, job specs, templates and
    /// pipelines it runs, with the path of the file it was found in when that is not `ci`.
    fn find_in_pipeline<'s, T>(
        &'s self,
        ci: &'s Source<'a>,
        find: impl Fn(&Source<'a>) -> Option<T>,
    ) -> Option<(T, Option<&'a str>)> {
        if let Some(found) = find(ci) {
            return Some((found, None));
        }
        self.reached(ci)
            .filter(|source| !source.is_code())
            .find_map(|source| find(source).map(|found| (found, Some(source.path))))
    }

    fn product_code(&self) -> impl Iterator<Item = &Source<'a>> {
        self.sources
            .iter()
            .filter(|source| source.is_product_code())
    }

    /// Python scripts and modules, not notebooks and not tests.
    fn modules(&self) -> impl Iterator<Item = &Source<'a>> {
        self.sources
            .iter()
            .filter(|source| source.kind == Kind::Python && !source.is_test)
    }

    fn tests(&self) -> impl Iterator<Item = &Source<'a>> {
        self.sources
            .iter()
            .filter(|source| source.kind == Kind::Python && source.is_test)
    }

    fn ci(&self) -> impl Iterator<Item = &Source<'a>> {
        self.sources.iter().filter(|source| source.is_ci())
    }

    fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Source<'a>> {
        self.sources
            .iter()
            .filter(move |source| source.kind == kind)
    }
}

/// What a detector found: the evidence for the criterion, and what goes some of the way but
/// not far enough, which is reported only when the criterion does not hold; the signals it
/// rejected and why; and what it read.
#[derive(Default)]
pub(super) struct Found {
    met: bool,
    evidence: Vec<Evidence>,
    partial: Vec<Evidence>,
    rejected: Vec<Evidence>,
    read: Vec<Read>,
}

/// How many paths `Found::reads` keeps of each kind of file read.
const READ_SAMPLE: usize = 8;

impl Found {
    /// Records that the detector read `sources`, described as `what` (`CI pipelines`).
    fn reads<'s, 'a: 's>(
        &mut self,
        what: &'static str,
        sources: impl Iterator<Item = &'s Source<'a>>,
    ) {
        let mut read = Read {
            what,
            count: 0,
            sample: Vec::new(),
        };
        for source in sources {
            read.count += 1;
            if read.sample.len() < READ_SAMPLE {
                read.sample.push(source.path.to_owned());
            }
        }
        self.read.push(read);
    }

    /// A signal that looked like evidence and is not, and why.
    fn reject(&mut self, source: &Source<'_>, why: impl Into<String>) {
        self.rejected.push(Evidence {
            path: source.path.to_owned(),
            detail: why.into(),
        });
    }

    fn add(&mut self, source: &Source<'_>, detail: impl Into<String>) {
        self.evidence.push(Evidence {
            path: source.path.to_owned(),
            detail: detail.into(),
        });
    }

    fn add_partial(&mut self, source: &Source<'_>, detail: impl Into<String>) {
        self.partial.push(Evidence {
            path: source.path.to_owned(),
            detail: detail.into(),
        });
    }

    /// Met when any evidence was found.
    fn met_if_any(mut self) -> Self {
        self.met = !self.evidence.is_empty();
        self
    }

    /// Whether the criterion holds, and its evidence: what goes some of the way is reported only
    /// when it does not hold.
    #[cfg(test)]
    pub(super) fn into_evidence(self) -> (bool, Vec<Evidence>) {
        let (met, evidence, _, _) = self.into_parts();
        (met, evidence)
    }

    /// Whether the criterion holds, its evidence, the rejected signals and what was read.
    pub(super) fn into_parts(mut self) -> (bool, Vec<Evidence>, Vec<Evidence>, Vec<Read>) {
        if !self.met {
            self.evidence.append(&mut self.partial);
        }
        let mut seen = BTreeSet::new();
        self.rejected
            .retain(|evidence| seen.insert((evidence.path.clone(), evidence.detail.clone())));
        (self.met, self.evidence, self.rejected, self.read)
    }
}

/// `detail`, and the file it was found through when that is not the pipeline itself.
fn through(detail: impl Into<String>, via: Option<&str>) -> String {
    let detail = detail.into();
    match via {
        Some(via) => format!("{detail}, through `{via}`"),
        None => detail,
    }
}

/// A CI pipeline's description in evidence: `GitHub Actions pipeline, runs on every change`.
fn pipeline(source: &Source<'_>) -> String {
    let provider = source.provider().map_or("CI", |provider| provider.label());
    let recognised = if source.by_content {
        " (recognised by its content)"
    } else {
        ""
    };
    let triggers = source.triggers;
    let mut on = Vec::new();
    if triggers.on_change {
        on.push(if triggers.path_filters {
            "changes to some paths"
        } else {
            "every change"
        });
    }
    if triggers.on_tag {
        on.push("tags");
    }
    if triggers.after_event {
        on.push("another pipeline or event");
    }
    if triggers.schedule {
        on.push("a schedule");
    }
    if triggers.manual {
        on.push("demand");
    }
    if on.is_empty() {
        format!("{provider} pipeline{recognised}")
    } else {
        format!("{provider} pipeline{recognised}, runs on {}", on.join(", "))
    }
}

fn dedup(mut found: Found) -> Found {
    let mut seen = BTreeSet::new();
    found
        .evidence
        .retain(|evidence| seen.insert((evidence.path.clone(), evidence.detail.clone())));
    found
}

#[cfg(test)]
pub(super) mod testing {
    //! What the detectors' tests share: a repository from `(path, text)` pairs, assessed, and
    //! a few files that together reach level 1.

    use crate::assess::scan::ScannedFile;
    use crate::assess::{Assessment, assess};

    pub(in crate::assess) fn assessed(files: &[(&str, &str)]) -> Assessment {
        let scanned: Vec<ScannedFile> = files
            .iter()
            .map(|(path, text)| ScannedFile::new(path, text))
            .collect();
        assess(&scanned)
    }

    /// Asserts which criteria hold, by id, in the order of `criteria::ALL`.
    pub(in crate::assess) fn check(files: &[(&str, &str)], expected: &[&str]) {
        let assessment = assessed(files);
        let met: Vec<&str> = assessment
            .findings
            .iter()
            .filter(|finding| finding.met)
            .map(|finding| finding.criterion.id)
            .collect();
        assert_eq!(met, expected, "{files:#?}");
    }

    pub(in crate::assess) fn evidence_of(files: &[(&str, &str)], id: &str) -> Vec<String> {
        let assessment = assessed(files);
        let finding = assessment
            .findings
            .iter()
            .find(|finding| finding.criterion.id == id)
            .unwrap();
        finding
            .evidence
            .iter()
            .map(|evidence| format!("{}: {}", evidence.path, evidence.detail))
            .collect()
    }

    pub(in crate::assess) const PYTEST_APP: (&str, &str) = (
        "tests/test_app.py",
        "from app import app\n\ndef test_health():\n    assert app.test_client().get('/health').status_code == 200\n",
    );

    pub(in crate::assess) const MODEL_TEST: (&str, &str) = (
        "tests/test_model.py",
        "import joblib\n\ndef test_predicts_labels():\n    model = joblib.load('models/model.pkl')\n    assert model.predict([[1.0]]).shape == (1,)\n",
    );

    pub(in crate::assess) const DOWNLOAD: (&str, &str) = (
        "scripts/download_data.py",
        "import requests\n\nresponse = requests.get(URL, timeout=60)\nopen('data/raw.csv', 'wb').write(response.content)\n",
    );

    pub(in crate::assess) const APP_CI_CD: (&str, &str) = (
        ".github/workflows/ci.yml",
        "on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n  image:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: docker/build-push-action@v6\n",
    );

    pub(in crate::assess) const LEVEL_1: [(&str, &str); 4] =
        [PYTEST_APP, MODEL_TEST, DOWNLOAD, APP_CI_CD];
}
