//! The tera engine the templates are rendered with: autoescaping off (the output is code, not
//! HTML), the case filters from heck, one escaping filter per kind of file an answer can land in,
//! and budgets that stop a template that runs away.
//!
//! Escapes, chosen in the templates by where the value goes (every answer is also refused at
//! validation if it holds a control character):
//!
//! | filter | gives |
//! |---|---|
//! | `py_str` | a double-quoted Python string literal |
//! | `py_docstring` | text safe inside `"""..."""` |
//! | `toml_str`, `yaml_str`, `json_str` | a double-quoted string of that format |
//! | `make` | text safe in a Makefile variable or recipe (`$` doubled, `#` escaped) |
//! | `sh` | one single-quoted shell word |
//! | `md` | Markdown text whose punctuation is literal (no links, HTML or code spans) |
//!
//! Budgets: `range()` produces at most [`RANGE_BUDGET`] numbers over a whole project, and a
//! rendering stops once its time budget is spent or a file exceeds [`FILE_BUDGET`] bytes.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use heck::{
    ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToTitleCase, ToUpperCamelCase,
};
use tera::{Kwargs, State, Tera};

/// How many numbers `range()` may produce while one project renders: loops over thousands are
/// plenty for templates, and nested loops over a hundred thousand each would never finish.
pub(super) const RANGE_BUDGET: u64 = 100_000;
/// The largest rendered file; the largest real one is a few dozen KiB.
pub(super) const FILE_BUDGET: usize = 4 * 1024 * 1024;
/// How long a project may take to render; the real ones take milliseconds.
const TIME_BUDGET: Duration = Duration::from_secs(10);

/// An engine with the filters, and a fresh budget for one project.
pub(super) fn engine() -> Tera {
    let mut tera = Tera::new();
    tera.autoescape_on(Vec::<&str>::new());
    let deadline = Instant::now() + TIME_BUDGET;
    let in_time = move || {
        if Instant::now() > deadline {
            Err(tera::Error::message(format!(
                "rendering took longer than {} s: a template loops too long",
                TIME_BUDGET.as_secs()
            )))
        } else {
            Ok(())
        }
    };
    let text_filter = |tera: &mut Tera, name: &'static str, apply: fn(&str) -> String| {
        tera.register_filter(name, move |text: &str, _: Kwargs, _: &State| {
            in_time().map(|()| apply(text))
        });
    };
    text_filter(&mut tera, "snake_case", ToSnakeCase::to_snake_case);
    text_filter(&mut tera, "kebab_case", ToKebabCase::to_kebab_case);
    text_filter(
        &mut tera,
        "pascal_case",
        ToUpperCamelCase::to_upper_camel_case,
    );
    text_filter(
        &mut tera,
        "camel_case",
        ToLowerCamelCase::to_lower_camel_case,
    );
    text_filter(
        &mut tera,
        "shouty_snake_case",
        ToShoutySnakeCase::to_shouty_snake_case,
    );
    text_filter(&mut tera, "title_case", ToTitleCase::to_title_case);
    text_filter(&mut tera, "py_str", py_str);
    text_filter(&mut tera, "py_docstring", py_docstring);
    text_filter(&mut tera, "toml_str", double_quoted);
    text_filter(&mut tera, "yaml_str", double_quoted);
    text_filter(&mut tera, "json_str", double_quoted);
    text_filter(&mut tera, "make", make);
    text_filter(&mut tera, "sh", sh);
    text_filter(&mut tera, "md", md);

    let produced = Arc::new(AtomicU64::new(0));
    tera.register_function("range", move |kwargs: Kwargs, _: &State| {
        in_time()?;
        let start = kwargs.get::<i64>("start")?.unwrap_or_default();
        let end = kwargs.must_get::<i64>("end")?;
        let step = kwargs.get::<i64>("step_by")?.unwrap_or(1);
        if step <= 0 {
            return Err(tera::Error::message(
                "`range` takes a positive `step_by` here",
            ));
        }
        let values: Vec<i64> = (start..end)
            .step_by(usize::try_from(step).unwrap_or(1))
            .collect();
        let total =
            produced.fetch_add(values.len() as u64, Ordering::Relaxed) + values.len() as u64;
        if total > RANGE_BUDGET {
            return Err(tera::Error::message(format!(
                "`range` has produced {total} numbers for this project, more than its budget of \
                 {RANGE_BUDGET}: a template loops too much"
            )));
        }
        Ok(values)
    });
    tera
}

/// A double-quoted string valid in JSON, TOML and YAML alike: JSON's escapes, plus DEL, which
/// TOML and YAML do not allow raw.
fn double_quoted(text: &str) -> String {
    serde_json::to_string(text)
        .expect("a string serialises")
        .replace('\u{7f}', "\\u007f")
}

/// A double-quoted Python string literal. JSON's escapes are Python's, `\u007f` included.
fn py_str(text: &str) -> String {
    double_quoted(text)
}

/// Text for inside a triple-quoted Python string: backslashes and quotes escaped, so that it
/// can neither end the string nor form an escape.
fn py_docstring(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            c if c.is_control() => {
                let _ = write!(escaped, "\\u{:04x}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    escaped
}

/// Text for a Makefile: `$` starts a variable and `#` a comment.
fn make(text: &str) -> String {
    text.replace('$', "$$").replace('#', "\\#")
}

/// One single-quoted shell word.
fn sh(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Markdown text that forms no structure: the characters that make emphasis, code, links,
/// images, HTML, entities, tables and strikethrough are backslash-escaped (CommonMark), and so is
/// a first character that would start a heading, a list or a quote; other punctuation, such as
/// the hyphen of `machine-learning`, is left as written.
fn md(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for (index, c) in text.chars().enumerate() {
        let structural = matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '|' | '&' | '~'
        ) || (index == 0 && matches!(c, '#' | '-' | '+' | '='));
        if structural {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A writer that refuses to grow past [`FILE_BUDGET`], so a template that would write gigabytes
/// stops instead.
#[derive(Default)]
pub(super) struct Bounded(pub(super) Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + bytes.len() > FILE_BUDGET {
            return Err(std::io::Error::other(format!(
                "the file would be larger than {FILE_BUDGET} bytes"
            )));
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(filter: fn(&str) -> String, input: &str, expected: &str) {
        assert_eq!(filter(input), expected, "{input:?}");
    }

    #[test]
    fn escapes() {
        check(py_str, r#"Says "no" \x"#, r#""Says \"no\" \\x""#);
        check(py_str, "del\u{7f}", r#""del\u007f""#);
        check(
            py_docstring,
            r#"""";import os;os.system("x");""""#,
            r#"\"\"\";import os;os.system(\"x\");\"\"\""#,
        );
        check(py_docstring, "ends in \\", "ends in \\\\");
        check(double_quoted, "${{ secrets.X }}", "\"${{ secrets.X }}\"");
        check(make, "costs $5 # cheap", "costs $$5 \\# cheap");
        check(sh, "it's $(rm -rf /)", r"'it'\''s $(rm -rf /)'");
        check(
            md,
            "[click](javascript:x) <b>`code`</b>",
            r"\[click\](javascript:x) \<b\>\`code\`\</b\>",
        );
        check(
            md,
            "demo: a machine-learning project",
            "demo: a machine-learning project",
        );
        check(md, "# not a heading", r"\# not a heading");
    }

    fn render(template: &str) -> Result<String, String> {
        let mut tera = engine();
        tera.add_raw_template("t", template).unwrap();
        let mut out = Bounded::default();
        tera.render_to("t", &tera::Context::new(), &mut out)
            .map(|()| String::from_utf8(out.0).unwrap())
            .map_err(|error| {
                let mut message = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    let _ = write!(message, ": {cause}");
                    source = cause.source();
                }
                message
            })
    }

    #[test]
    fn loops_that_run_away_stop() {
        assert_eq!(
            render("{% for i in range(end=3) %}{{ i }}{% endfor %}"),
            Ok("012".to_owned())
        );
        let nested = render(
            "{% for a in range(end=1000) %}{% for b in range(end=1000) %}{% endfor %}{% endfor %}",
        )
        .unwrap_err();
        assert!(nested.contains("more than its budget"), "{nested}");
        let huge = render("{% for a in range(end=90000) %}{{ \"x\" }}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}")
            .unwrap_err();
        assert!(huge.contains("larger than"), "{huge}");
    }
}
