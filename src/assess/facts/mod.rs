//! One file of a repository as `assess` sees it: what kind of file it is, whether it is a test,
//! its code in lowercase with comments and docstrings removed (for a notebook, the source of its
//! code cells: prose never counts as evidence), its Python imports, and for a CI pipeline what
//! starts it. Pure: text in, facts out. Each concern has its module; `Source` puts them together
//! and answers the detectors' searches.

mod ci;
mod comments;
mod imports;
mod kind;
mod make;
mod notebook;
mod pairs;
mod pipeline;
mod schema;
mod tests_defined;

use std::collections::BTreeSet;
use std::ops::Bound;

pub(super) use ci::{Provider, Triggers};
pub(super) use kind::Kind;
pub(super) use make::{Budget as MakeBudget, MakeTargets};
use pairs::Pairs;
pub(super) use pipeline::{Job, Pipeline};

#[derive(Debug, Clone)]
pub(super) struct Source<'a> {
    pub(super) path: &'a str,
    /// The file name, lowercase.
    pub(super) name: String,
    /// The file name up to its first dot, lowercase.
    pub(super) stem: String,
    pub(super) kind: Kind,
    /// A Python test module (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`).
    pub(super) is_test: bool,
    /// Lowercase, comments and docstrings removed; a notebook's code cells; a CI pipeline with
    /// the recipes of the make targets it runs appended.
    pub(super) code: String,
    /// Python modules imported, lowercase and dotted, with `from a import b` giving `a` and `a.b`.
    pub(super) imports: BTreeSet<String>,
    pub(super) triggers: Triggers,
    /// For a CI pipeline: its name, the pipelines that start it, its jobs.
    pub(super) pipeline: Pipeline,
    /// A CI pipeline recognised by its content rather than by where it is.
    pub(super) by_content: bool,
    /// For a Python test module: how many of its tests test something (not skipped, not a
    /// placeholder such as `assert False` or `pass`), and how many do not.
    pub(super) tests: tests_defined::Counted,
    /// The byte pairs that occur in `code`, to rule out most searches without scanning it.
    pairs: Pairs,
}

impl<'a> Source<'a> {
    pub(super) fn new(path: &'a str, text: &str) -> Option<Self> {
        let mut kind = Kind::of(path)?;
        let mut by_content = false;
        if kind == Kind::Config
            && kind::is_yaml(path)
            && let Some(provider) = schema::provider_by_content(text)
        {
            kind = Kind::Ci(provider);
            by_content = true;
        }
        let code = match kind {
            Kind::Python => comments::python_code(text),
            Kind::Notebook => comments::python_code(&notebook::notebook_code(text)),
            Kind::Ci(Provider::Jenkins) => comments::slash_comments_removed(text),
            _ => comments::hash_comments_removed(text),
        };
        let mut code = code;
        code.make_ascii_lowercase();
        let imports = if matches!(kind, Kind::Python | Kind::Notebook) {
            imports::python_imports(&code)
        } else {
            BTreeSet::new()
        };
        let (triggers, pipeline) = match kind {
            Kind::Ci(provider) => {
                let triggers = ci::triggers(provider, text, &code);
                if provider != Provider::Jenkins {
                    code = pipeline::commands(&code);
                }
                (triggers, Pipeline::of(provider, text))
            }
            _ => (Triggers::default(), Pipeline::default()),
        };
        let is_test = kind::is_python_test(path, kind);
        let tests = if is_test {
            tests_defined::count(&code)
        } else {
            tests_defined::Counted::default()
        };
        let name = path.rsplit('/').next().unwrap_or(path).to_lowercase();
        let stem = name
            .split_once('.')
            .map_or(name.as_str(), |(stem, _)| stem)
            .to_owned();
        let pairs = Pairs::of(&code);
        Some(Self {
            path,
            name,
            stem,
            kind,
            is_test,
            code,
            imports,
            triggers,
            pipeline,
            by_content,
            tests,
            pairs,
        })
    }

    pub(super) fn is_code(&self) -> bool {
        matches!(self.kind, Kind::Python | Kind::Notebook)
    }

    /// Python or notebook code that is not a test.
    pub(super) fn is_product_code(&self) -> bool {
        self.is_code() && !self.is_test
    }

    pub(super) fn is_ci(&self) -> bool {
        matches!(self.kind, Kind::Ci(_))
    }

    pub(super) fn provider(&self) -> Option<Provider> {
        match self.kind {
            Kind::Ci(provider) => Some(provider),
            _ => None,
        }
    }

    /// A DVC pointer file (`*.dvc`), written by `dvc add` or `dvc import`.
    pub(super) fn is_dvc_pointer(&self) -> bool {
        self.kind == Kind::Dvc
            && self
                .name
                .rsplit_once('.')
                .is_some_and(|(_, extension)| extension == "dvc")
    }

    /// A DVC pipeline, `dvc.yaml`.
    pub(super) fn is_dvc_pipeline(&self) -> bool {
        self.kind == Kind::Dvc && self.name == "dvc.yaml"
    }

    /// Adds `more` to the code (a CI pipeline's make recipes).
    pub(super) fn append_code(&mut self, more: &str) {
        self.code.push_str(more);
        self.pairs = Pairs::of(&self.code);
    }

    pub(super) fn has(&self, needle: &str) -> bool {
        self.pairs.may_contain(needle) && self.code.contains(needle)
    }

    pub(super) fn has_any<'n>(&self, needles: &[&'n str]) -> Option<&'n str> {
        needles.iter().copied().find(|needle| self.has(needle))
    }

    /// `word` with no letter or digit on either side.
    pub(super) fn has_word(&self, word: &str) -> bool {
        self.pairs.may_contain(word) && contains_word(&self.code, word, true)
    }

    /// A word starting with `word`: `train` finds `training` and `make train`, not `constraint`.
    pub(super) fn has_word_start(&self, word: &str) -> bool {
        self.pairs.may_contain(word) && contains_word(&self.code, word, false)
    }

    /// Imports `module` or one of its submodules.
    pub(super) fn imports(&self, module: &str) -> bool {
        // `from a.b import c` imports `a.b.c` without spelling it: then each part is in the code.
        let may_be_there = self.pairs.may_contain(module)
            || (module.contains('.') && module.split('.').all(|part| self.pairs.may_contain(part)));
        if self.imports.is_empty() || !may_be_there {
            return false;
        }
        // Sorted, a module's submodules follow it: `a`, `a.b`, `a.c`, `a_d`.
        self.imports
            .range::<str, _>((Bound::Included(module), Bound::Unbounded))
            .take_while(|import| import.starts_with(module))
            .any(|import| import.len() == module.len() || import[module.len()..].starts_with('.'))
    }

    pub(super) fn imports_any<'m>(&self, modules: &[&'m str]) -> Option<&'m str> {
        modules.iter().copied().find(|module| self.imports(module))
    }
}

fn contains_word(text: &str, word: &str, whole: bool) -> bool {
    let is_word_char = |byte: u8| byte.is_ascii_alphanumeric();
    let bytes = text.as_bytes();
    text.match_indices(word).any(|(start, _)| {
        let end = start + word.len();
        let starts = start == 0 || !is_word_char(bytes[start - 1]);
        let ends = !whole || end == bytes.len() || !is_word_char(bytes[end]);
        starts && ends
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, text: &str, expected_code: &str) {
        let source = Source::new(path, text).unwrap();
        assert_eq!(source.code, expected_code);
    }

    #[test]
    fn code_is_lowercase_and_without_comments() {
        check(
            "a.py",
            "import MLflow  # Later\nURL = \"http://X/#a\"\n",
            "import mlflow\nurl = \"http://x/#a\"\n",
        );
        check(
            "eda.ipynb",
            r#"{"cells": [{"cell_type": "code", "source": ["import Pandas  # Load"]}]}"#,
            "import pandas\n",
        );
        check("Jenkinsfile", "sh 'PyTest' // Run\n", "sh 'pytest'\n");
    }

    #[test]
    fn imports_match_modules_and_their_submodules() {
        let source = Source::new("a.py", "import mlflow.sklearn\nimport pandas\n").unwrap();
        assert!(source.imports("mlflow"));
        assert!(source.imports("mlflow.sklearn"));
        assert!(source.imports("pandas"));
        assert!(!source.imports("mlfl"));
        assert!(!source.imports("pandas.io"));
        // `from a.b import c` imports `a.b.c`, which the code does not spell out.
        let source = Source::new("a.py", "from google.cloud import aiplatform\n").unwrap();
        assert!(source.imports("google.cloud.aiplatform"));
        assert!(source.imports("google"));
        assert!(!source.imports("google.cloud.storage"));
    }

    #[test]
    fn words_have_boundaries() {
        assert!(contains_word("make train", "train", true));
        assert!(contains_word("python -m pkg.training", "train", false));
        assert!(!contains_word("constraint", "train", false));
        assert!(!contains_word("training", "train", true));
        assert!(contains_word("run_ab_test()", "ab_test", true));
    }

    /// Texts for the property tests, from a fixed seed: fragments that matter to the parsers
    /// (quotes, comment markers, escapes, line ends, make invocations, JSON) among characters of
    /// every width (accents, CJK, emoji, combining marks) and any scalar value at all.
    fn arbitrary_texts(seed: u64, count: usize) -> Vec<String> {
        const FRAGMENTS: &[&str] = &[
            "#",
            "\"",
            "'",
            "'''",
            "\"\"\"",
            "\\",
            "//",
            "/*",
            "*/",
            "\n",
            "\r\n",
            "\t",
            " ",
            "α",
            "é",
            "café",
            "中文",
            "😀",
            "\u{301}",
            "\u{feff}",
            "make ",
            "make",
            ":",
            "=",
            ";",
            "&",
            "|",
            ")",
            "-",
            "import ",
            "from ",
            " import ",
            "(",
            ",",
            ".",
            "on:",
            "push",
            "[",
            "]",
            "{",
            "}",
            "\"source\":",
            "\"cell_type\": \"code\"",
            "$",
            "\0",
        ];
        let mut state = seed | 1;
        let mut next = move || {
            // xorshift64: plenty for test inputs, and the same on every run.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let length = next() % 120;
                let mut text = String::new();
                for _ in 0..length {
                    let pick = next();
                    if pick % 3 == 0 {
                        let scalar = u32::try_from(next() % 0x11_0000).unwrap();
                        text.push(char::from_u32(scalar).unwrap_or('\u{fffd}'));
                    } else {
                        let index = usize::try_from(pick).unwrap() % FRAGMENTS.len();
                        text.push_str(FRAGMENTS[index]);
                    }
                }
                text
            })
            .collect()
    }

    /// A path of each kind of file that is read in its own way.
    const PATHS: &[&str] = &[
        "train.py",
        "notebooks/eda.ipynb",
        "config.yaml",
        ".github/workflows/ci.yml",
        ".gitlab-ci.yml",
        "azure-pipelines.yml",
        "Jenkinsfile",
        "Makefile",
        "Dockerfile",
        "dvc.yaml",
    ];

    #[test]
    fn any_text_gives_facts_without_panicking() {
        for text in arbitrary_texts(0x5EED, 1000) {
            // Also as a notebook whose code cell is the text, whole and cut short.
            let notebook = serde_json::json!({
                "cells": [{"cell_type": "code", "source": [text.clone(), "\n"]}]
            })
            .to_string();
            let cut_at = (0..=notebook.len() / 2)
                .rev()
                .find(|index| notebook.is_char_boundary(*index))
                .unwrap_or(0);
            let texts = [text.as_str(), notebook.as_str(), &notebook[..cut_at]];
            for path in PATHS {
                for text in texts {
                    let outcome = std::panic::catch_unwind(|| {
                        let source = Source::new(path, text).unwrap();
                        MakeTargets::parse(&source.code)
                            .expand(&source.code, &mut MakeBudget::per_repository());
                        source.has_word("train") || source.imports("mlflow")
                    });
                    assert!(outcome.is_ok(), "`{path}` with {text:?}");
                }
            }
        }
    }
}
