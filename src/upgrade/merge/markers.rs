//! Recognising conflict markers left in a file: a merge that was never resolved.
//!
//! A file holds markers when it has, in this order, a line starting `<<<<<<<`, a line that is
//! exactly `=======`, and a line starting `>>>>>>>` (each marker followed by a space or the end
//! of the line), as git, diff3 and `mlops upgrade` write them. One such line alone (a Markdown
//! heading underlined with `=======`, say) is not enough. Pure; `mlops assess` may reuse it.

/// True if `content` still holds a conflict: an opening, a separating and a closing marker line,
/// in that order. Binary content and CRLF endings are read the same way.
pub(crate) fn has_conflict_markers(content: &[u8]) -> bool {
    let marker = |line: &[u8], sign: u8| {
        line.len() >= 7
            && line[..7].iter().all(|byte| *byte == sign)
            && matches!(line.get(7), None | Some(b' ' | b'\t'))
    };
    let mut expected = 0;
    for line in content.split(|byte| *byte == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        expected = match expected {
            0 if marker(line, b'<') => 1,
            1 if line == b"=======" => 2,
            2 if marker(line, b'>') => return true,
            other => other,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(content: &str, expected: bool) {
        assert_eq!(
            has_conflict_markers(content.as_bytes()),
            expected,
            "{content:?}"
        );
    }

    #[test]
    fn markers() {
        check("a\n<<<<<<< yours\nb\n=======\nc\n>>>>>>> level 2\n", true);
        check(
            "<<<<<<< yours\nb\n||||||| level 1\nx\n=======\nc\n>>>>>>> level 2",
            true,
        );
        check("<<<<<<<\r\nb\r\n=======\r\nc\r\n>>>>>>>\r\n", true);
        check("Title\n=======\n\ntext\n", false);
        check("<<<<<<< yours\nb\n=======\nc\n", false);
        check("a <<<<<<< b\n=======\n>>>>>>> c\n", false);
        check("<<<<<<<< eight\n=======\n>>>>>>> c\n", false);
        check(">>>>>>> first\n=======\n<<<<<<< last\n", false);
        check("", false);
    }
}
