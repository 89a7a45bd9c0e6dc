//! Code without its comments: Python without `#` comments and docstrings, YAML, shell and
//! Makefiles without `#` comments, Groovy (Jenkinsfiles) without `//` and `/* */` comments.
//! Strings are kept, so that `https://x/#a` survives.

/// Python without comments and without triple-quoted strings (docstrings, mostly).
pub(super) fn python_code(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    let mut in_triple: Option<&str> = None;
    for line in text.lines() {
        let line_start = code.len();
        let mut rest = line;
        loop {
            if let Some(quote) = in_triple {
                match rest.find(quote) {
                    Some(end) => {
                        rest = &rest[end + 3..];
                        in_triple = None;
                    }
                    None => break,
                }
            } else {
                let (before, opened) = split_before_comment_or_triple(rest);
                code.push_str(before);
                match opened {
                    Some(quote) => {
                        rest = &rest[before.len() + 3..];
                        in_triple = Some(quote);
                    }
                    None => break,
                }
            }
        }
        let kept = code[line_start..].trim_end().len();
        if code[line_start..].trim_start().is_empty() {
            code.truncate(line_start);
        } else {
            code.truncate(line_start + kept);
            code.push('\n');
        }
    }
    code
}

/// The part of `line` before a `#` comment or a triple quote outside a string, and the triple
/// quote found, if any.
///
/// It reads bytes and cuts `line` only at a `#` or a quote: ASCII, which UTF-8 never uses inside
/// another character, so that every cut falls between characters (`α = 0.1  # lr`).
fn split_before_comment_or_triple(line: &str) -> (&str, Option<&'static str>) {
    let bytes = line.as_bytes();
    if !bytes.iter().any(|byte| matches!(byte, b'#' | b'"' | b'\'')) {
        return (line, None);
    }
    let mut quote: Option<u8> = None;
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if let Some(open) = quote {
            if byte == b'\\' {
                index += 1;
            } else if byte == open {
                quote = None;
            }
        } else if byte == b'#' {
            return (&line[..index], None);
        } else if bytes[index..].starts_with(b"\"\"\"") {
            return (&line[..index], Some("\"\"\""));
        } else if bytes[index..].starts_with(b"'''") {
            return (&line[..index], Some("'''"));
        } else if byte == b'"' || byte == b'\'' {
            quote = Some(byte);
        }
        index += 1;
    }
    (line, None)
}

/// Lines without `#` comments: whole-line ones, and trailing ones after a space outside quotes.
pub(super) fn hash_comments_removed(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        let kept = strip_trailing(line, |rest| rest.starts_with('#'));
        if !kept.trim().is_empty() {
            code.push_str(kept.trim_end());
            code.push('\n');
        }
    }
    code
}

/// Groovy (Jenkinsfiles) without `//` and `/* */` comments.
pub(super) fn slash_comments_removed(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    let mut in_block = false;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_block {
                match rest.find("*/") {
                    Some(end) => {
                        rest = &rest[end + 2..];
                        in_block = false;
                    }
                    None => break,
                }
            } else {
                let before = strip_trailing(rest, |rest| {
                    rest.starts_with("//") || rest.starts_with("/*")
                });
                kept.push_str(before);
                if rest[before.len()..].starts_with("/*") {
                    rest = &rest[before.len() + 2..];
                    in_block = true;
                } else {
                    break;
                }
            }
        }
        if !kept.trim().is_empty() {
            code.push_str(kept.trim_end());
            code.push('\n');
        }
    }
    code
}

/// `line` up to where `starts_comment` holds at the start of the line or after whitespace,
/// outside quotes (so `https://x` and `a#b` stay).
fn strip_trailing(line: &str, starts_comment: impl Fn(&str) -> bool) -> &str {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    for (index, &byte) in bytes.iter().enumerate() {
        match quote {
            Some(open) if byte == open => quote = None,
            Some(_) => {}
            None => {
                let after_space = index == 0 || bytes[index - 1].is_ascii_whitespace();
                if after_space && starts_comment(&line[index..]) {
                    return &line[..index];
                }
                if byte == b'"' || byte == b'\'' {
                    quote = Some(byte);
                }
            }
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(strip: fn(&str) -> String, text: &str, expected_code: &str) {
        assert_eq!(strip(text), expected_code, "{text:?}");
    }

    #[test]
    fn python_loses_comments_and_docstrings_but_keeps_strings() {
        check(
            python_code,
            "\"\"\"Uses mlflow.\n\nMore.\n\"\"\"\nimport os  # not mlflow\nURL = \"http://x/#a\"\nx = '#'\ndef f():\n    '''doc'''\n    return 1\n",
            "import os\nURL = \"http://x/#a\"\nx = '#'\ndef f():\n    return 1\n",
        );
    }

    #[test]
    fn yaml_and_groovy_lose_comments() {
        check(
            hash_comments_removed,
            "# train nightly\nrun: pytest  # tests\nurl: https://x/#y\n",
            "run: pytest\nurl: https://x/#y\n",
        );
        check(
            slash_comments_removed,
            "// train\nsh 'pytest' // run\n/* a\nb */ sh 'curl https://x'\n",
            "sh 'pytest'\n sh 'curl https://x'\n",
        );
    }

    #[test]
    fn text_that_is_not_ascii_before_a_comment_or_a_quote() {
        check(python_code, "α = 0.1  # lr\n", "α = 0.1\n");
        check(python_code, "café = \"x\"\n", "café = \"x\"\n");
        check(
            python_code,
            "naïve = '''é'''  # é\nπ = 3\n",
            "naïve =\nπ = 3\n",
        );
        check(python_code, "s = 'ü\\'' # x\n", "s = 'ü\\''\n");
        check(python_code, "\"\"\"日本語\"\"\"\nx = 1  # 😀\n", "x = 1\n");
        check(hash_comments_removed, "name: café  # é\n", "name: café\n");
        check(
            slash_comments_removed,
            "sh 'écho' // é\n/* ü */ sh 'ß'\n",
            "sh 'écho'\n sh 'ß'\n",
        );
    }
}
