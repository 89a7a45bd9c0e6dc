//! The template bundles, loaded once and passed explicitly to whatever renders.
//!
//! - `source`: reading the bundles' files, embedded or from `MLOPS_TEMPLATES_DIR` (the only IO).
//! - `bundle`: a bundle as data (`bundle.toml`, files, layers, variants) and the checks that
//!   make a set of bundles fit together; pure.
//! - `render`: bundles and answers to a `Tree`; `filters`: the tera engine, its case filters,
//!   the escapes an answer takes in each kind of file, and the budgets that keep a template from
//!   running away. Pure.
//!
//! `lib.rs` reads the raw files once ([`RawTemplates::from_environment`]) and loads them
//! ([`Templates::load`]); every command that needs templates receives `&Templates`.

mod bundle;
mod filters;
mod render;
mod source;

pub(crate) use bundle::Bundle;
pub(crate) use render::RenderError;
pub(crate) use source::{Origin, RawTemplates, TEMPLATES_DIR_ENV};

use crate::answers::Answers;
use crate::level::Level;
use crate::project::Tree;

/// The bundles of every level this build has, checked.
pub(crate) struct Templates<'t> {
    bundles: Vec<Bundle<'t>>,
}

impl<'t> Templates<'t> {
    /// Checks and loads `raw`. Mistakes in the embedded templates are caught by the unit tests;
    /// those in `MLOPS_TEMPLATES_DIR` are a template author's work in progress, reported here.
    pub(crate) fn load(raw: &'t RawTemplates) -> anyhow::Result<Self> {
        let bundles = bundle::load_all(raw).map_err(|error| malformed(&raw.origin, &error))?;
        if bundles.is_empty() {
            return Err(malformed(&raw.origin, "there is no level-0 bundle"));
        }
        Ok(Self { bundles })
    }

    /// Every bundle, in level order.
    pub(crate) fn bundles(&self) -> &[Bundle<'t>] {
        &self.bundles
    }

    /// The bundle of `level`, if this build has it.
    pub(crate) fn bundle(&self, level: Level) -> Option<&Bundle<'t>> {
        self.bundles.get(level.index())
    }

    /// The highest level this build has a bundle for.
    pub(crate) fn highest_level(&self) -> Level {
        let top = u8::try_from(self.bundles.len() - 1).expect("at most five bundles");
        Level::new(top).expect("bundles are levels")
    }

    /// Renders a project at `level` with `answers`.
    pub(crate) fn render(&self, level: Level, answers: &Answers) -> Result<Tree, RenderError> {
        let bundles = self
            .bundles
            .get(..=level.index())
            .filter(|bundles| bundles.len() == level.index() + 1)
            .ok_or(RenderError::UnknownLevel(level))?;
        render::render_bundles(bundles, answers)
    }

    /// The level menu's labels: `2  Automated Training: training is repeatable, ...`.
    pub(crate) fn level_labels(&self) -> Vec<String> {
        Level::all()
            .zip(&self.bundles)
            .map(|(level, bundle)| format!("{level}  {}: {}", level.name(), bundle.meta.summary))
            .collect()
    }
}

pub(crate) fn malformed(origin: &Origin, error: &str) -> anyhow::Error {
    match origin {
        Origin::Directory(dir) => anyhow::anyhow!(
            "the templates in {TEMPLATES_DIR_ENV} (`{}`) are malformed: {error}; fix them, or \
             unset {TEMPLATES_DIR_ENV} to use the built-in ones",
            dir.display()
        ),
        Origin::Embedded => anyhow::anyhow!("the built-in templates are malformed: {error}"),
    }
}

/// The embedded templates, for the unit tests of every module that renders.
#[cfg(test)]
pub(crate) fn with_embedded<T>(use_them: impl FnOnce(&Templates<'_>) -> T) -> T {
    let raw = RawTemplates::embedded().expect("the embedded templates read");
    let templates = Templates::load(&raw).expect("the embedded templates load");
    use_them(&templates)
}
