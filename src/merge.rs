//! The 3-way file merge: base (what the generator wrote), ours (the user's file), theirs (what
//! the next level generates).
//!
//! Line-based, through `similar`'s merge, with two things added. Line endings: the three sides
//! are compared with LF endings and the result takes the user's endings back, so a file the user
//! converted to CRLF merges line by line instead of becoming one whole-file conflict. Binary
//! files: anything with a NUL byte or invalid UTF-8 is never merged; the caller keeps the user's
//! file and writes the new version beside it. Conflicts are written diff3-style, with labels that
//! name the sides. Pure: bytes in, bytes out.

use similar::{ConflictStyle, TextMerge};

/// What to call each side in conflict markers.
#[derive(Debug, Clone)]
pub struct Labels {
    pub ours: String,
    pub base: String,
    pub theirs: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Every change merged; the content to write.
    Clean(Vec<u8>),
    /// Written with conflict markers; `conflicts` is the number of conflicted regions.
    Conflicted { content: Vec<u8>, conflicts: usize },
    /// At least one side is not text.
    Binary,
}

/// True if `content` should not be merged line by line.
pub fn is_binary(content: &[u8]) -> bool {
    content.contains(&0) || std::str::from_utf8(content).is_err()
}

/// Line endings of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    CrLf,
}

/// The ending most lines of `text` use; LF when there are none.
pub fn line_ending(text: &str) -> LineEnding {
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
pub fn merge(base: Option<&[u8]>, ours: &[u8], theirs: &[u8], labels: &Labels) -> Merged {
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

    let mut text_merge = TextMerge::from_lines(base.as_str(), ours_lf.as_str(), theirs.as_str());
    text_merge.conflict_style(ConflictStyle::Diff3).labels(
        &labels.base,
        &labels.ours,
        &labels.theirs,
    );
    let conflicts = text_merge.conflict_count();
    let merged = with_ending(&text_merge.to_string(), ending);
    if conflicts == 0 {
        Merged::Clean(merged.into_bytes())
    } else {
        Merged::Conflicted {
            content: merged.into_bytes(),
            conflicts,
        }
    }
}

/// `theirs` in the user's line endings: what replaces a file the user only re-encoded.
pub fn in_line_ending_of(ours: &[u8], theirs: &[u8]) -> Vec<u8> {
    match (std::str::from_utf8(ours), std::str::from_utf8(theirs)) {
        (Ok(ours), Ok(theirs)) => with_ending(&to_lf(theirs), line_ending(ours)).into_bytes(),
        _ => theirs.to_vec(),
    }
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
    fn both_sides_adding_different_files_conflict() {
        let merged = merge(None, b"mine\n", b"theirs\n", &labels());
        assert!(
            matches!(merged, Merged::Conflicted { conflicts: 1, .. }),
            "{merged:?}"
        );
    }

    #[test]
    fn line_endings_are_detected() {
        assert_eq!(line_ending("a\r\nb\r\n"), LineEnding::CrLf);
        assert_eq!(line_ending("a\nb\r\nc\n"), LineEnding::Lf);
        assert_eq!(line_ending(""), LineEnding::Lf);
        assert_eq!(
            in_line_ending_of(b"x\r\n", b"a\nb\n"),
            b"a\r\nb\r\n".to_vec()
        );
    }
}
