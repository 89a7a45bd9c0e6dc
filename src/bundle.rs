//! The template bundles, embedded in the binary, behind one small API.
//!
//! `templates/level-N/` holds the bundle of maturity level N: `bundle.toml` (what the level adds,
//! which maturity criteria it meets, and which files are seeded or executable), `files/` (the
//! project files it introduces), `layers/` (what it changes in files of lower levels: overrides
//! of the tera blocks of their templates) and `variants/<answer>/<value>/`, with `files/` and
//! `layers/` of its own, for what applies only to projects whose answer is that value (the
//! workflows of one CI provider). Paths and contents are tera templates. Levels are cumulative:
//! level N renders bundles 0 to N, and a file is the template of the bundle that introduced it,
//! extended by every layer of it up to level N (`render.rs` chains them). This module reads the
//! bundles and checks their layout, so that chaining cannot go wrong: a path is introduced once
//! for any project, every layer has a file below it to change, a variant is keyed by an answer.
//! The files whose rendering changes at a level (`changes`) are derived from its layers, plus
//! those `bundle.toml` declares. Nothing outside this module reaches the embedded directory.
//! `MLOPS_TEMPLATES_DIR` points at a directory of the same layout to use instead, for template
//! development and for tests with bundles of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use include_dir::{Dir, include_dir};
use serde::Deserialize;

use crate::answers::{AnswerKey, MAX_LEVEL};
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
    /// Template paths of lower-level files whose rendering changes at this level. Once loaded:
    /// those `bundle.toml` declares (files that change only through `{{ level }}` and the like,
    /// in the order given), with the files the level's layers change merged in by path.
    #[serde(default)]
    pub changes: Vec<String>,
    /// Template paths written once and then the team's; everything else is generated.
    #[serde(default)]
    pub seeded: Vec<String>,
    /// Template paths written with the executable bit.
    #[serde(default)]
    pub executable: Vec<String>,
}

/// The answer a variant's templates are for: `variants/<key>/<value>/` applies to the projects
/// whose answer `key` is `value`. Any value of a known answer may have a variant directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Variant {
    pub key: AnswerKey,
    pub value: &'static str,
}

/// One file of a bundle, before rendering.
#[derive(Debug, Clone)]
pub struct TemplateFile {
    /// Path under `files/`, itself a template, such as `src/{{package_name}}/train.py`.
    pub path: &'static str,
    pub contents: &'static [u8],
    pub ownership: Ownership,
    pub executable: bool,
    /// `None` for every project, or the answer the file is for.
    pub variant: Option<Variant>,
    /// Where the template is, relative to the templates directory, for messages and as its
    /// name in tera: `level-1/variants/ci_provider/github/files/.github/workflows/ci.yml`.
    pub source: &'static str,
}

/// What a level changes in a file introduced below it (or, for a variant, in a common file of
/// its own level): overrides of blocks of the file's template, which `{{ super() }}` extends.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The template path of the file it changes, as under `files/`.
    pub path: &'static str,
    pub contents: &'static str,
    /// `None` for every project, or the answer the change is for.
    pub variant: Option<Variant>,
    /// Where the layer is, relative to the templates directory: `level-3/layers/README.md`.
    pub source: &'static str,
}

#[derive(Debug, Clone)]
pub struct Bundle {
    pub meta: Metadata,
    pub files: Vec<TemplateFile>,
    /// In the order they apply to a file: the common layer, then the variants' by answer.
    pub layers: Vec<Layer>,
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

/// Loads level 0 and up, through the first level `read` does not find, and checks that the
/// bundles fit together.
fn load_all(read: impl Fn(u8) -> Result<Option<RawBundle>, String>) -> Result<Vec<Bundle>, String> {
    let mut bundles = Vec::new();
    for level in 0..=MAX_LEVEL {
        let Some((meta_text, files)) = read(level)? else {
            break;
        };
        bundles.push(load(level, meta_text, files)?);
    }
    if bundles.is_empty() {
        return Err("there is no level-0 bundle".to_owned());
    }
    check_introduced_once(&bundles)?;
    check_layers(&bundles)?;
    derive_changes(&mut bundles);
    Ok(bundles)
}

/// A bundle's `bundle.toml` and every other file of `level-N/`, as (path relative to the
/// templates directory, contents).
type RawBundle = (&'static str, Vec<(&'static str, &'static [u8])>);

fn read_embedded_bundle(level: u8) -> Result<Option<RawBundle>, String> {
    let name = format!("level-{level}");
    let Some(dir) = TEMPLATES.get_dir(&name) else {
        return Ok(None);
    };
    let meta_path = format!("{name}/bundle.toml");
    let meta_text = dir
        .get_file(&meta_path)
        .and_then(|file| file.contents_utf8())
        .ok_or_else(|| format!("{meta_path} is missing or not UTF-8"))?;
    let mut files = Vec::new();
    collect_files(dir, &mut |file| {
        let path = file.path().to_str().expect("template paths are UTF-8");
        if path != meta_path {
            files.push((path, file.contents()));
        }
    });
    Ok(Some((meta_text, files)))
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
    let mut pending = vec![bundle_dir];
    while let Some(directory) = pending.pop() {
        let entries = std::fs::read_dir(&directory)
            .map_err(|error| format!("{}: {error}", directory.display()))?;
        for entry in entries {
            let path = entry
                .map_err(|error| format!("{}: {error}", directory.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path != meta_path {
                let relative = path
                    .strip_prefix(dir)
                    .expect("under the templates directory")
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
    Ok(Some((Box::leak(meta_text.into_boxed_str()), files)))
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

/// Whether a file is introduced by `files/` or changed by `layers/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Layer,
}

/// Where a file of `level-N/` belongs: `source` is its path relative to the templates directory.
fn place(level: u8, source: &'static str) -> Result<(Kind, Option<Variant>, &'static str), String> {
    let within = source
        .strip_prefix(&format!("level-{level}/"))
        .expect("a bundle's files are under its directory");
    let kind_and_path = |rest: &'static str| {
        if let Some(path) = rest.strip_prefix("files/") {
            Some((Kind::File, path))
        } else {
            rest.strip_prefix("layers/").map(|path| (Kind::Layer, path))
        }
    };
    if let Some((kind, path)) = kind_and_path(within) {
        return Ok((kind, None, path));
    }
    let misplaced = || {
        format!(
            "`{source}` is misplaced: a bundle holds bundle.toml, files/, layers/ and \
             variants/<answer>/<value>/ with files/ and layers/"
        )
    };
    let variant = within.strip_prefix("variants/").ok_or_else(misplaced)?;
    let mut parts = variant.splitn(3, '/');
    let (Some(key), Some(value), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(misplaced());
    };
    let (kind, path) = kind_and_path(rest).ok_or_else(misplaced)?;
    let known = AnswerKey::ALL
        .into_iter()
        .filter(|known| *known != AnswerKey::Level);
    let Some(key) = known.clone().find(|known| known.as_str() == key) else {
        return Err(format!(
            "`{source}` is in a variant of `{key}`, which is not an answer: variants are keyed \
             by one of {}",
            known.map(AnswerKey::as_str).collect::<Vec<_>>().join(", ")
        ));
    };
    Ok((kind, Some(Variant { key, value }), path))
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
    let mut files = Vec::new();
    let mut layers = Vec::new();
    for (source, contents) in raw_files {
        let (kind, variant, path) = place(level, source)?;
        match kind {
            Kind::File => files.push(TemplateFile {
                path,
                contents,
                ownership: if meta.seeded.iter().any(|seeded| seeded == path) {
                    Ownership::Seeded
                } else {
                    Ownership::Generated
                },
                executable: meta.executable.iter().any(|executable| executable == path),
                variant,
                source,
            }),
            Kind::Layer => layers.push(Layer {
                path,
                contents: std::str::from_utf8(contents)
                    .map_err(|_| format!("`{source}` is not UTF-8: a layer is a tera template"))?,
                variant,
                source,
            }),
        }
    }
    files.sort_by_key(|file| (file.path, file.variant));
    layers.sort_by_key(|layer| (layer.variant, layer.path));
    for listed in meta.seeded.iter().chain(&meta.executable) {
        if !files.iter().any(|file| file.path == listed) {
            return Err(format!(
                "{name}/bundle.toml lists `{listed}`, which is not in {name}/files/ nor in a \
                 variant's files/"
            ));
        }
    }
    Ok(Bundle {
        meta,
        files,
        layers,
    })
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

/// Whether one project can get both: one is common, or they are variants of different answers,
/// or of the same value. Two values of one answer never meet.
fn can_meet(one: Option<Variant>, other: Option<Variant>) -> bool {
    match (one, other) {
        (Some(one), Some(other)) => one.key != other.key || one.value == other.value,
        _ => true,
    }
}

/// Every introduced file by template path, with the level that introduced it, in order.
fn introductions(bundles: &[Bundle]) -> BTreeMap<&'static str, Vec<(u8, &TemplateFile)>> {
    let mut by_path: BTreeMap<&str, Vec<(u8, &TemplateFile)>> = BTreeMap::new();
    for bundle in bundles {
        for file in &bundle.files {
            by_path
                .entry(file.path)
                .or_default()
                .push((bundle.meta.level, file));
        }
    }
    by_path
}

/// A shared file has one template, in the bundle that introduced it, so that every level renders
/// it from the same source and upgrades see only the level's real changes. Two values of one
/// answer may each introduce the same path: no project gets both.
fn check_introduced_once(bundles: &[Bundle]) -> Result<(), String> {
    for (path, introduced) in introductions(bundles) {
        for (index, (_, first)) in introduced.iter().enumerate() {
            if let Some((_, second)) = introduced[index + 1..]
                .iter()
                .find(|(_, second)| can_meet(first.variant, second.variant))
            {
                return Err(format!(
                    "`{path}` is introduced twice, by `{}` and by `{}`: a file has one template, \
                     where it is introduced, and higher levels change it with layers/",
                    first.source, second.source
                ));
            }
        }
    }
    Ok(())
}

/// Every layer changes a file introduced before it in the chain, for the projects it applies
/// to, and no file it could meet is introduced at or after it.
fn check_layers(bundles: &[Bundle]) -> Result<(), String> {
    let introduced = introductions(bundles);
    for bundle in bundles {
        for layer in &bundle.layers {
            // The order of a file's chain: by level, and within a level the common template
            // before the variants', these by answer.
            let at = (bundle.meta.level, layer.variant);
            let bases = introduced.get(layer.path).map_or(&[][..], Vec::as_slice);
            let mut meeting = bases
                .iter()
                .filter(|(_, base)| can_meet(base.variant, layer.variant))
                .peekable();
            if meeting.peek().is_none() {
                return Err(match bases.first() {
                    None => format!(
                        "`{}` changes `{}`, which no bundle introduces",
                        layer.source, layer.path
                    ),
                    Some((_, base)) => format!(
                        "`{}` changes `{}`, which only other projects have (`{}`)",
                        layer.source, layer.path, base.source
                    ),
                });
            }
            for (level, base) in meeting {
                if (*level, base.variant) >= at {
                    return Err(format!(
                        "`{}` changes `{}`, which `{}` introduces at or after it: a layer \
                         changes a file of a lower level, or a variant's layer a common file of \
                         its own level",
                        layer.source, layer.path, base.source
                    ));
                }
                if std::str::from_utf8(base.contents).is_err() {
                    return Err(format!(
                        "`{}` changes `{}`, which is not UTF-8 and so is copied, not rendered",
                        layer.source, base.source
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Adds to each level's `changes` the files its layers change that a lower level introduced,
/// merged into the declared ones by path: so what is written once, the layer, is not repeated,
/// and the declared ones keep the order their bundle gives them.
fn derive_changes(bundles: &mut [Bundle]) {
    let introduced_below: Vec<BTreeSet<&'static str>> = bundles
        .iter()
        .map(|bundle| {
            bundle
                .layers
                .iter()
                .filter(|layer| {
                    bundles[..usize::from(bundle.meta.level)]
                        .iter()
                        .flat_map(|lower| &lower.files)
                        .any(|file| {
                            file.path == layer.path && can_meet(file.variant, layer.variant)
                        })
                })
                .map(|layer| layer.path)
                .collect()
        })
        .collect();
    for (bundle, derived) in bundles.iter_mut().zip(introduced_below) {
        let declared = std::mem::take(&mut bundle.meta.changes);
        bundle.meta.changes = merge_by_path(declared, &derived);
    }
}

/// `declared` in its order, with each of `derived` it lacks inserted before the first declared
/// path that sorts after it.
fn merge_by_path(declared: Vec<String>, derived: &BTreeSet<&str>) -> Vec<String> {
    let pending: Vec<&str> = derived
        .iter()
        .filter(|path| !declared.iter().any(|declared| declared == *path))
        .copied()
        .collect();
    let mut pending = pending.into_iter().peekable();
    let mut merged = Vec::with_capacity(declared.len() + derived.len());
    for path in declared {
        while let Some(earlier) = pending.next_if(|pending| *pending < path.as_str()) {
            merged.push(earlier.to_owned());
        }
        merged.push(path);
    }
    merged.extend(pending.map(str::to_owned));
    merged
}

/// Bundles from files in memory, as (path relative to the templates directory, contents), for
/// the unit tests of this module and of `render`.
#[cfg(test)]
pub(crate) fn load_from_memory(
    files: &[(&'static str, &'static [u8])],
) -> Result<Vec<Bundle>, String> {
    load_all(|level| {
        let prefix = format!("level-{level}/");
        let mut found = files
            .iter()
            .filter(|(path, _)| path.starts_with(&prefix))
            .peekable();
        if found.peek().is_none() {
            return Ok(None);
        }
        let meta_path = format!("{prefix}bundle.toml");
        let meta_text = found
            .clone()
            .find(|(path, _)| *path == meta_path)
            .map_or(Ok(""), |(_, contents)| std::str::from_utf8(contents))
            .map_err(|error| error.to_string())?;
        let others = found.filter(|(path, _)| *path != meta_path).copied();
        Ok(Some((meta_text, others.collect())))
    })
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
    fn declared_changes_name_lower_level_files() {
        let mut introduced = BTreeMap::new();
        for bundle in all() {
            for file in &bundle.files {
                introduced.entry(file.path).or_insert(bundle.meta.level);
            }
        }
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

    const META: &str = "name = \"x\"\nsummary = \"y\"\nadds = [\"z\"]\n";

    /// The bundles of `files` (each level's `bundle.toml` is added unless given), described as
    /// one line per level: its files, its layers and its changes; or the error.
    fn check(files: &[(&'static str, &'static str)], expected: &str) {
        let mut all_files: Vec<(&'static str, &'static [u8])> = files
            .iter()
            .map(|(path, contents)| (*path, contents.as_bytes()))
            .collect();
        for level in 0..=MAX_LEVEL {
            let prefix = format!("level-{level}/");
            let meta_path: &'static str = Box::leak(format!("{prefix}bundle.toml").into());
            if files.iter().any(|(path, _)| path.starts_with(&prefix))
                && !files.iter().any(|(path, _)| *path == meta_path)
            {
                let meta: &'static str = Box::leak(format!("level = {level}\n{META}").into());
                all_files.push((meta_path, meta.as_bytes()));
            }
        }
        let actual = match load_from_memory(&all_files) {
            Ok(bundles) => bundles
                .iter()
                .map(|bundle| {
                    let sources = |sources: Vec<&str>| sources.join(" ");
                    format!(
                        "{}: files {}; layers {}; changes {}",
                        bundle.meta.level,
                        sources(bundle.files.iter().map(|file| file.source).collect()),
                        sources(bundle.layers.iter().map(|layer| layer.source).collect()),
                        bundle.meta.changes.join(" ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected, "{files:?}");
    }

    #[test]
    fn layers_and_variants_are_placed_and_ordered() {
        check(
            &[
                ("level-0/files/README.md", "{% block a %}{% endblock %}"),
                ("level-1/layers/README.md", ""),
                ("level-1/variants/task/regression/layers/README.md", ""),
                ("level-1/variants/python_version/3.11/layers/README.md", ""),
                ("level-1/variants/python_version/3.11/files/ci.yml", ""),
                ("level-1/files/app.py", ""),
                ("level-2/variants/python_version/3.11/layers/ci.yml", ""),
                ("level-2/variants/python_version/3.12/files/ci.yml", ""),
            ],
            "0: files level-0/files/README.md; layers ; changes \n\
             1: files level-1/files/app.py level-1/variants/python_version/3.11/files/ci.yml; \
             layers level-1/layers/README.md level-1/variants/python_version/3.11/layers/README.md \
             level-1/variants/task/regression/layers/README.md; changes README.md\n\
             2: files level-2/variants/python_version/3.12/files/ci.yml; \
             layers level-2/variants/python_version/3.11/layers/ci.yml; changes ci.yml",
        );
    }

    #[test]
    fn a_variant_layer_may_change_a_common_file_of_its_own_level() {
        check(
            &[
                ("level-0/files/README.md", ""),
                ("level-1/files/compute.yaml", ""),
                ("level-1/variants/task/regression/layers/compute.yaml", ""),
            ],
            "0: files level-0/files/README.md; layers ; changes \n\
             1: files level-1/files/compute.yaml; \
             layers level-1/variants/task/regression/layers/compute.yaml; changes ",
        );
    }

    #[test]
    fn declared_changes_keep_their_order_and_derived_ones_merge_in_by_path() {
        check(
            &[
                ("level-0/files/Makefile", ""),
                ("level-0/files/README.md", ""),
                ("level-0/files/docs/a.md", ""),
                ("level-0/files/z.txt", ""),
                (
                    "level-1/bundle.toml",
                    "level = 1\nname = \"x\"\nsummary = \"y\"\nadds = [\"z\"]\n\
                     changes = [\"z.txt\", \"README.md\", \"docs/a.md\"]",
                ),
                ("level-1/files/new.md", ""),
                ("level-1/layers/Makefile", ""),
                ("level-1/layers/README.md", ""),
                ("level-1/layers/docs/a.md", ""),
            ],
            "0: files level-0/files/Makefile level-0/files/README.md level-0/files/docs/a.md \
             level-0/files/z.txt; layers ; changes \n\
             1: files level-1/files/new.md; layers level-1/layers/Makefile \
             level-1/layers/README.md level-1/layers/docs/a.md; changes Makefile z.txt README.md \
             docs/a.md",
        );
        assert_eq!(
            merge_by_path(
                vec![".github/release.yml".to_owned()],
                &BTreeSet::from([".dockerignore", ".gitignore", "Makefile"])
            ),
            [
                ".dockerignore",
                ".github/release.yml",
                ".gitignore",
                "Makefile"
            ]
        );
    }

    #[test]
    fn a_path_is_introduced_once_for_any_project() {
        check(
            &[
                ("level-0/files/README.md", ""),
                ("level-1/files/README.md", ""),
            ],
            "error: `README.md` is introduced twice, by `level-0/files/README.md` and by \
             `level-1/files/README.md`: a file has one template, where it is introduced, and \
             higher levels change it with layers/",
        );
        check(
            &[
                ("level-0/files/ci.yml", ""),
                ("level-1/variants/python_version/3.11/files/ci.yml", ""),
            ],
            "error: `ci.yml` is introduced twice, by `level-0/files/ci.yml` and by \
             `level-1/variants/python_version/3.11/files/ci.yml`: a file has one template, where \
             it is introduced, and higher levels change it with layers/",
        );
        check(
            &[
                ("level-0/variants/python_version/3.11/files/ci.yml", ""),
                ("level-1/variants/python_version/3.11/files/ci.yml", ""),
            ],
            "error: `ci.yml` is introduced twice, by `level-0/variants/python_version/3.11/files/\
             ci.yml` and by `level-1/variants/python_version/3.11/files/ci.yml`: a file has one \
             template, where it is introduced, and higher levels change it with layers/",
        );
        // Both could apply to one project.
        check(
            &[
                ("level-0/variants/python_version/3.11/files/ci.yml", ""),
                ("level-0/variants/task/regression/files/ci.yml", ""),
            ],
            "error: `ci.yml` is introduced twice, by `level-0/variants/python_version/3.11/files/\
             ci.yml` and by `level-0/variants/task/regression/files/ci.yml`: a file has one \
             template, where it is introduced, and higher levels change it with layers/",
        );
        // Two values of one answer never meet.
        check(
            &[
                ("level-0/variants/python_version/3.11/files/ci.yml", ""),
                ("level-1/variants/python_version/3.12/files/ci.yml", ""),
            ],
            "0: files level-0/variants/python_version/3.11/files/ci.yml; layers ; changes \n\
             1: files level-1/variants/python_version/3.12/files/ci.yml; layers ; changes ",
        );
    }

    #[test]
    fn a_layer_needs_a_file_below_it_for_its_projects() {
        check(
            &[
                ("level-0/files/README.md", ""),
                ("level-1/layers/Makefile", ""),
            ],
            "error: `level-1/layers/Makefile` changes `Makefile`, which no bundle introduces",
        );
        check(
            &[
                ("level-0/variants/python_version/3.11/files/ci.yml", ""),
                ("level-1/variants/python_version/3.12/layers/ci.yml", ""),
            ],
            "error: `level-1/variants/python_version/3.12/layers/ci.yml` changes `ci.yml`, which \
             only other projects have (`level-0/variants/python_version/3.11/files/ci.yml`)",
        );
        check(
            &[
                ("level-0/files/README.md", ""),
                ("level-0/layers/README.md", ""),
            ],
            "error: `level-0/layers/README.md` changes `README.md`, which \
             `level-0/files/README.md` introduces at or after it: a layer changes a file of a \
             lower level, or a variant's layer a common file of its own level",
        );
        check(
            &[
                ("level-0/files/README.md", ""),
                ("level-1/layers/NOTES.md", ""),
                ("level-2/files/NOTES.md", ""),
            ],
            "error: `level-1/layers/NOTES.md` changes `NOTES.md`, which `level-2/files/NOTES.md` \
             introduces at or after it: a layer changes a file of a lower level, or a variant's \
             layer a common file of its own level",
        );
    }

    #[test]
    fn a_variant_is_keyed_by_an_answer() {
        check(
            &[("level-0/variants/ci/github/files/ci.yml", "")],
            "error: `level-0/variants/ci/github/files/ci.yml` is in a variant of `ci`, which is \
             not an answer: variants are keyed by one of project_name, package_name, \
             description, author, author_email, python_version, task, ci_provider",
        );
        check(
            &[("level-0/variants/level/1/files/ci.yml", "")],
            "error: `level-0/variants/level/1/files/ci.yml` is in a variant of `level`, which \
             is not an answer: variants are keyed by one of project_name, package_name, \
             description, author, author_email, python_version, task, ci_provider",
        );
    }

    #[test]
    fn misplaced_files_are_errors() {
        let expected = |source: &str| {
            format!(
                "error: `{source}` is misplaced: a bundle holds bundle.toml, files/, layers/ and \
                 variants/<answer>/<value>/ with files/ and layers/"
            )
        };
        for source in [
            "level-0/README.md",
            "level-0/partials/README.md",
            "level-0/variants/task/README.md",
            "level-0/variants/task/regression/README.md",
            "level-0/variants/task/regression/partials/README.md",
        ] {
            check(&[(source, "")], &expected(source));
        }
    }

    #[test]
    fn listed_paths_may_be_in_variants() {
        check(
            &[
                (
                    "level-0/bundle.toml",
                    "level = 0\nname = \"x\"\nsummary = \"y\"\nadds = [\"z\"]\n\
                     executable = [\"ci.sh\"]",
                ),
                ("level-0/variants/python_version/3.11/files/ci.sh", ""),
            ],
            "0: files level-0/variants/python_version/3.11/files/ci.sh; layers ; changes ",
        );
        check(
            &[
                (
                    "level-0/bundle.toml",
                    "level = 0\nname = \"x\"\nsummary = \"y\"\nadds = [\"z\"]\n\
                     seeded = [\"ci.sh\"]",
                ),
                ("level-0/files/README.md", ""),
            ],
            "error: level-0/bundle.toml lists `ci.sh`, which is not in level-0/files/ nor in a \
             variant's files/",
        );
    }

    #[test]
    fn layers_are_text_and_change_text() {
        let bundles = load_from_memory(&[
            (
                "level-0/bundle.toml",
                b"level = 0\nname = \"x\"\nsummary = \"y\"\nadds = []",
            ),
            ("level-0/files/logo.png", b"\x89PNG\xff"),
            (
                "level-1/bundle.toml",
                b"level = 1\nname = \"x\"\nsummary = \"y\"\nadds = []",
            ),
            ("level-1/layers/logo.png", b""),
        ]);
        assert_eq!(
            bundles.unwrap_err(),
            "`level-1/layers/logo.png` changes `level-0/files/logo.png`, which is not UTF-8 and \
             so is copied, not rendered"
        );
        let bundles = load_from_memory(&[
            (
                "level-0/bundle.toml",
                b"level = 0\nname = \"x\"\nsummary = \"y\"\nadds = []",
            ),
            ("level-0/files/README.md", b""),
            (
                "level-1/bundle.toml",
                b"level = 1\nname = \"x\"\nsummary = \"y\"\nadds = []",
            ),
            ("level-1/layers/README.md", b"\xff"),
        ]);
        assert_eq!(
            bundles.unwrap_err(),
            "`level-1/layers/README.md` is not UTF-8: a layer is a tera template"
        );
    }
}
