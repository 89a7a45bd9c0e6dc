//! Python by its top-level definitions and statements.
//!
//! A module is cut into blocks at lines that start a statement at its indentation (outside
//! brackets, strings and backslash continuations); `else`, `elif`, `except` and `finally` belong
//! to the statement above, decorators and comments to the one below. A block is keyed by what it
//! defines: `def name`, `class name`, `NAME =`, the module imported (`import os`, `from x
//! import`), the module docstring; any other statement is keyed by its text. A class both sides
//! changed is merged the same way, by its methods and attributes. Anything the cutting cannot
//! follow (an unterminated string or bracket, an indented line with nothing above it, a name
//! defined twice) declines, and the file is merged line by line.

use super::blocks::{self, Doc, Line};
use super::lines::{self, split_lines};
use super::{Labels, TextMerge};

pub(super) fn merge(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    if [base, ours, theirs]
        .iter()
        .any(|text| level(text).is_some_and(|level| level > 0))
    {
        return None;
    }
    let merged = merge_at(base, ours, theirs, labels)?;
    // A clean merge must read back as the sides did.
    if merged.conflicts == 0 && cut(&merged.text).is_none() {
        return None;
    }
    Some(merged)
}

fn merge_at(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    let (base_doc, ours_doc, theirs_doc) = (cut(base)?, cut(ours)?, cut(theirs)?);
    let levels = [level(base), level(ours), level(theirs)];
    if levels
        .iter()
        .flatten()
        .any(|level| Some(*level) != levels[1])
    {
        return None;
    }
    let inner = |base: &str, ours: &str, theirs: &str| {
        merge_class(base, ours, theirs, labels)
            .unwrap_or_else(|| lines::merge(base, ours, theirs, labels))
    };
    Some(blocks::merge(
        &base_doc,
        &ours_doc,
        &theirs_doc,
        labels,
        &inner,
    ))
}

/// A class both sides changed, merged by its body's blocks when at most one side changed its
/// header.
fn merge_class(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    let head_length = |text: &str| -> Option<usize> {
        // The header: the decorators and comments above it, and the `class` line itself.
        let lines = split_lines(text);
        let header = lines.iter().position(|line| line.starts_with("class "))?;
        if !lines[header].trim_end().ends_with(':') {
            return None;
        }
        Some(lines[..=header].iter().map(|line| line.len()).sum())
    };
    blocks::merge_head_and_body([base, ours, theirs], head_length, |base, ours, theirs| {
        merge_at(base, ours, theirs, labels)
    })
}

/// The tokenizer's state between lines.
#[derive(Debug, Default)]
struct State {
    depth: usize,
    /// The quote and whether it is tripled, inside a string.
    string: Option<(char, bool)>,
    continued: bool,
}

impl State {
    fn is_clean(&self) -> bool {
        self.depth == 0 && self.string.is_none() && !self.continued
    }

    /// Reads one line; `None` if it cannot be Python (a closing bracket with none open, a
    /// single-quoted string running past the line's end).
    fn read(&mut self, line: &str) -> Option<()> {
        self.continued = false;
        let chars: Vec<char> = line.trim_end_matches(['\n', '\r']).chars().collect();
        let mut index = 0;
        while index < chars.len() {
            let char = chars[index];
            if let Some((quote, triple)) = self.string {
                if char == '\\' {
                    index += 2;
                    continue;
                }
                if char == quote && (!triple || chars[index..].starts_with(&[quote; 3])) {
                    self.string = None;
                    index += if triple { 3 } else { 1 };
                    continue;
                }
                index += 1;
                continue;
            }
            match char {
                '#' => break,
                '"' | '\'' => {
                    let triple = chars[index..].starts_with(&[char; 3]);
                    self.string = Some((char, triple));
                    index += if triple { 3 } else { 1 };
                    continue;
                }
                '(' | '[' | '{' => self.depth += 1,
                ')' | ']' | '}' => self.depth = self.depth.checked_sub(1)?,
                '\\' if index + 1 == chars.len() => self.continued = true,
                _ => {}
            }
            index += 1;
        }
        match self.string {
            Some((_, false)) if !self.continued && !line.trim_end().ends_with('\\') => None,
            _ => Some(()),
        }
    }
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// The indentation of the first statement, if there is one.
fn level(text: &str) -> Option<usize> {
    split_lines(text)
        .into_iter()
        .find(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(indentation)
}

/// Cuts a module, or a class body, at the indentation of its first statement.
fn cut(text: &str) -> Option<Doc<'_>> {
    let lines = split_lines(text);
    let level = level(text).unwrap_or(0);
    let mut state = State::default();
    let mut kinds = Vec::with_capacity(lines.len());
    let mut in_decorator = false;
    for line in &lines {
        let clean = state.is_clean();
        state.read(line)?;
        let trimmed = line.trim();
        let kind = if !clean {
            if in_decorator {
                Line::Comment
            } else {
                Line::Cont
            }
        } else if trimmed.is_empty() {
            Line::Blank
        } else if trimmed.starts_with('#') {
            if indentation(line) <= level {
                Line::Comment
            } else {
                Line::Cont
            }
        } else if indentation(line) > level {
            Line::Cont
        } else if indentation(line) < level {
            return None;
        } else if trimmed.starts_with('@') {
            in_decorator = true;
            Line::Comment
        } else if ["else", "elif", "except", "finally"]
            .iter()
            .any(|keyword| continues_with(trimmed, keyword))
        {
            Line::Cont
        } else {
            in_decorator = false;
            Line::Start
        };
        if clean && kind != Line::Comment {
            in_decorator = false;
        }
        kinds.push(kind);
    }
    if !state.is_clean() {
        return None;
    }
    let mut first = true;
    blocks::cut(text, &kinds, |lines, start| {
        let is_first = std::mem::take(&mut first);
        let Some(start) = start else {
            return Some((lines.concat(), true));
        };
        Some(key(lines[start].trim(), is_first, &lines[start..]))
    })
}

fn continues_with(line: &str, keyword: &str) -> bool {
    line.strip_prefix(keyword)
        .is_some_and(|rest| rest.starts_with([':', ' ', '(']))
}

/// The key of a statement whose first line is `head`.
fn key(head: &str, is_first: bool, statement: &[&str]) -> (String, bool) {
    let word_after = |prefix: &str| -> Option<String> {
        let rest = head.strip_prefix(prefix)?;
        let name: String = rest
            .chars()
            .take_while(|char| char.is_alphanumeric() || *char == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    if let Some(name) = word_after("def ").or_else(|| word_after("async def ")) {
        return (format!("def {name}"), false);
    }
    if let Some(name) = word_after("class ") {
        return (format!("class {name}"), false);
    }
    if let Some(rest) = head.strip_prefix("from ")
        && let Some((module, _)) = rest.split_once(" import")
    {
        return (format!("from {} import", module.trim()), false);
    }
    if head.starts_with("import ") {
        return (head.to_owned(), false);
    }
    let is_string = head
        .trim_start_matches(['r', 'R', 'u', 'U', 'b', 'B', 'f', 'F'])
        .starts_with(['"', '\'']);
    if is_first && is_string {
        return ("<docstring>".to_owned(), false);
    }
    if let Some(name) = assigned_name(head) {
        return (format!("{name} ="), false);
    }
    if head.starts_with("if __name__") {
        return (head.to_owned(), false);
    }
    (statement.concat(), true)
}

/// The name `NAME = ...` or `NAME: type = ...` assigns.
fn assigned_name(head: &str) -> Option<&str> {
    let end = head
        .find(|char: char| !(char.is_alphanumeric() || char == '_'))
        .unwrap_or(head.len());
    let (name, rest) = head.split_at(end);
    if name.is_empty() || name.starts_with(|char: char| char.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim_start();
    let assigned = if let Some(annotated) = rest.strip_prefix(':') {
        annotated.contains('=')
    } else {
        rest.starts_with('=') && !rest.starts_with("==")
    };
    assigned.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::merge::lines::tests::{keep_both, labels};

    fn check(base: &str, ours: &str, theirs: &str, expected: &str) {
        let actual = match merge(base, ours, theirs, &labels()) {
            None => "declined".to_owned(),
            Some(merged) if merged.conflicts == 0 => merged.text,
            Some(merged) => format!("{} conflict(s)\n{}", merged.conflicts, merged.text),
        };
        assert_eq!(actual, expected);
    }

    const CONFTEST: &str = "\"\"\"Fixtures.\"\"\"\n\nimport os\n\nimport pytest\n\n\n@pytest.fixture\ndef dataset():\n    return [1]\n";

    #[test]
    fn definitions_added_on_both_sides_at_the_end_merge_cleanly() {
        let ours =
            format!("{CONFTEST}\n\n@pytest.fixture\ndef mine(dataset):\n    return dataset * 2\n");
        let theirs = format!(
            "{}\n\nPROJECT_ROOT = os.getcwd()\n\n\n@pytest.fixture\ndef theirs():\n    return PROJECT_ROOT\n",
            CONFTEST.replace("import os\n", "import os\nimport shutil\n")
        );
        // Line by line, the two additions are one conflict.
        assert_eq!(
            lines::merge(CONFTEST, &ours, &theirs, &labels()).conflicts,
            1
        );
        check(
            CONFTEST,
            &ours,
            &theirs,
            &format!(
                "{}\n\n@pytest.fixture\ndef mine(dataset):\n    return dataset * 2\n\n\nPROJECT_ROOT = os.getcwd()\n\n\n\
                 @pytest.fixture\ndef theirs():\n    return PROJECT_ROOT\n",
                CONFTEST.replace("import os\n", "import os\nimport shutil\n")
            ),
        );
    }

    #[test]
    fn the_same_function_changed_on_both_sides_on_the_same_lines_still_conflicts() {
        let base = "def f():\n    return 1\n\n\ndef g():\n    return 2\n";
        let merged = merge(
            base,
            "def f():\n    return 10\n\n\ndef g():\n    return 2\n",
            "def f():\n    return 100\n\n\ndef g():\n    return 2\n",
            &labels(),
        )
        .unwrap();
        assert_eq!(merged.conflicts, 1);
        assert_eq!(
            merged.text,
            "def f():\n<<<<<<< yours\n    return 10\n||||||| level 1\n    return 1\n=======\n    return 100\n>>>>>>> level 2\n\n\ndef g():\n    return 2\n"
        );
        // The same new function on both sides, different: one conflict, both whole when kept.
        let ours = format!("{base}\n\ndef h():\n    return 'mine'\n");
        let theirs = format!("{base}\n\ndef h():\n    return 'theirs'\n");
        let merged = merge(base, &ours, &theirs, &labels()).unwrap();
        assert_eq!(merged.conflicts, 1);
        assert!(
            keep_both(&merged.text)
                .ends_with("def h():\n    return 'mine'\ndef h():\n    return 'theirs'\n")
        );
    }

    #[test]
    fn methods_added_to_a_class_on_both_sides_merge() {
        let base = "class A:\n    x = 1\n\n    def f(self):\n        return 1\n";
        check(
            base,
            &format!("{base}\n    def mine(self):\n        return 2\n"),
            &format!("{base}\n    def theirs(self):\n        return 3\n"),
            &format!(
                "{base}\n    def mine(self):\n        return 2\n\n    def theirs(self):\n        return 3\n"
            ),
        );
    }

    #[test]
    fn the_cutting_follows_strings_brackets_decorators_and_clauses() {
        let text = "\"\"\"Doc.\n\ndef not_a_def():\n\"\"\"\nX = (\n1,\n)\n@decorate(\n    1,\n)\n\
                    def f():\n    pass\ntry:\n    import a\nexcept ImportError:\n    a = None\n# about g\nclass G:\n    pass\n";
        let doc = cut(text).unwrap();
        let keys: Vec<&str> = doc.blocks.iter().map(|block| block.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "<docstring>",
                "X =",
                "def f",
                "try:\n    import a\nexcept ImportError:\n    a = None\n",
                "class G"
            ]
        );
        assert_eq!(
            doc.blocks[2].text,
            "@decorate(\n    1,\n)\ndef f():\n    pass\n"
        );
        assert_eq!(doc.blocks[4].text, "# about g\nclass G:\n    pass\n");
    }

    #[test]
    fn what_the_cutting_cannot_follow_declines() {
        check("x = 1\n", "x = (\n", "x = 2\n", "declined");
        check("x = 1\n", "  y = 1\n", "x = 2\n", "declined");
        check(
            "x = 1\n",
            "def f():\n    pass\n\n\ndef f():\n    pass\n",
            "x = 2\n",
            "declined",
        );
        assert!(cut("s = 'open\n").is_none());
        assert!(cut("s = 'a' \\\n    'b'\n").is_some());
    }
}
