//! The detectors: one per criterion, a function from the repository's files (`Repo`, each file
//! analysed once into its facts) to what it found (`Found`). They are grouped by the level of
//! their criterion; `signals` holds what detectors of several levels read. Which detector serves
//! which criterion is declared in `criteria.rs`, with the criterion.
//!
//! Detectors look for generic signals (imports, calls, CI triggers and commands, file roles)
//! rather than this generator's file names, so that projects laid out by other teams and tools
//! are recognised; they read code and CI files only, with comments and docstrings removed, so
//! that a word in prose proves nothing. A criterion that does not hold may still list what was
//! found, when that is part of the way there.

pub(super) mod level1;
pub(super) mod level2;
pub(super) mod level3;
pub(super) mod level4;
mod signals;

use std::collections::BTreeSet;

use super::facts::{Kind, MakeBudget, MakeTargets, Source};
use super::scan::ScannedFile;
use super::{Evidence, parallel_map};

/// The repository's files, analysed once.
pub(super) struct Repo<'a> {
    sources: Vec<Source<'a>>,
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
        Self { sources }
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
/// not far enough, which is reported only when the criterion does not hold.
#[derive(Default)]
pub(super) struct Found {
    met: bool,
    evidence: Vec<Evidence>,
    partial: Vec<Evidence>,
}

impl Found {
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
    pub(super) fn into_evidence(mut self) -> (bool, Vec<Evidence>) {
        if !self.met {
            self.evidence.append(&mut self.partial);
        }
        (self.met, self.evidence)
    }
}

/// A CI pipeline's description in evidence: `GitHub Actions pipeline, runs on every change`.
fn pipeline(source: &Source<'_>) -> String {
    let provider = source.provider().map_or("CI", |provider| provider.label());
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
        format!("{provider} pipeline")
    } else {
        format!("{provider} pipeline, runs on {}", on.join(", "))
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
