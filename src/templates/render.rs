//! Bundles plus answers to a [`Tree`], in memory.
//!
//! Pure: no IO, no clock, no randomness, so the same level and answers always render the same
//! bytes, which is what lets an upgrade recover the exact base of a merge. Every text file is a
//! tera template (GitHub expressions such as `${{ github.sha }}` sit in `{% raw %}` blocks) and so
//! is every path; an undefined variable is an error, never an unrendered file. Files that are not
//! UTF-8 are copied as they are. The engine, its filters and budgets are `filters`.
//!
//! A file is a chain of templates: the one that introduced it, then every layer of it up to the
//! level rendered, lowest first, each extending the one before it (`{% extends %}` is prepended
//! to the layer, so a layer holds only `{% block %}` overrides). Variant files and layers join
//! the chain when the project's answer has their value; the chain is rendered from its top.

use heck::ToKebabCase;
use serde::Serialize;
use tera::{Context, Tera};

use super::bundle::{Bundle, Layer, TemplateFile, Variant};
use super::filters::{self, Bounded};
use crate::answers::{Answers, Compute, Task};
use crate::level::Level;
use crate::project::{Entry, RelPath, Tree};

#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    #[error("level {0} has no template bundle in this build")]
    UnknownLevel(Level),
    /// `template` is where the template is, relative to the templates directory; for a file
    /// with layers, the highest layer, which extends the others.
    #[error("template `{template}`: {message}")]
    Template { template: String, message: String },
    #[error("template `{template}` renders to a path outside the project: {reason}")]
    BadPath { template: String, reason: String },
}

/// What the templates see: the answers, the level, and values derived from them.
#[derive(Debug, Serialize)]
struct TemplateContext<'a> {
    #[serde(flatten)]
    answers: &'a Answers,
    level: Level,
    /// The stage's name in the maturity model, such as `Automated Training`.
    level_name: &'static str,
    /// The distribution and image name: `Fraud Detector` becomes `fraud-detector`.
    project_slug: String,
    /// Ruff's and black's spelling of the Python version: `py311`.
    python_tag: String,
    is_classification: bool,
    /// `compute` is `ray`. (The answer itself is left out of the answers for `local`, so that
    /// manifests stay as they were; templates test this instead.)
    is_ray: bool,
}

/// Renders a project at the level of the last of `bundles`, which are levels 0 to it.
pub(super) fn render_bundles(
    bundles: &[Bundle<'_>],
    answers: &Answers,
) -> Result<Tree, RenderError> {
    let top = bundles.last().expect("level 0 at least").meta.level;
    let level = Level::new(top).expect("bundles are levels");
    let template_context = TemplateContext {
        answers,
        level,
        level_name: level.name(),
        project_slug: answers.project_name.to_kebab_case(),
        python_tag: answers.python_version.tag(),
        is_classification: answers.task == Task::Classification,
        is_ray: answers.compute == Compute::Ray,
    };
    let context = Context::from_serialize(&template_context)
        .expect("the context is a flat struct of strings");
    let applies = |variant: Option<Variant<'_>>| {
        variant.is_none_or(|variant| answers.get(variant.key).as_deref() == Some(variant.value))
    };
    let engine = filters::engine();

    let mut tree = Tree::new();
    for chain in chains(bundles, applies) {
        let file = chain.file;
        let rendered_path =
            render_text(&engine, file.path, &context).map_err(|message| RenderError::Template {
                template: file.source.to_owned(),
                message,
            })?;
        let path = RelPath::new(&rendered_path).map_err(|reason| RenderError::BadPath {
            template: file.source.to_owned(),
            reason,
        })?;
        let rendered = render_chain(&engine, &chain, &context)?;
        tree.insert(
            path,
            Entry {
                content: rendered,
                executable: file.executable,
                ownership: file.ownership,
                level: Level::new(chain.level).expect("bundles are numbered by level"),
            },
        );
    }
    Ok(tree)
}

/// A file as this project has it: the template that introduced it (at `level`) and the layers
/// that change it, in the order they apply.
struct Chain<'a, 't> {
    level: u8,
    file: &'a TemplateFile<'t>,
    layers: Vec<&'a Layer<'t>>,
}

/// The chain of every file the answers give the project. The bundles' checks guarantee that at
/// most one template introduces a path for a project, before all of its layers; a layer whose
/// file the project does not have (a variant's file of another value) changes nothing.
fn chains<'a, 't>(
    bundles: &'a [Bundle<'t>],
    applies: impl Fn(Option<Variant<'t>>) -> bool,
) -> Vec<Chain<'a, 't>> {
    let mut by_path = std::collections::BTreeMap::new();
    for bundle in bundles {
        for file in bundle.files.iter().filter(|file| applies(file.variant)) {
            by_path.insert(
                file.path,
                Chain {
                    level: bundle.meta.level,
                    file,
                    layers: Vec::new(),
                },
            );
        }
    }
    for bundle in bundles {
        for layer in bundle.layers.iter().filter(|layer| applies(layer.variant)) {
            if let Some(chain) = by_path.get_mut(layer.path) {
                chain.layers.push(layer);
            }
        }
    }
    by_path.into_values().collect()
}

/// The chain rendered from its top, in a copy of `engine` of its own, so that an error names the
/// file. (A copy shares the filters and costs far less than a new engine; and `render_str`,
/// which refuses blocks anyway, costs more than a copy.)
fn render_chain(
    engine: &Tera,
    chain: &Chain<'_, '_>,
    context: &Context,
) -> Result<Vec<u8>, RenderError> {
    let Ok(text) = std::str::from_utf8(chain.file.contents) else {
        return Ok(chain.file.contents.to_vec());
    };
    if chain.layers.is_empty() && !is_template(text) {
        return Ok(text.as_bytes().to_vec());
    }
    let mut templates = vec![(chain.file.source, text.to_owned())];
    let mut top = chain.file.source;
    for layer in &chain.layers {
        // On the layer's first line, so that tera's line numbers are the file's.
        templates.push((
            layer.source,
            format!("{{% extends {top:?} %}}{}", layer.contents),
        ));
        top = layer.source;
    }
    let error = |error: tera::Error| RenderError::Template {
        template: top.to_owned(),
        message: describe(&error),
    };
    let mut engine = engine.clone();
    engine.add_raw_templates(templates).map_err(error)?;
    let mut out = Bounded::default();
    engine.render_to(top, context, &mut out).map_err(error)?;
    Ok(out.0)
}

fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

fn render_text(engine: &Tera, text: &str, context: &Context) -> Result<String, String> {
    if !is_template(text) {
        return Ok(text.to_owned());
    }
    engine
        .render_str(text, context, false)
        .map_err(|error| describe(&error))
}

/// Tera's error and its causes on one line.
fn describe(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
        source = cause_of(source);
    }
    message.replace('\n', " ")
}

fn cause_of<'a>(
    error: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    error.and_then(std::error::Error::source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates::source::RawTemplates;
    use crate::templates::{Templates, with_embedded};

    /// Renders the embedded templates at `level`.
    fn render(level: u8, answers: &Answers) -> Result<Tree, RenderError> {
        with_embedded(|templates| templates.render(Level::new(level).unwrap(), answers))
    }

    fn highest_level() -> u8 {
        with_embedded(|templates| templates.highest_level().number())
    }

    fn engine() -> Tera {
        filters::engine()
    }

    pub(crate) fn answers() -> Answers {
        Answers {
            project_name: "Fraud Detector".to_owned(),
            package_name: "fraud_detector".to_owned(),
            description: "Says \"no\" to fraud".to_owned(),
            author: "Ada".to_owned(),
            author_email: String::new(),
            python_version: crate::answers::PythonVersion::Py311,
            task: Task::Classification,
            ci_provider: crate::answers::CiProvider::Github,
            compute: crate::answers::Compute::Local,
        }
    }

    fn check(template: &str, expected: &str) {
        let context = Context::from_serialize(&answers()).unwrap();
        assert_eq!(
            render_text(&engine(), template, &context).as_deref(),
            Ok(expected),
            "{template}"
        );
    }

    /// The default answers with every combination of the answers that have choices (other than
    /// the level), so that every variant of the bundles is rendered.
    fn every_choice() -> Vec<Answers> {
        use crate::answers::{Choice as _, CiProvider};
        let mut every = Vec::new();
        for task in Task::ALL {
            for ci_provider in CiProvider::ALL {
                for compute in Compute::ALL {
                    every.push(Answers {
                        task: *task,
                        ci_provider: *ci_provider,
                        compute: *compute,
                        ..answers()
                    });
                }
            }
        }
        every
    }

    /// Renders bundles given as files in memory (each level's `bundle.toml` is added) at their
    /// highest level, with the default answers changed by `answer` (`key=value`), and compares
    /// the files, as `path: content` lines, or the error.
    fn check_chains(files: &[(&'static str, &'static str)], answer: &str, expected: &str) {
        let mut all: Vec<(&'static str, &'static [u8])> = files
            .iter()
            .map(|(path, contents)| (*path, contents.as_bytes()))
            .collect();
        let highest = files
            .iter()
            .filter_map(|(path, _)| path.strip_prefix("level-")?.split('/').next()?.parse().ok())
            .max()
            .unwrap_or(0u8);
        for level in 0..=highest {
            let meta_path: &'static str = Box::leak(format!("level-{level}/bundle.toml").into());
            let meta: &'static str =
                Box::leak(format!("level = {level}\nsummary = \"s\"\nadds = []").into());
            all.push((meta_path, meta.as_bytes()));
        }
        let mut values = serde_json::to_value(answers()).unwrap();
        if let Some((key, value)) = answer.split_once('=') {
            values[key] = value.into();
        }
        let answers: Answers = serde_json::from_value(values).unwrap();
        let raw = RawTemplates::from_memory(&all);
        let templates = Templates::load(&raw).unwrap();
        let actual = match render_bundles(templates.bundles(), &answers) {
            Ok(tree) => tree
                .iter()
                .map(|(path, entry)| format!("{path}: {}", String::from_utf8_lossy(&entry.content)))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(actual, expected, "{files:?} {answer}");
    }

    #[test]
    fn layers_extend_the_file_level_by_level() {
        let files = [
            (
                "level-0/files/Makefile",
                "install{% block targets %}{% endblock %} clean\n\
                 {%- block rules %}{% endblock %}\n",
            ),
            (
                "level-1/layers/Makefile",
                "{% block targets %} test{% endblock %}",
            ),
            (
                "level-2/layers/Makefile",
                "{# what level 2 adds #}\n\
                 {% block targets %}{{ super() }} train{% endblock %}\n\
                 {% block rules %}\ntrain: level {{ level }}\n{%- endblock %}\n",
            ),
            ("level-3/files/NEW.md", "new"),
            (
                "level-4/layers/Makefile",
                "{% block targets %} only{% endblock %}",
            ),
        ];
        check_chains(&files[..2], "", "Makefile: install test clean\n");
        check_chains(
            &files[..3],
            "",
            "Makefile: install test train clean\ntrain: level 2\n",
        );
        // A level without a layer of the file renders it as the level below does.
        check_chains(
            &files[..4],
            "",
            "Makefile: install test train clean\ntrain: level 3\n\nNEW.md: new",
        );
        // Without `super()`, a block replaces what the levels below wrote in it.
        check_chains(
            &files,
            "",
            "Makefile: install only clean\ntrain: level 4\n\nNEW.md: new",
        );
    }

    #[test]
    fn variants_apply_to_their_value_after_the_common_layer_of_their_level() {
        let files = [
            (
                "level-0/files/README.md",
                "{% block ci %}no CI{% endblock %}",
            ),
            (
                "level-1/variants/python_version/3.11/layers/README.md",
                "{% block ci %}{{ super() }}, GitHub{% endblock %}",
            ),
            (
                "level-1/layers/README.md",
                "{% block ci %}{{ super() }}, then CI{% endblock %}",
            ),
            (
                "level-1/variants/python_version/3.12/layers/README.md",
                "{% block ci %}GitLab{% endblock %}",
            ),
            (
                "level-1/variants/python_version/3.11/files/ci.yml",
                "on: push",
            ),
            (
                "level-1/variants/python_version/3.12/files/.gitlab-ci.yml",
                "{{ python_version }}",
            ),
            (
                "level-1/variants/task/regression/layers/README.md",
                "{% block ci %}{{ super() }} ({{ task }}){% endblock %}",
            ),
        ];
        check_chains(
            &files,
            "",
            "README.md: no CI, then CI, GitHub\nci.yml: on: push",
        );
        check_chains(
            &files,
            "python_version=3.12",
            ".gitlab-ci.yml: 3.12\nREADME.md: GitLab",
        );
        check_chains(
            &files,
            "task=regression",
            "README.md: no CI, then CI, GitHub (regression)\nci.yml: on: push",
        );
        check_chains(&files, "python_version=3.13", "README.md: no CI, then CI");
    }

    #[test]
    fn a_layer_of_a_file_the_project_does_not_have_changes_nothing() {
        check_chains(
            &[
                (
                    "level-0/variants/python_version/3.12/files/ci.yml",
                    "{% block a %}a{% endblock %}",
                ),
                ("level-0/files/README.md", "readme"),
                (
                    "level-1/variants/task/regression/layers/ci.yml",
                    "{% block a %}b{% endblock %}",
                ),
            ],
            "task=regression",
            "README.md: readme",
        );
    }

    #[test]
    fn template_errors_name_the_layer() {
        let base = ("level-0/files/README.md", "{% block a %}{% endblock %}");
        let check_error = |layer: &'static str, expected: &[&str]| {
            let raw = RawTemplates::from_memory(&[
                (
                    "level-0/bundle.toml",
                    b"level = 0\nsummary = \"y\"\nadds = []",
                ),
                (base.0, base.1.as_bytes()),
                (
                    "level-1/bundle.toml",
                    b"level = 1\nsummary = \"y\"\nadds = []",
                ),
                ("level-1/layers/README.md", layer.as_bytes()),
            ]);
            let templates = Templates::load(&raw).unwrap();
            let error = render_bundles(templates.bundles(), &answers())
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with("template `level-1/layers/README.md`: "),
                "{error}"
            );
            for part in expected {
                assert!(error.contains(part), "{part} not in {error}");
            }
        };
        check_error(
            "{% block b %}x{% endblock %}",
            &["Block `b` is not defined in any parent template"],
        );
        check_error(
            "{% block a %}{{ nope }}{% endblock %}",
            &["`nope` is not defined"],
        );
        check_error(
            "text outside blocks",
            &["only `extends`, `block` and `component` are allowed at the top level"],
        );
        check_error(
            "{% extends \"level-0/files/README.md\" %}",
            &["Template is already extending"],
        );
    }

    #[test]
    fn filters() {
        check("{{ project_name | snake_case }}", "fraud_detector");
        check("{{ project_name | kebab_case }}", "fraud-detector");
        check("{{ project_name | pascal_case }}", "FraudDetector");
        check("{{ project_name | shouty_snake_case }}", "FRAUD_DETECTOR");
        check(
            "{{ description | toml_str }}",
            "\"Says \\\"no\\\" to fraud\"",
        );
        check("<{{ package_name }}>", "<fraud_detector>");
        check(
            "{% raw %}${{ github.sha }}{% endraw %}",
            "${{ github.sha }}",
        );
        check("no template here ${ x }", "no template here ${ x }");
    }

    #[test]
    fn undefined_variables_are_errors() {
        let context = Context::from_serialize(&answers()).unwrap();
        let error = render_text(&engine(), "{{ nope }}", &context).unwrap_err();
        assert!(error.contains("nope"), "{error}");
    }

    #[test]
    fn every_level_renders_without_leftover_template_syntax() {
        // `{{version}}` (docker/metadata-action) and `${{ github.sha }}` are meant for other
        // tools; what must not survive is tera's own syntax or one of our variables.
        let variables = [
            "package_name",
            "project_name",
            "project_slug",
            "level",
            "description",
            "python_version",
        ];
        for (level, answers) in (0..=highest_level()).flat_map(|level| {
            every_choice()
                .into_iter()
                .map(move |answers| (level, answers))
        }) {
            let tree = render(level, &answers).unwrap();
            assert!(!tree.is_empty());
            for (path, entry) in &tree {
                let Ok(text) = std::str::from_utf8(&entry.content) else {
                    continue;
                };
                for marker in ["{%", "{#"] {
                    assert!(
                        !text.contains(marker),
                        "level {level}: `{path}` still contains `{marker}`"
                    );
                }
                for variable in variables {
                    for spelling in [format!("{{{{ {variable}"), format!("{{{{{variable}")] {
                        assert!(
                            !text.contains(&spelling),
                            "level {level}: `{path}` still contains `{spelling}`"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn python_lines_fit_the_line_length_with_the_longest_package_name() {
        use crate::answers::Choice as _;
        let longest = "p".repeat(crate::answers::MAX_PACKAGE_NAME);
        for compute in Compute::ALL {
            let answers = Answers {
                package_name: longest.clone(),
                compute: *compute,
                ..answers()
            };
            python_lines_fit(&answers);
        }
    }

    fn python_lines_fit(answers: &Answers) {
        for level in 0..=highest_level() {
            for (path, entry) in &render(level, answers).unwrap() {
                if std::path::Path::new(path.as_str())
                    .extension()
                    .is_none_or(|extension| extension != "py")
                {
                    continue;
                }
                let text = std::str::from_utf8(&entry.content).unwrap();
                for (number, line) in text.lines().enumerate() {
                    assert!(
                        line.chars().count() <= 100,
                        "level {level}: `{path}` line {} is {} columns long: {line}",
                        number + 1,
                        line.chars().count()
                    );
                }
            }
        }
    }

    #[test]
    fn levels_are_cumulative() {
        for level in 1..=highest_level() {
            let lower = render(level - 1, &answers()).unwrap();
            let higher = render(level, &answers()).unwrap();
            for path in lower.paths() {
                assert!(
                    higher.get(path).is_some(),
                    "level {level} drops `{path}` from level {}",
                    level - 1
                );
            }
        }
    }

    #[test]
    fn the_files_that_change_between_levels_are_those_of_changes() {
        // `changes` is what the level's layers change plus what bundle.toml declares; a change
        // only a variant's layer makes is one for its own projects.
        for answers in every_choice() {
            let context = Context::from_serialize(&answers).unwrap();
            for level in 1..=highest_level() {
                let lower = render(level - 1, &answers).unwrap();
                let higher = render(level, &answers).unwrap();
                let raw = RawTemplates::embedded().unwrap();
                let templates = Templates::load(&raw).unwrap();
                let bundle = templates.bundle(Level::new(level).unwrap()).unwrap();
                let applies = |template: &str| {
                    let mut layers = bundle
                        .layers
                        .iter()
                        .filter(|layer| layer.path == template)
                        .peekable();
                    layers.peek().is_none()
                        || layers.any(|layer| {
                            layer.variant.is_none_or(|variant| {
                                answers.get(variant.key).as_deref() == Some(variant.value)
                            })
                        })
                };
                let expected: Vec<String> = bundle
                    .meta
                    .changes
                    .iter()
                    .filter(|template| applies(template))
                    .map(|template| render_text(&engine(), template, &context).unwrap())
                    .collect();
                for (path, entry) in &lower {
                    let changed = higher
                        .get(path)
                        .is_some_and(|new| new.content != entry.content);
                    let listed = expected.iter().any(|listed| listed == path.as_str());
                    assert_eq!(
                        changed,
                        listed,
                        "level {level}, {} {}: `{path}` {} but it {} in `changes` (the layers of \
                         the level and the ones bundle.toml declares)",
                        answers.task,
                        answers.ci_provider,
                        if changed {
                            "changes"
                        } else {
                            "does not change"
                        },
                        if listed { "is" } else { "is not" }
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod hostile_answers {
    //! Every free-text answer, as hostile as validation lets it be, stays data in every file of
    //! every level: TOML, YAML and JSON still parse and hold the answer as a value, Python
    //! strings hold it escaped. (That the package then imports and runs nothing is proved by the
    //! end-to-end suite, which has Python.)

    use super::tests::answers;
    use super::*;
    use crate::templates::with_embedded;

    /// The value of the module docstring `"""..."""` that opens `source`, read as Python reads
    /// it (escapes applied), if nothing but a line end follows its closing quotes.
    fn python_docstring(source: &str) -> Option<String> {
        let body = source.strip_prefix("\"\"\"")?;
        let mut value = String::new();
        let mut chars = body.char_indices();
        while let Some((index, c)) = chars.next() {
            match c {
                '\\' => value.push(chars.next()?.1),
                '"' if body[index..].starts_with("\"\"\"") => {
                    let rest = &body[index + 3..];
                    return rest.starts_with('\n').then_some(value);
                }
                c => value.push(c),
            }
        }
        None
    }

    const CORPUS: &[&str] = &[
        r#"""";import os;os.system("touch /tmp/pwned");""""#,
        r#"ends in a quote""#,
        r"ends in a backslash \",
        r"\x41 \u0041 \N{DASH} \\",
        "${{ secrets.GITHUB_TOKEN }} $(touch /tmp/pwned) `id`",
        "{{ package_name }} {% raw %} {# x #}",
        "<script>alert(1)</script> [x](javascript:alert(1)) | a | b |",
        "# heading' -- ; DROP TABLE runs; --",
    ];

    #[test]
    fn every_structured_file_still_parses_and_holds_the_answer() {
        with_embedded(|templates| {
            for description in CORPUS {
                let answers = Answers {
                    description: (*description).to_owned(),
                    author: (*description).to_owned(),
                    ..answers()
                };
                for level in Level::all() {
                    let tree = templates.render(level, &answers).unwrap();
                    for (path, entry) in &tree {
                        let text = String::from_utf8_lossy(&entry.content);
                        let name = path.as_str();
                        let extension = std::path::Path::new(name)
                            .extension()
                            .and_then(|extension| extension.to_str())
                            .unwrap_or_default();
                        if extension == "toml" {
                            let table: toml::Table = toml::from_str(&text)
                                .unwrap_or_else(|error| panic!("{name} ({description}): {error}"));
                            if name == "pyproject.toml" {
                                assert_eq!(
                                    table["project"]["description"].as_str(),
                                    Some(*description)
                                );
                                assert_eq!(
                                    table["project"]["authors"][0]["name"].as_str(),
                                    Some(*description)
                                );
                            }
                        } else if extension == "yml" || extension == "yaml" {
                            serde_saphyr::from_str::<serde_json::Value>(&text)
                                .unwrap_or_else(|error| panic!("{name} ({description}): {error}"));
                        } else if extension == "ipynb" {
                            serde_json::from_str::<serde_json::Value>(&text)
                                .unwrap_or_else(|error| panic!("{name} ({description}): {error}"));
                        }
                    }
                    let init = tree
                        .iter()
                        .find(|(path, _)| path.as_str().ends_with("/__init__.py"))
                        .map(|(_, entry)| String::from_utf8_lossy(&entry.content).into_owned())
                        .unwrap();
                    assert_eq!(
                        python_docstring(&init).as_deref(),
                        Some(*description),
                        "level {level}: the docstring of __init__.py does not hold the description:\n{init}"
                    );
                }
            }
        });
    }
}
