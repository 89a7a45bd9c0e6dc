//! The 3-way file merge: base (what the generator wrote), ours (the user's file), theirs (what
//! the next level generates).
//!
//! A file whose structure tells independent additions apart is merged by that structure first:
//! `.gitignore` and `.dockerignore` as sets of lines (`line_set`), TOML by tables, keys and
//! dependency arrays (`toml`), YAML by mapping keys and by sequence items named by `id` or `name`
//! (`yaml`), a Makefile by rules, variables and `.PHONY` prerequisites (`makefile`), Python by
//! top-level definitions (`python`); the last three cut the text into keyed blocks and merge
//! those (`blocks`). A structured merge that cannot read a side, or whose result would not read
//! back, declines, and the line merge (`lines`) takes over: the user's text is never
//! reformatted. Every merge says which strategy it used.
//!
//! Line endings: the three sides are merged with LF endings and the result takes the user's
//! endings back, so a file the user converted to CRLF merges line by line instead of becoming one
//! whole-file conflict. Binary files: anything with a NUL byte or invalid UTF-8 is never merged;
//! the caller keeps the user's file and writes the new version beside it. Conflicts are written
//! diff3-style, with labels that name the sides. Pure: bytes in, bytes out.

mod blocks;
mod line_set;
mod lines;
mod makefile;
mod markers;
mod python;
mod toml;
mod yaml;

use serde::Serialize;

pub(crate) use markers::has_conflict_markers;

/// What to call each side in conflict markers.
#[derive(Debug, Clone)]
pub(crate) struct Labels {
    pub(crate) ours: String,
    pub(crate) base: String,
    pub(crate) theirs: String,
}

/// How a file was merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Strategy {
    /// Line by line (diff3).
    Lines,
    /// As a set of lines: `.gitignore`, `.dockerignore`.
    LineSet,
    /// By TOML tables, keys and array items.
    Toml,
    /// By YAML mapping keys and named sequence items.
    Yaml,
    /// By Makefile rules, variables and `.PHONY` prerequisites.
    Makefile,
    /// By Python top-level definitions and statements.
    Python,
}

impl Strategy {
    /// How the preview names the strategy.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Lines => "line by line",
            Self::LineSet => "as a set of lines",
            Self::Toml => "by TOML structure",
            Self::Yaml => "by YAML structure",
            Self::Makefile => "by Makefile rules",
            Self::Python => "by Python definitions",
        }
    }

    /// The structured strategy for a file, by its name.
    fn for_path(path: &str) -> Self {
        let name = path.rsplit('/').next().unwrap_or(path);
        let extension = name.rsplit_once('.').map(|(_, extension)| extension);
        match (name, extension) {
            (".gitignore" | ".dockerignore", _) => Self::LineSet,
            ("Makefile" | "makefile" | "GNUmakefile", _) | (_, Some("mk")) => Self::Makefile,
            (_, Some("toml")) => Self::Toml,
            (_, Some("yml" | "yaml")) => Self::Yaml,
            (_, Some("py")) => Self::Python,
            _ => Self::Lines,
        }
    }
}

/// A merged text and the number of conflict regions in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextMerge {
    pub(crate) text: String,
    pub(crate) conflicts: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Merged {
    /// Every change merged; the content to write.
    Clean {
        content: Vec<u8>,
        strategy: Strategy,
    },
    /// Written with conflict markers; `conflicts` is the number of conflicted regions.
    Conflicted {
        content: Vec<u8>,
        conflicts: usize,
        strategy: Strategy,
    },
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

/// Merges `base` to `theirs` into `ours`, by the structure the file at `path` has if it has one.
/// A missing base (a file both sides added) merges as if the base were empty, which conflicts
/// wherever the two differ.
pub(crate) fn merge(
    path: &str,
    base: Option<&[u8]>,
    ours: &[u8],
    theirs: &[u8],
    labels: &Labels,
) -> Merged {
    let base = base.unwrap_or_default();
    let (Ok(base), Ok(ours), Ok(theirs)) = (
        std::str::from_utf8(base),
        std::str::from_utf8(ours),
        std::str::from_utf8(theirs),
    ) else {
        return Merged::Binary;
    };
    if [base, ours, theirs].iter().any(|side| side.contains('\0')) {
        return Merged::Binary;
    }
    let ending = line_ending(ours);
    let (base, ours_lf, theirs) = (to_lf(base), to_lf(ours), to_lf(theirs));
    let (merged, strategy) = merge_text(Strategy::for_path(path), &base, &ours_lf, &theirs, labels);
    let content = with_ending(&merged.text, ending).into_bytes();
    if merged.conflicts == 0 {
        Merged::Clean { content, strategy }
    } else {
        Merged::Conflicted {
            content,
            conflicts: merged.conflicts,
            strategy,
        }
    }
}

/// Writes the whole of `ours` and of `theirs` as one conflict with an empty base.
pub(crate) fn write_whole_conflict(out: &mut String, ours: &str, theirs: &str, labels: &Labels) {
    lines::write_conflict(
        out,
        &lines::split_lines(ours),
        &[],
        &lines::split_lines(theirs),
        labels,
    );
}

/// Merges LF texts by `strategy`, or line by line if it declines.
fn merge_text(
    strategy: Strategy,
    base: &str,
    ours: &str,
    theirs: &str,
    labels: &Labels,
) -> (TextMerge, Strategy) {
    let structured = match strategy {
        Strategy::Lines => None,
        Strategy::LineSet => Some(line_set::merge(base, ours, theirs, labels)),
        Strategy::Toml => toml::merge(base, ours, theirs, labels),
        Strategy::Yaml => yaml::merge(base, ours, theirs, labels),
        Strategy::Makefile => makefile::merge(base, ours, theirs, labels),
        Strategy::Python => python::merge(base, ours, theirs, labels),
    };
    match structured {
        Some(merged) => (merged, strategy),
        None => (lines::merge(base, ours, theirs, labels), Strategy::Lines),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, base: &str, ours: &str, theirs: &str, expected: &str) {
        let actual = match merge(
            path,
            Some(base.as_bytes()),
            ours.as_bytes(),
            theirs.as_bytes(),
            &lines::tests::labels(),
        ) {
            Merged::Clean { content, strategy } => {
                format!("{strategy:?}\n{}", String::from_utf8(content).unwrap())
            }
            Merged::Conflicted {
                content,
                conflicts,
                strategy,
            } => {
                format!(
                    "{strategy:?}, {conflicts} conflict(s)\n{}",
                    String::from_utf8(content).unwrap()
                )
            }
            Merged::Binary => "binary".to_owned(),
        };
        assert_eq!(actual, expected);
    }

    #[test]
    fn the_strategy_follows_the_file_name() {
        let cases = [
            ("a/.gitignore", Strategy::LineSet),
            (".dockerignore", Strategy::LineSet),
            ("pyproject.toml", Strategy::Toml),
            (".github/workflows/ci.yml", Strategy::Yaml),
            ("configs/train.yaml", Strategy::Yaml),
            ("Makefile", Strategy::Makefile),
            ("rules.mk", Strategy::Makefile),
            ("src/demo/train.py", Strategy::Python),
            ("README.md", Strategy::Lines),
            ("Dockerfile", Strategy::Lines),
        ];
        for (path, expected) in cases {
            assert_eq!(Strategy::for_path(path), expected, "{path}");
        }
    }

    #[test]
    fn crlf_files_merge_line_by_line_and_keep_their_endings() {
        check(
            "README.md",
            "a\nb\nc\nd\n",
            "A\r\nb\r\nc\r\nd\r\n",
            "a\nb\nc\nD\n",
            "Lines\nA\r\nb\r\nc\r\nD\r\n",
        );
        check(
            "README.md",
            "a\nb\n",
            "a\r\nb\r\n",
            "a\nb\nc\n",
            "Lines\na\r\nb\r\nc\r\n",
        );
    }

    #[test]
    fn binary_sides_are_not_merged() {
        let labels = lines::tests::labels();
        assert_eq!(
            merge("logo.png", Some(b"a\n"), b"\x89PNG\0", b"a\n", &labels),
            Merged::Binary
        );
        assert_eq!(
            merge("a", None, b"a\n", &[0xff, 0xfe], &labels),
            Merged::Binary
        );
    }

    #[test]
    fn both_sides_adding_different_files_is_one_conflict() {
        let merged = merge(
            "notes.txt",
            None,
            b"shared\nmine\nend\n",
            b"shared\ntheirs\nend\n",
            &lines::tests::labels(),
        );
        let expected = "<<<<<<< yours\nshared\nmine\nend\n||||||| level 1\n=======\nshared\ntheirs\nend\n>>>>>>> level 2\n";
        assert_eq!(
            merged,
            Merged::Conflicted {
                content: expected.as_bytes().to_vec(),
                conflicts: 1,
                strategy: Strategy::Lines,
            }
        );
    }

    #[test]
    fn a_structured_merge_that_declines_falls_back_to_lines() {
        // Not TOML on your side: merged line by line, untouched elsewhere.
        check(
            "pyproject.toml",
            "a = 1\nb = 2\n",
            "a = 1\nb = 2\n[[[ not toml\n",
            "a = 3\nb = 2\n",
            "Lines\na = 3\nb = 2\n[[[ not toml\n",
        );
    }

    #[test]
    fn line_endings_are_detected() {
        assert_eq!(line_ending("a\r\nb\r\n"), LineEnding::CrLf);
        assert_eq!(line_ending("a\nb\r\nc\n"), LineEnding::Lf);
        assert_eq!(line_ending(""), LineEnding::Lf);
    }
}
