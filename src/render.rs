//! Bundles plus answers to a [`Tree`], in memory.
//!
//! Pure: no IO, no clock, no randomness, so the same level and answers always render the same
//! bytes, which is what lets an upgrade recover the exact base of a merge. Every text file is a
//! tera template (GitHub expressions such as `${{ github.sha }}` sit in `{% raw %}` blocks) and so
//! is every path; an undefined variable is an error, never an unrendered file. Files that are not
//! UTF-8 are copied as they are. The case filters from heck are registered here and only here.

use heck::{
    ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToTitleCase, ToUpperCamelCase,
};
use serde::Serialize;
use tera::{Context, Kwargs, State, Tera};

use crate::answers::{Answers, Task};
use crate::bundle::{self, TemplateFile};
use crate::level::Level;
use crate::project::{Entry, RelPath, Tree};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("level {0} has no template bundle in this build")]
    UnknownLevel(u8),
    #[error("template `level-{level}/files/{path}`: {message}")]
    Template {
        level: u8,
        path: String,
        message: String,
    },
    #[error(
        "template `level-{level}/files/{template}` renders to a path outside the project: {reason}"
    )]
    BadPath {
        level: u8,
        template: String,
        reason: String,
    },
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
    let template_context = TemplateContext {
        answers,
        level,
        level_name: &bundles
            .last()
            .expect("up_to returns at least level 0")
            .meta
            .name,
        project_slug: answers.project_name.to_kebab_case(),
        python_tag: answers.python_version.tag(),
        is_classification: answers.task == Task::Classification,
    };
    let context = Context::from_serialize(&template_context)
        .expect("the context is a flat struct of strings");
    let engine = engine();

    let mut tree = Tree::new();
    for bundle in bundles {
        let bundle_level = bundle.meta.level;
        for file in &bundle.files {
            let template_error = |message: String| RenderError::Template {
                level: bundle_level,
                path: file.path.to_owned(),
                message,
            };
            let rendered_path =
                render_text(&engine, file.path, &context).map_err(&template_error)?;
            let path = RelPath::new(&rendered_path).map_err(|reason| RenderError::BadPath {
                level: bundle_level,
                template: file.path.to_owned(),
                reason,
            })?;
            let rendered = render_content(&engine, file, &context).map_err(&template_error)?;
            tree.insert(
                path,
                Entry {
                    content: rendered,
                    executable: file.executable,
                    ownership: file.ownership,
                    level: Level::new(bundle_level).expect("bundles are numbered by level"),
                },
            );
        }
    }
    Ok(tree)
}

fn render_content(
    engine: &Tera,
    file: &TemplateFile,
    context: &Context,
) -> Result<Vec<u8>, String> {
    match std::str::from_utf8(file.contents) {
        Ok(text) => render_text(engine, text, context).map(String::into_bytes),
        Err(_) => Ok(file.contents.to_vec()),
    }
}

fn render_text(engine: &Tera, text: &str, context: &Context) -> Result<String, String> {
    if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
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
        for level in 0..=bundle::highest_level() {
            let tree = render(level, &answers()).unwrap();
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
    fn only_declared_files_change_between_levels() {
        for level in 1..=bundle::highest_level() {
            let lower = render(level - 1, &answers()).unwrap();
            let higher = render(level, &answers()).unwrap();
            let declared: Vec<String> = bundle::get(level)
                .unwrap()
                .meta
                .changes
                .iter()
                .map(|template| {
                    render_text(
                        &engine(),
                        template,
                        &Context::from_serialize(&answers()).unwrap(),
                    )
                    .unwrap()
                })
                .collect();
            for (path, entry) in &lower {
                let changed = higher
                    .get(path)
                    .is_some_and(|new| new.content != entry.content);
                let is_declared = declared.iter().any(|declared| declared == path.as_str());
                assert_eq!(
                    changed,
                    is_declared,
                    "level {level}: `{path}` {} but bundle.toml {} it in `changes`",
                    if changed {
                        "changes"
                    } else {
                        "does not change"
                    },
                    if is_declared {
                        "lists"
                    } else {
                        "does not list"
                    }
                );
            }
        }
    }
}
