//! The tests a Python test module defines, told apart from those that test nothing: a test
//! that is skipped (`@pytest.mark.skip`, `@unittest.skip`, `pytestmark = pytest.mark.skip`,
//! a skipped class), expected to fail (`xfail`), or whose body is only a placeholder (`pass`,
//! `...`, `assert False`, `raise NotImplementedError`, `pytest.skip()`). Templates ship such
//! placeholders (`def test_code_is_tested(): assert False`); they are not tests of the project.
//!
//! Read by indentation from the code (lowercase, comments and docstrings removed): enough for
//! test modules, which are flat functions and classes.

/// How many tests a module defines, by whether they test anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counted {
    pub(crate) real: usize,
    /// Skipped, expected to fail, or a placeholder.
    pub(crate) placeholders: usize,
}

/// Statements that test nothing when they are all a test does.
const PLACEHOLDER_STATEMENTS: &[&str] = &[
    "pass",
    "...",
    "return",
    "assert false",
    "assert 0",
    "assert true",
    "assert 1",
    "raise notimplementederror",
    "raise notimplementederror()",
    "raise exception(",
    "pytest.skip(",
    "pytest.fail(",
    "self.skiptest(",
    "self.fail(",
];

fn is_skip_marker(decorator: &str) -> bool {
    let decorator = decorator.trim_start_matches('@');
    [
        "pytest.mark.skip",
        "unittest.skip",
        "mark.skip",
        "pytest.mark.xfail",
        "mark.xfail",
    ]
    .iter()
    .any(|marker| {
        decorator.starts_with(marker)
            && !decorator[marker.len()..].starts_with("if")
            && !decorator[marker.len()..].starts_with("unless")
    })
}

pub(super) fn count(code: &str) -> Counted {
    let lines: Vec<(usize, &str)> = code
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            (line.len() - trimmed.len(), trimmed.trim_end())
        })
        .filter(|(_, line)| !line.is_empty())
        .collect();
    let module_skipped = lines.iter().any(|(indent, line)| {
        *indent == 0
            && ((line.starts_with("pytestmark") && line.contains("mark.skip("))
                || (line.starts_with("pytestmark") && line.ends_with("mark.skip"))
                || (line.starts_with("pytest.skip(") && line.contains("allow_module_level")))
    });
    let mut counted = Counted::default();
    // The indentation of classes that are skipped as a whole, innermost last.
    let mut skipped_classes: Vec<usize> = Vec::new();
    for (index, &(indent, line)) in lines.iter().enumerate() {
        skipped_classes.retain(|class_indent| indent > *class_indent);
        let decorators = || {
            lines[..index]
                .iter()
                .rev()
                .take_while(|(above, decorator)| *above == indent && decorator.starts_with('@'))
                .map(|(_, decorator)| *decorator)
        };
        if line.starts_with("class ") {
            if decorators().any(is_skip_marker) {
                skipped_classes.push(indent);
            }
            continue;
        }
        let definition = line
            .strip_prefix("async ")
            .unwrap_or(line)
            .strip_prefix("def test");
        if definition.is_none() {
            continue;
        }
        let skipped =
            module_skipped || !skipped_classes.is_empty() || decorators().any(is_skip_marker);
        if skipped || is_placeholder_body(&lines[index..], indent) {
            counted.placeholders += 1;
        } else {
            counted.real += 1;
        }
    }
    counted
}

/// Whether the body of the definition at the start of `lines` (at `indent`) only holds
/// placeholders. The signature may span lines; the body starts after the line ending in `:`.
fn is_placeholder_body(lines: &[(usize, &str)], indent: usize) -> bool {
    let mut rest = lines.iter();
    let (_, first) = rest.next().expect("the definition");
    let mut signature_open = !first.ends_with(':');
    if let Some((_, inline)) = first.split_once("):") {
        // `def test_x(): assert False` on one line.
        let inline = inline.trim();
        if !inline.is_empty() {
            return is_placeholder_statement(inline);
        }
    }
    for (line_indent, line) in rest {
        if signature_open {
            signature_open = !line.ends_with(':');
            continue;
        }
        if *line_indent <= indent {
            break;
        }
        if !is_placeholder_statement(line) {
            return false;
        }
    }
    // Every statement is a placeholder, or there is none: a body of only a docstring (removed
    // from the code) is empty.
    true
}

fn is_placeholder_statement(line: &str) -> bool {
    PLACEHOLDER_STATEMENTS.iter().any(|placeholder| {
        if placeholder.ends_with('(') {
            line.starts_with(placeholder)
        } else {
            line == *placeholder
                || line
                    .strip_prefix(placeholder)
                    .is_some_and(|rest| rest.starts_with(',') || rest.starts_with(' '))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: &str, real: usize, placeholders: usize) {
        assert_eq!(count(code), Counted { real, placeholders }, "{code}");
    }

    #[test]
    fn placeholders_and_skipped_tests_test_nothing() {
        check("def test_code_is_tested():\n    assert false\n", 0, 1);
        check("def test_code_is_tested(): assert false\n", 0, 1);
        check(
            "import pytest\n\n@pytest.mark.xfail\ndef test_that_you_wrote_tests():\n    raise exception(\"this test will fail\")\n",
            0,
            1,
        );
        check(
            "def test_later():\n    pass\n\ndef test_todo():\n    ...\n",
            0,
            2,
        );
        check(
            "@pytest.mark.skip(reason='later')\ndef test_predict():\n    assert model.predict(x) == 1\n",
            0,
            1,
        );
        check(
            "import unittest\n\n@unittest.skip('flaky')\nclass apitest(unittest.testcase):\n    def test_a(self):\n        self.assertequal(1, 1)\n\nclass other(unittest.testcase):\n    def test_b(self):\n        self.assertequal(f(), 2)\n",
            1,
            1,
        );
        check(
            "import pytest\npytestmark = pytest.mark.skip(reason='needs a gpu')\n\ndef test_a():\n    assert f() == 1\n",
            0,
            1,
        );
        // A docstring-only body is empty once docstrings are removed.
        check(
            "def test_documented():\ndef helper():\n    return 1\n",
            0,
            1,
        );
    }

    #[test]
    fn real_tests_count() {
        check(
            "@pytest.mark.skipif(sys.platform == 'win32', reason='posix')\ndef test_paths():\n    assert f('a') == 'a'\n",
            1,
            0,
        );
        check(
            "@pytest.mark.parametrize('x', [1, 2])\ndef test_square(\n    x,\n):\n    assert square(x) == x * x\n",
            1,
            0,
        );
        check(
            "async def test_health(client):\n    response = await client.get('/health')\n    assert response.status_code == 200\n",
            1,
            0,
        );
        check(
            "def test_raises():\n    with pytest.raises(valueerror):\n        f(-1)\n",
            1,
            0,
        );
    }
}
