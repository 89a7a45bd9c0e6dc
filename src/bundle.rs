//! The template bundles, embedded in the binary, behind one small API.
//!
//! `templates/level-N/` holds the bundle of maturity level N: `bundle.toml` (what the level adds,
//! which maturity criteria it meets, which lower-level files it edits, and which files are seeded
//! or executable) and `files/`, the project files it introduces. Paths and contents under `files/`
//! are tera templates. Levels are cumulative: level N renders bundles 0 to N, and a shared file
//! that changes with the level keeps its single template in the bundle that introduced it, with
//! `{% if level >= N %}` sections, so every level renders it from one source. Nothing outside this
//! module reaches the embedded directory. `MLOPS_TEMPLATES_DIR` points at a directory of the same
//! layout to use instead, for template development and for tests with bundles of their own.

use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use serde::Deserialize;

use crate::answers::MAX_LEVEL;
use crate::project::Ownership;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// `bundle.toml`: what a level is and what its bundle adds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub level: u8,
    /// The stage's name in the maturity model, such as `Automated Training`.
    pub name: String,
    pub summary: String,
    /// What the bundle adds, one line each, for `mlops levels` and the docs.
    pub adds: Vec<String>,
    /// Ids of the maturity criteria (see `criteria.rs`) that this level newly meets.
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Commands to run in the new project, printed after `mlops new`.
    #[serde(default)]
    pub next_steps: Vec<String>,
    /// Template paths of lower-level files whose rendering changes at this level.
    #[serde(default)]
    pub changes: Vec<String>,
    /// Template paths written once and then the team's; everything else is generated.
    #[serde(default)]
    pub seeded: Vec<String>,
    /// Template paths written with the executable bit.
    #[serde(default)]
    pub executable: Vec<String>,
}

/// One file of a bundle, before rendering.
#[derive(Debug, Clone)]
pub struct TemplateFile {
    /// Path under `files/`, itself a template, such as `src/{{package_name}}/train.py`.
    pub path: &'static str,
    pub contents: &'static [u8],
    pub ownership: Ownership,
    pub executable: bool,
}

#[derive(Debug, Clone)]
pub struct Bundle {
    pub meta: Metadata,
    pub files: Vec<TemplateFile>,
}

/// Replaces the embedded bundles with the ones in a directory of the same layout, for template
/// authors (edit, run, no rebuild) and for tests that need bundles of their own.
pub const TEMPLATES_DIR_ENV: &str = "MLOPS_TEMPLATES_DIR";

/// Every bundle, in level order. Call [`check`] first: a malformed bundle panics here.
pub fn all() -> &'static [Bundle] {
    match loaded() {
        Ok(bundles) => bundles,
        Err(error) => panic!("{error}"),
    }
}

/// Loads the bundles once and says what is wrong with them, if anything. The embedded ones are
/// checked by the unit tests; the ones of `MLOPS_TEMPLATES_DIR` are a template author's work in
/// progress, so their mistakes are reported as errors.
pub fn check() -> anyhow::Result<()> {
    loaded().map(|_| ()).map_err(anyhow::Error::msg)
}

/// The bundles, or what is wrong with them and where they came from.
fn loaded() -> Result<&'static [Bundle], &'static str> {
    static BUNDLES: OnceLock<Result<Vec<Bundle>, String>> = OnceLock::new();
    let bundles = BUNDLES.get_or_init(|| {
        let from_disk = std::env::var_os(TEMPLATES_DIR_ENV).filter(|dir| !dir.is_empty());
        let read = |level| match &from_disk {
            Some(dir) => read_disk_bundle(std::path::Path::new(dir), level),
            None => read_embedded_bundle(level),
        };
        load_all(read).map_err(|error| match &from_disk {
            Some(dir) => format!(
                "the templates in {TEMPLATES_DIR_ENV} (`{}`) are malformed: {error}; fix them, or \
                 unset {TEMPLATES_DIR_ENV} to use the built-in ones",
                std::path::Path::new(dir).display()
            ),
            None => format!("the built-in templates are malformed: {error}"),
        })
    });
    bundles.as_deref().map_err(String::as_str)
}

/// Loads level 0 and up, through the first level `read` does not find.
fn load_all(read: impl Fn(u8) -> Result<Option<RawBundle>, String>) -> Result<Vec<Bundle>, String> {
    let mut bundles = Vec::new();
    for level in 0..=MAX_LEVEL {
        let Some((level, meta_text, files)) = read(level)? else {
            break;
        };
        bundles.push(load(level, meta_text, files)?);
    }
    if bundles.is_empty() {
        return Err("there is no level-0 bundle".to_owned());
    }
    Ok(bundles)
}

/// A bundle's `bundle.toml` and its files (path under `files/`, contents), before checking.
type RawBundle = (u8, &'static str, Vec<(&'static str, &'static [u8])>);

fn read_embedded_bundle(level: u8) -> Result<Option<RawBundle>, String> {
    let name = format!("level-{level}");
    let Some(dir) = TEMPLATES.get_dir(&name) else {
        return Ok(None);
    };
    let meta_text = dir
        .get_file(format!("{name}/bundle.toml"))
        .and_then(|file| file.contents_utf8())
        .ok_or_else(|| format!("level-{level}/bundle.toml is missing or not UTF-8"))?;
    let prefix = format!("{name}/files/");
    let mut files = Vec::new();
    if let Some(files_dir) = dir.get_dir(format!("{name}/files")) {
        collect_files(files_dir, &mut |file| {
            let full = file.path().to_str().expect("template paths are UTF-8");
            let path = full.strip_prefix(&prefix).expect("files live under files/");
            files.push((path, file.contents()));
        });
    }
    Ok(Some((level, meta_text, files)))
}

/// Reads `dir/level-N` from disk. The contents live as long as the process, as the embedded
/// ones do, so they are leaked once.
fn read_disk_bundle(dir: &std::path::Path, level: u8) -> Result<Option<RawBundle>, String> {
    let bundle_dir = dir.join(format!("level-{level}"));
    if !bundle_dir.is_dir() {
        return Ok(None);
    }
    let meta_path = bundle_dir.join("bundle.toml");
    let meta_text = std::fs::read_to_string(&meta_path)
        .map_err(|error| format!("level-{level}/bundle.toml: {error}"))?;
    let mut files = Vec::new();
    let files_dir = bundle_dir.join("files");
    let mut pending = vec![files_dir.clone()];
    while let Some(directory) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&directory) else {
            continue;
        };
        for entry in entries {
            let path = entry
                .map_err(|error| format!("{}: {error}", directory.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(&files_dir)
                    .expect("under files/")
                    .to_string_lossy()
                    .replace('\\', "/");
                let contents =
                    std::fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
                files.push((
                    &*Box::leak(relative.into_boxed_str()),
                    &*Box::leak(contents.into_boxed_slice()),
                ));
            }
        }
    }
    Ok(Some((level, Box::leak(meta_text.into_boxed_str()), files)))
}

/// The bundles a project at `level` is rendered from, or `None` if that level is not available.
pub fn up_to(level: u8) -> Option<&'static [Bundle]> {
    all().get(..=usize::from(level))
}

pub fn get(level: u8) -> Option<&'static Bundle> {
    all().get(usize::from(level))
}

/// The level menu's labels: `2  Automated Training: training is repeatable, ...`.
pub fn level_labels() -> Vec<String> {
    all()
        .iter()
        .map(|bundle| {
            format!(
                "{}  {}: {}",
                bundle.meta.level, bundle.meta.name, bundle.meta.summary
            )
        })
        .collect()
}

/// The highest level this build has a bundle for.
pub fn highest_level() -> u8 {
    u8::try_from(all().len()).expect("at most five bundles") - 1
}

fn load(
    level: u8,
    meta_text: &'static str,
    raw_files: Vec<(&'static str, &'static [u8])>,
) -> Result<Bundle, String> {
    let name = format!("level-{level}");
    let meta: Metadata = toml::from_str(meta_text)
        .map_err(|error| format!("{name}/bundle.toml: {}", error.message()))?;
    if meta.level != level {
        return Err(format!(
            "{name}/bundle.toml says `level = {}`; it must say `level = {level}`",
            meta.level
        ));
    }
    let mut files: Vec<TemplateFile> = raw_files
        .into_iter()
        .map(|(path, contents)| TemplateFile {
            path,
            contents,
            ownership: if meta.seeded.iter().any(|seeded| seeded == path) {
                Ownership::Seeded
            } else {
                Ownership::Generated
            },
            executable: meta.executable.iter().any(|executable| executable == path),
        })
        .collect();
    files.sort_by_key(|file| file.path);
    for listed in meta.seeded.iter().chain(&meta.executable) {
        if !files.iter().any(|file| file.path == listed) {
            return Err(format!(
                "{name}/bundle.toml lists `{listed}`, which is not in {name}/files/"
            ));
        }
    }
    Ok(Bundle { meta, files })
}

fn collect_files(
    dir: &'static Dir<'static>,
    visit: &mut dyn FnMut(&'static include_dir::File<'static>),
) {
    for file in dir.files() {
        visit(file);
    }
    for child in dir.dirs() {
        collect_files(child, visit);
    }
}

/// Template path to the level that introduced it, across all bundles.
#[cfg(test)]
fn introduced_at() -> std::collections::BTreeMap<&'static str, u8> {
    all()
        .iter()
        .flat_map(|bundle| {
            bundle
                .files
                .iter()
                .map(move |file| (file.path, bundle.meta.level))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_load_in_level_order() {
        let bundles = all();
        assert!(!bundles.is_empty());
        for (index, bundle) in bundles.iter().enumerate() {
            assert_eq!(usize::from(bundle.meta.level), index);
            assert!(!bundle.files.is_empty(), "level {index} adds no file");
            assert!(
                !bundle.meta.adds.is_empty(),
                "level {index} says nothing about what it adds"
            );
        }
    }

    #[test]
    fn no_bundle_redefines_a_lower_level_file() {
        // A shared file has one template, in the bundle that introduced it, so that every level
        // renders it from the same source and upgrades see only the level's real changes.
        let mut seen = std::collections::BTreeMap::new();
        for bundle in all() {
            for file in &bundle.files {
                if let Some(earlier) = seen.insert(file.path, bundle.meta.level) {
                    panic!(
                        "`{}` is in level {earlier} and level {}",
                        file.path, bundle.meta.level
                    );
                }
            }
        }
    }

    #[test]
    fn declared_changes_name_lower_level_files() {
        let introduced = introduced_at();
        for bundle in all() {
            for changed in &bundle.meta.changes {
                let at = introduced.get(changed.as_str());
                assert!(
                    at.is_some_and(|at| *at < bundle.meta.level),
                    "level {} declares a change to `{changed}`, which no lower level introduces",
                    bundle.meta.level
                );
            }
        }
    }
}
