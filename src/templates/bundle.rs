//! A bundle as data, and the checks that make a set of bundles fit together.
//!
//! `templates/level-N/` holds the bundle of maturity level N: `bundle.toml` (what the level adds,
//! which maturity criteria it meets, and which files are seeded or executable), `files/` (the
//! project files it introduces), `layers/` (what it changes in files of lower levels: overrides
//! of the tera blocks of their templates) and `variants/<answer>/<value>/`, with `files/` and
//! `layers/` of its own, for what applies only to projects whose answer is that value (the
//! workflows of one CI provider). Paths and contents are tera templates. Levels are cumulative:
//! level N renders bundles 0 to N, and a file is the template of the bundle that introduced it,
//! extended by every layer of it up to level N (`render` chains them). This module checks the
//! layout, so that chaining cannot go wrong: a path is introduced once for any project, every
//! layer has a file below it to change, a variant is keyed by an answer, nothing would land in
//! `.git`. The files whose rendering changes at a level (`changes`) are derived from its layers,
//! plus those `bundle.toml` declares. Pure: `source` reads the files, this module borrows them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::source::{RawBundle, RawTemplates};
use crate::answers::AnswerKey;
use crate::project::Ownership;

/// `bundle.toml`: what a level is and what its bundle adds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Metadata {
    pub(crate) level: u8,
    pub(crate) summary: String,
    /// What the bundle adds, one line each, for `mlops levels` and the docs.
    pub(crate) adds: Vec<String>,
    /// Ids of the maturity criteria (see `criteria.rs`) that this level newly meets.
    #[serde(default)]
    pub(crate) criteria: Vec<String>,
    /// Commands to run in the new project, printed after `mlops new`.
    #[serde(default)]
    pub(crate) next_steps: Vec<String>,
    /// Template paths of lower-level files whose rendering changes at this level. Once loaded:
    /// those `bundle.toml` declares (files that change only through `{{ level }}` and the like,
    /// in the order given), with the files the level's layers change merged in by path.
    #[serde(default)]
    pub(crate) changes: Vec<String>,
    /// Template paths written once and then the team's; everything else is generated.
    #[serde(default)]
    pub(crate) seeded: Vec<String>,
    /// Template paths written with the executable bit.
    #[serde(default)]
    pub(crate) executable: Vec<String>,
}

/// The answer a variant's templates are for: `variants/<key>/<value>/` applies to the projects
/// whose answer `key` is `value`. Any value of a known answer may have a variant directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Variant<'t> {
    pub(crate) key: AnswerKey,
    pub(crate) value: &'t str,
}

/// One file of a bundle, before rendering.
#[derive(Debug, Clone)]
pub(crate) struct TemplateFile<'t> {
    /// Path under `files/`, itself a template, such as `src/{{package_name}}/train.py`.
    pub(crate) path: &'t str,
    pub(crate) contents: &'t [u8],
    pub(crate) ownership: Ownership,
    pub(crate) executable: bool,
    /// `None` for every project, or the answer the file is for.
    pub(crate) variant: Option<Variant<'t>>,
    /// Where the template is, relative to the templates directory, for messages and as its
    /// name in tera: `level-1/variants/ci_provider/github/files/.github/workflows/ci.yml`.
    pub(crate) source: &'t str,
}

/// What a level changes in a file introduced below it (or, for a variant, in a common file of
/// its own level): overrides of blocks of the file's template, which `{{ super() }}` extends.
#[derive(Debug, Clone)]
pub(crate) struct Layer<'t> {
    /// The template path of the file it changes, as under `files/`.
    pub(crate) path: &'t str,
    pub(crate) contents: &'t str,
    /// `None` for every project, or the answer the change is for.
    pub(crate) variant: Option<Variant<'t>>,
    /// Where the layer is, relative to the templates directory: `level-3/layers/README.md`.
    pub(crate) source: &'t str,
}

#[derive(Debug, Clone)]
pub(crate) struct Bundle<'t> {
    pub(crate) meta: Metadata,
    pub(crate) files: Vec<TemplateFile<'t>>,
    /// In the order they apply to a file: the common layer, then the variants' by answer.
    pub(crate) layers: Vec<Layer<'t>>,
}

/// The bundles of `raw`, level 0 and up, checked to fit together.
pub(super) fn load_all(raw: &RawTemplates) -> Result<Vec<Bundle<'_>>, String> {
    let mut bundles = Vec::new();
    for (level, bundle) in (0u8..).zip(&raw.bundles) {
        bundles.push(load(level, bundle)?);
    }
    if bundles.is_empty() {
        return Err("there is no level-0 bundle".to_owned());
    }
    check_introduced_once(&bundles)?;
    check_layers(&bundles)?;
    derive_changes(&mut bundles);
    Ok(bundles)
}

/// A template's own path must not put a file in `.git`, where git runs hooks from, nor hold
/// anything a terminal would act on; the rendered path is checked again by `RelPath`.
fn check_path(source: &str) -> Result<(), String> {
    if source.chars().any(char::is_control) {
        return Err(format!("{source:?} has a control character in its name"));
    }
    if source
        .split('/')
        .any(|component| component.eq_ignore_ascii_case(".git"))
    {
        return Err(format!(
            "`{source}` would be written inside `.git`, which belongs to git: templates never \
             write there"
        ));
    }
    Ok(())
}

/// Whether a file is introduced by `files/` or changed by `layers/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Layer,
}

/// Where a file of `level-N/` belongs: `source` is its path relative to the templates directory.
fn place<'t>(level: u8, source: &'t str) -> Result<(Kind, Option<Variant<'t>>, &'t str), String> {
    let within = source
        .strip_prefix(&format!("level-{level}/"))
        .expect("a bundle's files are under its directory");
    let kind_and_path = |rest: &'t str| {
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

fn load(level: u8, raw: &RawBundle) -> Result<Bundle<'_>, String> {
    let name = format!("level-{level}");
    let meta: Metadata = toml::from_str(&raw.meta)
        .map_err(|error| format!("{name}/bundle.toml: {}", error.message()))?;
    if meta.level != level {
        return Err(format!(
            "{name}/bundle.toml says `level = {}`; it must say `level = {level}`",
            meta.level
        ));
    }
    let mut files = Vec::new();
    let mut layers = Vec::new();
    for (source, contents) in &raw.files {
        let (source, contents) = (source.as_ref(), contents.as_ref());
        check_path(source)?;
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

/// Whether one project can get both: one is common, or they are variants of different answers,
/// or of the same value. Two values of one answer never meet.
fn can_meet(one: Option<Variant<'_>>, other: Option<Variant<'_>>) -> bool {
    match (one, other) {
        (Some(one), Some(other)) => one.key != other.key || one.value == other.value,
        _ => true,
    }
}

/// Every introduced file by template path, with the level that introduced it, in order.
fn introductions<'b, 't>(
    bundles: &'b [Bundle<'t>],
) -> BTreeMap<&'t str, Vec<(u8, &'b TemplateFile<'t>)>> {
    let mut by_path: BTreeMap<&str, Vec<(u8, &TemplateFile<'_>)>> = BTreeMap::new();
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
fn check_introduced_once(bundles: &[Bundle<'_>]) -> Result<(), String> {
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
fn check_layers(bundles: &[Bundle<'_>]) -> Result<(), String> {
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
fn derive_changes(bundles: &mut [Bundle<'_>]) {
    let introduced_below: Vec<BTreeSet<&str>> = bundles
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::Level;
    use crate::templates::with_embedded;

    #[test]
    fn bundles_load_in_level_order() {
        with_embedded(|templates| {
            let bundles = templates.bundles();
            assert_eq!(bundles.len(), Level::all().count());
            for (index, bundle) in bundles.iter().enumerate() {
                assert_eq!(usize::from(bundle.meta.level), index);
                assert!(!bundle.files.is_empty(), "level {index} adds no file");
                assert!(
                    !bundle.meta.adds.is_empty(),
                    "level {index} says nothing about what it adds"
                );
            }
        });
    }

    #[test]
    fn declared_changes_name_lower_level_files() {
        with_embedded(|templates| {
            let mut introduced = BTreeMap::new();
            for bundle in templates.bundles() {
                for file in &bundle.files {
                    introduced.entry(file.path).or_insert(bundle.meta.level);
                }
            }
            for bundle in templates.bundles() {
                for changed in &bundle.meta.changes {
                    let at = introduced.get(changed.as_str());
                    assert!(
                        at.is_some_and(|at| *at < bundle.meta.level),
                        "level {} declares a change to `{changed}`, which no lower level introduces",
                        bundle.meta.level
                    );
                }
            }
        });
    }

    const META: &str = "summary = \"y\"\nadds = [\"z\"]\n";

    /// The bundles of `files` (each level's `bundle.toml` is added unless given), described as
    /// one line per level: its files, its layers and its changes; or the error.
    fn check(files: &[(&'static str, &'static str)], expected: &str) {
        let mut all_files: Vec<(&'static str, &'static [u8])> = files
            .iter()
            .map(|(path, contents)| (*path, contents.as_bytes()))
            .collect();
        for level in Level::all() {
            let prefix = format!("level-{level}/");
            let meta_path: &'static str = Box::leak(format!("{prefix}bundle.toml").into());
            if files.iter().any(|(path, _)| path.starts_with(&prefix))
                && !files.iter().any(|(path, _)| *path == meta_path)
            {
                let meta: &'static str = Box::leak(format!("level = {level}\n{META}").into());
                all_files.push((meta_path, meta.as_bytes()));
            }
        }
        let raw = RawTemplates::from_memory(&all_files);
        let actual = match load_all(&raw) {
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
                    "level = 1\nsummary = \"y\"\nadds = [\"z\"]\n\
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
             description, author, author_email, python_version, task, ci_provider, compute",
        );
        check(
            &[("level-0/variants/level/1/files/ci.yml", "")],
            "error: `level-0/variants/level/1/files/ci.yml` is in a variant of `level`, which \
             is not an answer: variants are keyed by one of project_name, package_name, \
             description, author, author_email, python_version, task, ci_provider, compute",
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
                    "level = 0\nsummary = \"y\"\nadds = [\"z\"]\n\
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
                    "level = 0\nsummary = \"y\"\nadds = [\"z\"]\n\
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
        let raw = RawTemplates::from_memory(&[
            (
                "level-0/bundle.toml",
                b"level = 0\nsummary = \"y\"\nadds = []",
            ),
            ("level-0/files/logo.png", b"\x89PNG\xff"),
            (
                "level-1/bundle.toml",
                b"level = 1\nsummary = \"y\"\nadds = []",
            ),
            ("level-1/layers/logo.png", b""),
        ]);
        assert_eq!(
            load_all(&raw).err().unwrap(),
            "`level-1/layers/logo.png` changes `level-0/files/logo.png`, which is not UTF-8 and \
             so is copied, not rendered"
        );
        let raw = RawTemplates::from_memory(&[
            (
                "level-0/bundle.toml",
                b"level = 0\nsummary = \"y\"\nadds = []",
            ),
            ("level-0/files/README.md", b""),
            (
                "level-1/bundle.toml",
                b"level = 1\nsummary = \"y\"\nadds = []",
            ),
            ("level-1/layers/README.md", b"\xff"),
        ]);
        assert_eq!(
            load_all(&raw).err().unwrap(),
            "`level-1/layers/README.md` is not UTF-8: a layer is a tera template"
        );
    }
}
