//! The 3-way file merge: base (what the generator wrote), ours (the user's file), theirs (what
//! the next level generates).
//!
//! Line-based, through `similar`'s merge, with two things added. Line endings: the three sides
//! are compared with LF endings and the result takes the user's endings back, so a file the user
//! converted to CRLF merges line by line instead of becoming one whole-file conflict. Binary
//! files: anything with a NUL byte or invalid UTF-8 is never merged; the caller keeps the user's
//! file and writes the new version beside it. Conflicts are written diff3-style, with labels that
//! name the sides. Pure: bytes in, bytes out.

use std::fmt::Write as _;

use similar::{MergeResolution, TextMerge};

/// What to call each side in conflict markers.
#[derive(Debug, Clone)]
pub(crate) struct Labels {
    pub(crate) ours: String,
    pub(crate) base: String,
    pub(crate) theirs: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Merged {
    /// Every change merged; the content to write.
    Clean(Vec<u8>),
    /// Written with conflict markers; `conflicts` is the number of conflicted regions.
    Conflicted { content: Vec<u8>, conflicts: usize },
    /// At least one side is not text.
    Binary,
}

/// True if `content` should not be merged line by line.
pub(crate) fn is_binary(content: &[u8]) -> bool {
    content.contains(&0) || std::str::from_utf8(content).is_err()
}

/// Line endings of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnding {
    Lf,
    CrLf,
}

/// The ending most lines of `text` use; LF when there are none.
pub(crate) fn line_ending(text: &str) -> LineEnding {
    let crlf = text.matches("\r\n").count();
    let lf = text.matches('\n').count() - crlf;
    if crlf > lf {
        LineEnding::CrLf
    } else {
        LineEnding::Lf
    }
}

fn to_lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

fn with_ending(text: &str, ending: LineEnding) -> String {
    match ending {
        LineEnding::Lf => text.to_owned(),
        LineEnding::CrLf => text.replace('\n', "\r\n"),
    }
}

/// Merges `base` to `theirs` into `ours`. A missing base (a file both sides added) merges as if
/// the base were empty, which conflicts wherever the two differ.
pub(crate) fn merge(base: Option<&[u8]>, ours: &[u8], theirs: &[u8], labels: &Labels) -> Merged {
    let base = base.unwrap_or_default();
    if [base, ours, theirs].iter().any(|side| is_binary(side)) {
        return Merged::Binary;
    }
    let as_text = |bytes: &[u8]| {
        std::str::from_utf8(bytes)
            .expect("checked above")
            .to_owned()
    };
    let (base, ours, theirs) = (as_text(base), as_text(ours), as_text(theirs));
    let ending = line_ending(&ours);
    let (base, ours_lf, theirs) = (to_lf(&base), to_lf(&ours), to_lf(&theirs));

    let text_merge = TextMerge::from_lines(base.as_str(), ours_lf.as_str(), theirs.as_str());
    let (merged, conflicts) = write_merge(&text_merge, labels);
    let merged = with_ending(&merged, ending);
    if conflicts == 0 {
        Merged::Clean(merged.into_bytes())
    } else {
        Merged::Conflicted {
            content: merged.into_bytes(),
            conflicts,
        }
    }
}

/// The merged text, diff3-style, and the number of conflicts in it. A conflict whose base is
/// empty (both sides added text at the same place, as when a file was added on both sides) is
/// narrowed to the lines that differ, as git's zealous merge does: lines both sides added are
/// written once.
fn write_merge(merge: &TextMerge<'_, '_, '_, str>, labels: &Labels) -> (String, usize) {
    let mut out = String::new();
    let mut conflicts = 0;
    for region in merge.regions() {
        let ours = side_lines(region.ours_range(), |index| merge.ours_line(index));
        match region.resolution() {
            MergeResolution::Theirs => {
                push_lines(
                    &mut out,
                    &side_lines(region.theirs_range(), |index| merge.theirs_line(index)),
                );
            }
            MergeResolution::Conflict => {
                let base = side_lines(region.base_range(), |index| merge.base_line(index));
                let theirs = side_lines(region.theirs_range(), |index| merge.theirs_line(index));
                if base.is_empty() {
                    conflicts += write_narrowed(&mut out, &ours, &theirs, labels);
                } else {
                    write_conflict(&mut out, &ours, &base, &theirs, labels);
                    conflicts += 1;
                }
            }
            _ => push_lines(&mut out, &ours),
        }
    }
    (out, conflicts)
}

fn side_lines<'a>(
    range: std::ops::Range<usize>,
    line: impl Fn(usize) -> Option<&'a str>,
) -> Vec<String> {
    range
        .map(|index| line(index).expect("a merge range is in bounds").to_owned())
        .collect()
}

fn push_lines(out: &mut String, lines: &[String]) {
    for line in lines {
        out.push_str(line);
    }
}

/// Ends the output with a newline, so that a marker starts its own line.
fn end_line(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn write_conflict(
    out: &mut String,
    ours: &[String],
    base: &[String],
    theirs: &[String],
    labels: &Labels,
) {
    end_line(out);
    let _ = writeln!(out, "<<<<<<< {}", labels.ours);
    push_lines(out, ours);
    end_line(out);
    let _ = writeln!(out, "||||||| {}", labels.base);
    push_lines(out, base);
    end_line(out);
    out.push_str("=======\n");
    push_lines(out, theirs);
    end_line(out);
    let _ = writeln!(out, ">>>>>>> {}", labels.theirs);
}

/// Writes what both sides added at one place: lines they share once, each stretch where they
/// differ as a conflict. Returns the number of conflicts.
fn write_narrowed(out: &mut String, ours: &[String], theirs: &[String], labels: &Labels) -> usize {
    let mut conflicts = 0;
    let (mut pending_ours, mut pending_theirs): (Vec<String>, Vec<String>) =
        (Vec::new(), Vec::new());
    let mut flush =
        |out: &mut String, pending_ours: &mut Vec<String>, pending_theirs: &mut Vec<String>| {
            if !pending_ours.is_empty() || !pending_theirs.is_empty() {
                write_conflict(out, pending_ours, &[], pending_theirs, labels);
                conflicts += 1;
                pending_ours.clear();
                pending_theirs.clear();
            }
        };
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, ours, theirs) {
        let (old, new) = (op.old_range(), op.new_range());
        if op.tag() == similar::DiffTag::Equal {
            flush(out, &mut pending_ours, &mut pending_theirs);
            push_lines(out, &ours[old]);
        } else {
            pending_ours.extend_from_slice(&ours[old]);
            pending_theirs.extend_from_slice(&theirs[new]);
        }
    }
    flush(out, &mut pending_ours, &mut pending_theirs);
    conflicts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels {
            ours: "yours".to_owned(),
            base: "level 1".to_owned(),
            theirs: "level 2".to_owned(),
        }
    }

    fn check(base: &str, ours: &str, theirs: &str, expected: &str) {
        let actual = match merge(
            Some(base.as_bytes()),
            ours.as_bytes(),
            theirs.as_bytes(),
            &labels(),
        ) {
            Merged::Clean(content) => String::from_utf8(content).unwrap(),
            Merged::Conflicted { content, conflicts } => {
                format!(
                    "{conflicts} conflict(s)\n{}",
                    String::from_utf8(content).unwrap()
                )
            }
            Merged::Binary => "binary".to_owned(),
        };
        assert_eq!(actual, expected);
    }

    #[test]
    fn edits_far_apart_merge() {
        check(
            "a\nb\nc\nd\ne\n",
            "A\nb\nc\nd\ne\n",
            "a\nb\nc\nd\nE\n",
            "A\nb\nc\nd\nE\n",
        );
        check("a\nb\n", "a\nb\n", "a\nb\nc\n", "a\nb\nc\n");
        check(
            "a\nb\n",
            "a\nb\nmine\n",
            "theirs\na\nb\n",
            "theirs\na\nb\nmine\n",
        );
    }

    #[test]
    fn the_same_change_on_both_sides_is_not_a_conflict() {
        check("a\nb\n", "a\nB\n", "a\nB\n", "a\nB\n");
    }

    #[test]
    fn overlapping_edits_conflict_with_named_sides() {
        check(
            "a\nb\nc\n",
            "a\nmine\nc\n",
            "a\ntheirs\nc\n",
            "1 conflict(s)\na\n<<<<<<< yours\nmine\n||||||| level 1\nb\n=======\ntheirs\n>>>>>>> level 2\nc\n",
        );
    }

    #[test]
    fn crlf_files_merge_line_by_line_and_keep_their_endings() {
        check(
            "a\nb\nc\nd\n",
            "A\r\nb\r\nc\r\nd\r\n",
            "a\nb\nc\nD\n",
            "A\r\nb\r\nc\r\nD\r\n",
        );
        check("a\nb\n", "a\r\nb\r\n", "a\nb\nc\n", "a\r\nb\r\nc\r\n");
    }

    #[test]
    fn binary_sides_are_not_merged() {
        assert_eq!(
            merge(Some(b"a\n"), b"\x89PNG\0", b"a\n", &labels()),
            Merged::Binary
        );
        assert_eq!(
            merge(None, b"a\n", &[0xff, 0xfe], &labels()),
            Merged::Binary
        );
    }

    #[test]
    fn both_sides_adding_different_files_conflict_only_where_they_differ() {
        let merged = merge(
            None,
            b"shared\nmine\nend\n",
            b"shared\ntheirs\nend\n",
            &labels(),
        );
        let expected =
            "shared\n<<<<<<< yours\nmine\n||||||| level 1\n=======\ntheirs\n>>>>>>> level 2\nend\n";
        assert_eq!(
            merged,
            Merged::Conflicted {
                content: expected.as_bytes().to_vec(),
                conflicts: 1
            }
        );
        let whole = merge(None, b"mine\n", b"theirs\n", &labels());
        assert!(
            matches!(whole, Merged::Conflicted { conflicts: 1, .. }),
            "{whole:?}"
        );
    }

    #[test]
    fn a_last_line_without_newline_still_gets_markers_on_their_own_lines() {
        check(
            "a\nb",
            "a\nmine",
            "a\ntheirs",
            "1 conflict(s)\na\n<<<<<<< yours\nmine\n||||||| level 1\nb\n=======\ntheirs\n>>>>>>> level 2\n",
        );
    }

    #[test]
    fn line_endings_are_detected() {
        assert_eq!(line_ending("a\r\nb\r\n"), LineEnding::CrLf);
        assert_eq!(line_ending("a\nb\r\nc\n"), LineEnding::Lf);
        assert_eq!(line_ending(""), LineEnding::Lf);
    }
}
