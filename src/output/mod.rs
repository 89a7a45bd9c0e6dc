//! Where results and errors meet the terminal: the error chain on one line, output cut short by
//! a closed pipe, and the styles every report uses.
//!
//! Reports are written with ANSI styles through `anstream`, which removes them when the output is
//! not a terminal or `NO_COLOR` is set; this is the only place that decides how an error looks.

mod style;

use std::io::Write as _;

pub(crate) use style::{BOLD, CYAN, DIM, GREEN, RED, YELLOW};

/// Output piped into a program that stopped reading (`mlops upgrade --dry-run | head`) is not
/// an error of ours.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, each cause once.
pub(crate) fn error_message(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// `text` with every control character written as an escape (`\u{1b}`, `\n`), so that a name or
/// value from a file or the command line can neither move the cursor, recolour the terminal nor
/// start a line that looks like one of ours.
pub(crate) fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// Prints `error: <message>` on stderr, control characters escaped.
pub(crate) fn report_error(error: &anyhow::Error) {
    let red_bold = RED.bold();
    let mut err = anstream::stderr().lock();
    let _ = writeln!(
        err,
        "{}error:{} {}",
        red_bold.render(),
        red_bold.render_reset(),
        escape_controls(&error_message(error))
    );
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("plain `x`"), "plain `x`");
        assert_eq!(
            escape_controls("a\u{1b}[31mred\nerror: forged"),
            "a\\u{1b}[31mred\\nerror: forged"
        );
    }
}
