//! Bundles plus answers to a [`Tree`], in memory.
//!
//! Pure: no IO, no clock, no randomness, so the same level and answers always render the same
//! bytes, which is what lets an upgrade recover the exact base of a merge. Every text file is a
//! tera template (GitHub expressions such as `${{ github.sha }}` sit in `{% raw %}` blocks) and so
//! is every path; an undefined variable is an error, never an unrendered file. Files that are not
//! UTF-8 are copied as they are. The case filters from heck are registered here and only here.
//!
//! A file is a chain of templates: the one that introduced it, then every layer of it up to the
//! level rendered, lowest first, each extending the one before it (`{% extends %}` is prepended
//! to the layer, so a layer holds only `{% block %}` overrides). Variant files and layers join
//! the chain when the project's answer has their value; the chain is rendered from its top.

use heck::{
    ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToTitleCase, ToUpperCamelCase,
};
use serde::Serialize;
use tera::{Context, Kwargs, State, Tera};

use crate::answers::{Answers, Task};
use crate::bundle::{self, Bundle, Layer, TemplateFile, Variant};
use crate::level::Level;
use crate::project::{Entry, RelPath, Tree};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("level {0} has no template bundle in this build")]
    UnknownLevel(u8),
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
    level: u8,
    /// The stage's name in the maturity model, such as `Automated Training`.
    level_name: &'a str,
    /// The distribution and image name: `Fraud Detector` becomes `fraud-detector`.
    project_slug: String,
    /// Ruff's and black's spelling of the Python version: `py311`.
    python_tag: String,
    is_classification: bool,
}

/// Renders a project at `level` from bundles 0 to `level`.
pub fn render(level: u8, answers: &Answers) -> Result<Tree, RenderError> {
    let bundles = bundle::up_to(level).ok_or(RenderError::UnknownLevel(level))?;
    render_bundles(bundles, answers)
}

/// Renders a project at the level of the last of `bundles`, which are levels 0 to it.
fn render_bundles(bundles: &[Bundle], answers: &Answers) -> Result<Tree, RenderError> {
    let top = &bundles.last().expect("level 0 at least").meta;
    let template_context = TemplateContext {
        answers,
        level: top.level,
        level_name: &top.name,
        project_slug: answers.project_name.to_kebab_case(),
        python_tag: answers.python_version.tag(),
        is_classification: answers.task == Task::Classification,
    };
    let context = Context::from_serialize(&template_context)
        .expect("the context is a flat struct of strings");
    let applies = |variant: Option<Variant>| {
        variant.is_none_or(|variant| answers.get(variant.key).as_deref() == Some(variant.value))
    };
    let engine = engine();

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
struct Chain<'a> {
    level: u8,
    file: &'a TemplateFile,
    layers: Vec<&'a Layer>,
}

/// The chain of every file the answers give the project. The bundles' checks guarantee that at
/// most one template introduces a path for a project, before all of its layers; a layer whose
/// file the project does not have (a variant's file of another value) changes nothing.
fn chains(bundles: &[Bundle], applies: impl Fn(Option<Variant>) -> bool) -> Vec<Chain<'_>> {
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
    chain: &Chain<'_>,
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
    engine
        .render(top, context)
        .map(String::into_bytes)
        .map_err(error)
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

/// A tera engine with autoescaping off (the output is code, not HTML) and the case filters.
fn engine() -> Tera {
    let mut tera = Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    tera.register_filter("snake_case", |text: &str, _: Kwargs, _: &State| {
        text.to_snake_case()
    });
    tera.register_filter("kebab_case", |text: &str, _: Kwargs, _: &State| {
        text.to_kebab_case()
    });
    tera.register_filter("pascal_case", |text: &str, _: Kwargs, _: &State| {
        text.to_upper_camel_case()
    });
    tera.register_filter("camel_case", |text: &str, _: Kwargs, _: &State| {
        text.to_lower_camel_case()
    });
    tera.register_filter("shouty_snake_case", |text: &str, _: Kwargs, _: &State| {
        text.to_shouty_snake_case()
    });
    tera.register_filter("title_case", |text: &str, _: Kwargs, _: &State| {
        text.to_title_case()
    });
    // A double-quoted string that is valid JSON, TOML, YAML and Python alike.
    tera.register_filter("quoted", |text: &str, _: Kwargs, _: &State| {
        serde_json::to_string(text).expect("a string serialises")
    });
    tera
}

#[cfg(test)]
mod tests {
    use super::*;

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
                every.push(Answers {
                    task: *task,
                    ci_provider: *ci_provider,
                    ..answers()
                });
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
            let meta: &'static str = Box::leak(
                format!("level = {level}\nname = \"L{level}\"\nsummary = \"s\"\nadds = []").into(),
            );
            all.push((meta_path, meta.as_bytes()));
        }
        let mut values = serde_json::to_value(answers()).unwrap();
        if let Some((key, value)) = answer.split_once('=') {
            values[key] = value.into();
        }
        let answers: Answers = serde_json::from_value(values).unwrap();
        let bundles = bundle::load_from_memory(&all).unwrap();
        let actual = match render_bundles(&bundles, &answers) {
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
            let bundles = bundle::load_from_memory(&[
                (
                    "level-0/bundle.toml",
                    b"level = 0\nname = \"x\"\nsummary = \"y\"\nadds = []",
                ),
                (base.0, base.1.as_bytes()),
                (
                    "level-1/bundle.toml",
                    b"level = 1\nname = \"x\"\nsummary = \"y\"\nadds = []",
                ),
                ("level-1/layers/README.md", layer.as_bytes()),
            ])
            .unwrap();
            let error = render_bundles(&bundles, &answers())
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
        check("{{ description | quoted }}", "\"Says \\\"no\\\" to fraud\"");
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
        for (level, answers) in (0..=bundle::highest_level()).flat_map(|level| {
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
        let longest = "p".repeat(crate::answers::MAX_PACKAGE_NAME);
        let answers = Answers {
            package_name: longest,
            ..answers()
        };
        for level in 0..=bundle::highest_level() {
            for (path, entry) in &render(level, &answers).unwrap() {
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
        for level in 1..=bundle::highest_level() {
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
            for level in 1..=bundle::highest_level() {
                let lower = render(level - 1, &answers).unwrap();
                let higher = render(level, &answers).unwrap();
                let bundle = bundle::get(level).unwrap();
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
