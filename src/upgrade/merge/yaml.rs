//! YAML by mapping keys and by sequence items named by `id`, `name` or `uses`.
//!
//! There is no YAML editor that keeps a file's formatting, so the merge works on the text's
//! blocks as its indentation delimits them: at a mapping's indentation each `key:` line starts a
//! block, at a sequence's each `- ` line starts one (an item keyed by its `id`, else its `name`,
//! else the action it `uses`, else its text). An entry both sides changed whose first line is
//! the same on every side is merged the same way one level down, so a job, its steps and a
//! step's inputs each merge by name; anything else (a block scalar, a changed first line) merges
//! line by line. A parser (serde-saphyr) only checks structure: every side must read as YAML,
//! and a clean result must too, or the file is merged line by line instead.

use super::blocks::{self, Doc, Line};
use super::lines::{self, split_lines};
use super::{Labels, TextMerge};

pub(super) fn merge(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    if ![base, ours, theirs].iter().all(|text| reads(text)) {
        return None;
    }
    let merged = merge_fragment(base, ours, theirs, labels)?;
    if merged.conflicts == 0 && !reads(&merged.text) {
        return None;
    }
    Some(merged)
}

fn reads(text: &str) -> bool {
    text.trim().is_empty() || serde_saphyr::from_str::<serde_json::Value>(text).is_ok()
}

/// Merges three texts at one indentation.
fn merge_fragment(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    let (base_doc, base_level) = cut(base)?;
    let (ours_doc, ours_level) = cut(ours)?;
    let (theirs_doc, theirs_level) = cut(theirs)?;
    let levels = [base_level, ours_level, theirs_level];
    let known: Vec<usize> = levels.into_iter().flatten().collect();
    if known.windows(2).any(|pair| pair[0] != pair[1]) {
        return None;
    }
    let inner = |base: &str, ours: &str, theirs: &str| {
        merge_entry(base, ours, theirs, labels)
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

/// An entry both sides changed, merged by its body when at most one side changed its first line
/// (and the comments above it).
fn merge_entry(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    let head_length = |text: &str| -> Option<usize> {
        let lines = split_lines(text);
        let head = lines
            .iter()
            .position(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))?;
        if is_block_scalar(lines[head]) {
            return None;
        }
        let length: usize = lines[..=head].iter().map(|line| line.len()).sum();
        (length < text.len()).then_some(length)
    };
    blocks::merge_head_and_body([base, ours, theirs], head_length, |base, ours, theirs| {
        merge_fragment(base, ours, theirs, labels)
    })
}

/// True if `line` introduces a block scalar (`run: |`, `- >-`), whose lines are text.
fn is_block_scalar(line: &str) -> bool {
    let line = line.trim_end();
    let indicator = line
        .rsplit_once([' ', ':'])
        .map_or(line, |(_, last)| last)
        .trim_start_matches("- ");
    let mut chars = indicator.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|char| char == '-' || char == '+' || char.is_ascii_digit())
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_item(line: &str) -> bool {
    let content = line.trim_start_matches(' ').trim_end_matches(['\n', '\r']);
    content == "-" || content.starts_with("- ")
}

/// Cuts a text at the indentation of its first content line; returns the blocks and that
/// indentation (`None` when the text has no content line).
fn cut(text: &str) -> Option<(Doc<'_>, Option<usize>)> {
    let lines = split_lines(text);
    let is_content = |line: &&str| {
        let trimmed = line.trim();
        !trimmed.is_empty() && !trimmed.starts_with('#')
    };
    let first = lines
        .iter()
        .find(|line| is_content(line) && !is_marker(line));
    let level = first.map(|line| indentation(line));
    let is_sequence = first.is_some_and(|line| is_item(line));
    let level_value = level.unwrap_or(0);
    let mut started = false;
    let mut kinds = Vec::with_capacity(lines.len());
    for line in &lines {
        let trimmed = line.trim();
        let indent = indentation(line);
        let kind = if trimmed.is_empty() {
            Line::Blank
        } else if line.starts_with('\t') {
            return None;
        } else if trimmed.starts_with('#') {
            if indent <= level_value {
                Line::Comment
            } else {
                Line::Cont
            }
        } else if is_marker(line) {
            if started {
                return None;
            }
            Line::Comment
        } else if indent < level_value {
            return None;
        } else if indent > level_value {
            Line::Cont
        } else if is_item(line) != is_sequence {
            // A sequence written at its key's indentation belongs to that key.
            if is_sequence {
                return None;
            }
            Line::Cont
        } else {
            started = true;
            Line::Start
        };
        kinds.push(kind);
    }
    let doc = blocks::cut(text, &kinds, |lines, start| {
        let Some(start) = start else {
            return Some((lines.concat(), true));
        };
        if is_sequence {
            Some(item_key(&lines[start..], level_value))
        } else {
            mapping_key(lines[start]).map(|key| (key, false))
        }
    })?;
    Some((doc, level))
}

/// A document marker or directive: `---`, `...`, `%YAML`.
fn is_marker(line: &str) -> bool {
    let content = line.trim_end();
    content == "---" || content == "..." || content.starts_with("--- ") || content.starts_with('%')
}

/// The key a `key: value` line names.
fn mapping_key(line: &str) -> Option<String> {
    let content = line.trim();
    if let Some(quote) = content
        .chars()
        .next()
        .filter(|char| *char == '"' || *char == '\'')
    {
        let end = content[1..].find(quote)? + 1;
        return content[end + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| content[..=end].to_owned());
    }
    let colon = content
        .match_indices(':')
        .map(|(at, _)| at)
        .find(|&at| content[at + 1..].is_empty() || content[at + 1..].starts_with([' ', '\t']))?;
    let key = content[..colon].trim_end();
    (!key.is_empty() && !key.starts_with(['?', '-', '[', '{'])).then(|| key.to_owned())
}

/// What keys a sequence item: its `id`, `name` or `uses` (without the version), else its text.
fn item_key(lines: &[&str], level: usize) -> (String, bool) {
    let fields: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter_map(|(index, line)| {
            if index == 0 {
                Some(line.trim_start().trim_start_matches('-').trim_start())
            } else if indentation(line) == level + 2 && !line.trim_start().starts_with('#') {
                Some(line.trim())
            } else {
                None
            }
        })
        .collect();
    let field = |name: &str| {
        fields.iter().find_map(|field| {
            let value = field.strip_prefix(name)?.strip_prefix(':')?.trim();
            let value = value.trim_matches(['"', '\'']);
            (!value.is_empty()).then_some(value)
        })
    };
    if let Some(id) = field("id") {
        return (format!("id={id}"), false);
    }
    if let Some(name) = field("name") {
        return (format!("name={name}"), false);
    }
    if let Some(uses) = field("uses") {
        let action = uses.split('@').next().unwrap_or(uses);
        return (format!("uses={action}"), false);
    }
    (lines.concat(), true)
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

    const CI: &str = "name: CI\n\non:\n  pull_request:\n\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      \
                      - uses: actions/checkout@v4\n      - run: make lint\n      - run: make test\n";

    #[test]
    fn jobs_added_after_the_same_job_merge_by_name() {
        let ours = format!(
            "{CI}\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make docs\n"
        );
        let theirs = format!(
            "{CI}\n  model:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make train\n"
        );
        assert_eq!(lines::merge(CI, &ours, &theirs, &labels()).conflicts, 1);
        check(
            CI,
            &ours,
            &theirs,
            &format!(
                "{CI}\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make docs\n\n  \
                 model:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make train\n"
            ),
        );
    }

    #[test]
    fn steps_and_inputs_merge_by_name_and_action() {
        let base = "steps:\n  - uses: actions/setup-python@v5\n    with:\n      python-version: \"3.11\"\n  - name: Test\n    run: make test\n";
        let ours = "steps:\n  - uses: actions/setup-python@v5\n    with:\n      python-version: \"3.11\"\n      cache: pip\n  - name: Lint\n    run: make lint\n  - name: Test\n    run: make test\n";
        let theirs = "steps:\n  - uses: actions/setup-python@v6\n    with:\n      python-version: \"3.11\"\n      check-latest: true\n  - name: Test\n    run: make test\n  - name: Coverage\n    run: make coverage\n";
        assert_eq!(lines::merge(base, ours, theirs, &labels()).conflicts, 1);
        check(
            base,
            ours,
            theirs,
            "steps:\n  - uses: actions/setup-python@v6\n    with:\n      python-version: \"3.11\"\n      cache: pip\n      check-latest: true\n  \
             - name: Lint\n    run: make lint\n  - name: Test\n    run: make test\n  - name: Coverage\n    run: make coverage\n",
        );
    }

    #[test]
    fn the_same_key_changed_on_both_sides_still_conflicts() {
        let merged = merge(
            CI,
            &CI.replace("runs-on: ubuntu-latest", "runs-on: self-hosted"),
            &CI.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-24.04"),
            &labels(),
        )
        .unwrap();
        assert_eq!(merged.conflicts, 1);
        assert!(
            merged
                .text
                .contains("<<<<<<< yours\n    runs-on: self-hosted\n||||||| level 1\n    runs-on: ubuntu-latest\n"),
            "{}",
            merged.text
        );
        // Two jobs of the same name, different: one conflict, each whole when both are kept.
        let ours = format!("{CI}  lint:\n    runs-on: a\n");
        let theirs = format!("{CI}  lint:\n    runs-on: b\n");
        let merged = merge(CI, &ours, &theirs, &labels()).unwrap();
        assert_eq!(merged.conflicts, 1);
        assert!(
            keep_both(&merged.text).ends_with("  lint:\n    runs-on: a\n  lint:\n    runs-on: b\n")
        );
    }

    #[test]
    fn block_scalars_compact_sequences_and_comments_are_followed() {
        let text = "# top\nkey: |\n  text\n\n  # not a comment\nlist:\n- a\n- b\n# about c\nc: 1\n";
        let (doc, level) = cut(text).unwrap();
        assert_eq!(level, Some(0));
        let keys: Vec<&str> = doc.blocks.iter().map(|block| block.key.as_str()).collect();
        assert_eq!(keys, ["key", "list", "c"]);
        assert_eq!(doc.blocks[2].text, "# about c\nc: 1\n");
        assert!(is_block_scalar("run: |\n"));
        assert!(is_block_scalar("  - >-\n"));
        assert!(!is_block_scalar("run: a | b\n"));
    }

    #[test]
    fn what_does_not_read_as_yaml_declines() {
        check("a: 1\n", "a: [1\n", "a: 2\n", "declined");
        check("a: 1\n", "a: 1\n---\nb: 2\n", "a: 2\n", "declined");
    }
}
