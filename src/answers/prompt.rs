//! The only caller of dialoguer: asks the questions of `resolve` on a terminal.
//!
//! Menu items are cut to the terminal's width, because dialoguer counts the lines it must clear
//! by bytes and assumes one line per item: a wrapped item leaves the menu on the screen or erases
//! the title. Escape or `q` in a menu cancels, as Ctrl-C does in a text prompt.

use anyhow::Context as _;
use dialoguer::console::Term;
use dialoguer::{Input, Select};

use super::key::AnswerKey;
use super::resolve::Prompter;

/// Prompts on the terminal.
pub(crate) struct TerminalPrompter {
    /// What each level means, for the level menu (`0  No MLOps: one person, ...`); the level
    /// names alone when empty.
    level_labels: Vec<String>,
}

impl TerminalPrompter {
    pub(crate) fn new(level_labels: Vec<String>) -> Self {
        Self { level_labels }
    }
}

impl Prompter for TerminalPrompter {
    fn text(
        &mut self,
        key: AnswerKey,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> anyhow::Result<String> {
        Input::<String>::new()
            .with_prompt(key.prompt())
            .default(default.to_owned())
            .allow_empty(true)
            .validate_with(|value: &String| validate(value))
            .interact_text()
            .with_context(|| format!("could not read the answer to `{key}`"))
    }

    fn choice(
        &mut self,
        key: AnswerKey,
        choices: &[(String, &'static str)],
        default: usize,
    ) -> anyhow::Result<usize> {
        let labels: Vec<String> =
            if key == AnswerKey::Level && self.level_labels.len() == choices.len() {
                self.level_labels.clone()
            } else {
                choices
                    .iter()
                    .map(|(value, meaning)| {
                        if meaning.is_empty() {
                            value.clone()
                        } else {
                            format!("{value}  ({meaning})")
                        }
                    })
                    .collect()
            };
        // Two columns for dialoguer's cursor, one to spare so the terminal never wraps.
        let width = usize::from(Term::stderr().size().1)
            .saturating_sub(3)
            .max(20);
        let labels: Vec<String> = labels.iter().map(|label| fit(label, width)).collect();
        Select::new()
            .with_prompt(key.prompt())
            .items(&labels)
            .default(default)
            .interact_opt()
            .with_context(|| format!("could not read the answer to `{key}`"))?
            .ok_or_else(|| {
                anyhow::anyhow!("cancelled at the question `{key}`: nothing was written")
            })
    }
}

/// `label` cut to `width` bytes (dialoguer measures items in bytes), on a character boundary,
/// with `...` where it was cut.
fn fit(label: &str, width: usize) -> String {
    if label.len() <= width {
        return label.to_owned();
    }
    let mut end = width.saturating_sub(3);
    while !label.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &label[..end])
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn labels_fit_the_terminal() {
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("0123456789abc", 10), "0123456...");
        assert_eq!(fit("αβγδε", 8), "αβ...");
    }
}
