//! The only caller of dialoguer: asks the questions of `answers.rs` on a terminal.

use anyhow::Context as _;
use dialoguer::{Input, Select};

use crate::answers::{LEVEL_KEY, Prompter, Question};

/// Prompts on the terminal; `level_labels` describe the levels in the level menu.
pub struct TerminalPrompter {
    pub level_labels: Vec<String>,
}

impl Prompter for TerminalPrompter {
    fn text(
        &mut self,
        question: &Question,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> anyhow::Result<String> {
        Input::<String>::new()
            .with_prompt(question.prompt)
            .default(default.to_owned())
            .allow_empty(true)
            .validate_with(|value: &String| validate(value))
            .interact_text()
            .with_context(|| format!("could not read the answer to `{}`", question.key))
    }

    fn choice(&mut self, question: &Question, default: usize) -> anyhow::Result<usize> {
        let labels: Vec<String> =
            if question.key == LEVEL_KEY && self.level_labels.len() == question.choices.len() {
                self.level_labels.clone()
            } else {
                question
                    .choices
                    .iter()
                    .map(|choice| (*choice).to_owned())
                    .collect()
            };
        Select::new()
            .with_prompt(question.prompt)
            .items(&labels)
            .default(default)
            .interact()
            .with_context(|| format!("could not read the answer to `{}`", question.key))
    }
}
