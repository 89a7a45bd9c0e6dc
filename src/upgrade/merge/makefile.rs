//! A Makefile by its rules, variables and `.PHONY` prerequisites.
//!
//! The file is cut into blocks at lines that start something at the left margin: a rule (keyed
//! by its targets, and by the variable for a target-specific one), a variable (by its name), a
//! `define` or a conditional (to its `endef` or `endif`), anything else (by its text). Recipe
//! lines, indented lines and backslash continuations belong to the block above; comments directly
//! above a block belong to it.
//!
//! A `.PHONY` line's prerequisites are a set: the template's additions and removals are applied
//! to your list, which keeps its order, each added name after the one it follows in the
//! template. With several `.PHONY` lines, each is matched to the base line it shares most names
//! with, so a template that rewrites its one line and a team that adds its own line or names both
//! merge. A rule changed on both sides is merged line by line.

use std::collections::BTreeSet;

use super::blocks::{self, Doc, Line};
use super::lines::{self, split_lines};
use super::{Labels, TextMerge};

pub(super) fn merge(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    let base_doc = cut(base)?;
    let mut ours_doc = cut(ours)?;
    let mut theirs_doc = cut(theirs)?;
    match_phony_lines(&base_doc, &mut ours_doc);
    match_phony_lines(&base_doc, &mut theirs_doc);
    let inner = |base: &str, ours: &str, theirs: &str| {
        merge_phony(base, ours, theirs, labels)
            .unwrap_or_else(|| lines::merge(base, ours, theirs, labels))
    };
    let merged = blocks::merge(&base_doc, &ours_doc, &theirs_doc, labels, &inner);
    if merged.conflicts == 0 && cut(&merged.text).is_none() {
        return None;
    }
    Some(merged)
}

const PHONY: &str = ".PHONY:";

fn cut(text: &str) -> Option<Doc<'_>> {
    let mut kinds = Vec::new();
    let mut continued = false;
    let mut in_define = false;
    let mut conditionals = 0_usize;
    for line in split_lines(text) {
        let content = line.trim_end_matches(['\n', '\r']);
        let word = content.split_whitespace().next().unwrap_or("");
        let kind = if continued || in_define || conditionals > 0 {
            if in_define && word == "endef" {
                in_define = false;
            } else if !in_define && !continued {
                match word {
                    "ifeq" | "ifneq" | "ifdef" | "ifndef" => conditionals += 1,
                    "endif" => conditionals -= 1,
                    _ => {}
                }
            }
            Line::Cont
        } else if content.trim().is_empty() {
            Line::Blank
        } else if content.starts_with([' ', '\t']) {
            Line::Cont
        } else if content.starts_with('#') {
            Line::Comment
        } else {
            match word {
                "define" => in_define = true,
                "ifeq" | "ifneq" | "ifdef" | "ifndef" => conditionals = 1,
                "endif" | "endef" | "else" => return None,
                _ => {}
            }
            Line::Start
        };
        continued = content.ends_with('\\') && !content.trim_start().starts_with('#');
        kinds.push(kind);
    }
    if in_define || conditionals > 0 {
        return None;
    }
    let mut phony = 0;
    blocks::cut(text, &kinds, |lines, start| {
        let Some(start) = start else {
            return Some((lines.concat(), true));
        };
        let head = lines[start].trim_end();
        if head.starts_with(PHONY) {
            phony += 1;
            return Some((format!("{PHONY}#{phony}"), false));
        }
        Some(key(head).map_or_else(|| (lines.concat(), true), |key| (key, false)))
    })
}

/// The key of a block whose first line is `head`, if it names something.
fn key(head: &str) -> Option<String> {
    let word = head.split_whitespace().next()?;
    if word == "define" || word == "include" || word == "-include" {
        return Some(head.to_owned());
    }
    if let Some(name) = variable(head) {
        return Some(format!("variable {name}"));
    }
    let colon = head.find(':')?;
    let (targets, rest) = head.split_at(colon);
    if targets.contains('=') || rest.starts_with(":=") {
        return None;
    }
    let rest = rest.trim_start_matches(':');
    match variable(rest.trim_start()) {
        Some(name) => Some(format!("rule {} variable {name}", targets.trim())),
        None => Some(format!("rule {}", targets.trim())),
    }
}

/// The variable `line` assigns, if it is an assignment.
fn variable(line: &str) -> Option<&str> {
    let line = line
        .strip_prefix("export ")
        .or_else(|| line.strip_prefix("override "))
        .unwrap_or(line)
        .trim_start();
    let end = line.find(|char: char| char.is_whitespace() || "?:+!=".contains(char))?;
    let (name, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let assigns = ["=", "?=", ":=", "::=", "+=", "!="]
        .iter()
        .any(|operator| rest.starts_with(operator));
    (!name.is_empty() && assigns && !rest.starts_with("==")).then_some(name)
}

/// The names a `.PHONY` block declares, and the line that declares them, if it is one line.
fn phony_names(text: &str) -> Option<(usize, Vec<&str>)> {
    let lines = split_lines(text);
    let index = lines.iter().position(|line| line.starts_with(PHONY))?;
    if index + 1 != lines.len() || lines[index].trim_end().ends_with('\\') {
        return None;
    }
    let names = lines[index][PHONY.len()..].split_whitespace().collect();
    Some((index, names))
}

/// Gives each `.PHONY` block of `side` the key of the base `.PHONY` block it shares most names
/// with; one that shares none is its side's own.
fn match_phony_lines(base: &Doc<'_>, side: &mut Doc<'_>) {
    let names = |text: &str| -> BTreeSet<String> {
        phony_names(text).map_or_else(BTreeSet::new, |(_, names)| {
            names.into_iter().map(str::to_owned).collect()
        })
    };
    let base_lines: Vec<(String, BTreeSet<String>)> = base
        .blocks
        .iter()
        .filter(|block| block.key.starts_with(PHONY))
        .map(|block| (block.key.clone(), names(block.text)))
        .collect();
    let mut taken = BTreeSet::new();
    for block in side
        .blocks
        .iter_mut()
        .filter(|block| block.key.starts_with(PHONY))
    {
        let own = names(block.text);
        let best = base_lines
            .iter()
            .filter(|(key, _)| !taken.contains(key))
            .map(|(key, names)| (names.intersection(&own).count(), key))
            .filter(|(shared, _)| *shared > 0)
            .max_by_key(|(shared, _)| *shared);
        block.key = match best {
            Some((_, key)) => {
                taken.insert(key.clone());
                key.clone()
            }
            None => format!("{PHONY} {}", block.text.trim()),
        };
    }
}

/// A `.PHONY` block both sides changed: its names merged as a set, the comments above it line by
/// line. `None` if it is not one such line on every side, or is not written as `.PHONY: a b`.
fn merge_phony(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    let (base_line, base_names) = phony_names(base)?;
    let (ours_line, ours_names) = phony_names(ours)?;
    let (theirs_line, theirs_names) = phony_names(theirs)?;
    let render = |names: &[&str]| format!("{PHONY} {}\n", names.join(" "));
    if split_lines(ours)[ours_line] != render(&ours_names) {
        return None;
    }
    let removed: BTreeSet<&str> = base_names
        .iter()
        .filter(|name| !theirs_names.contains(name))
        .copied()
        .collect();
    let mut names: Vec<&str> = ours_names
        .iter()
        .filter(|name| !removed.contains(*name))
        .copied()
        .collect();
    for (index, name) in theirs_names.iter().enumerate() {
        if base_names.contains(name) || names.contains(name) {
            continue;
        }
        let after = theirs_names[..index]
            .iter()
            .rev()
            .find_map(|before| names.iter().position(|other| other == before));
        let mut position = after.map_or(0, |after| after + 1);
        // Past the names you added there, so that yours stay next to what they follow.
        while position < names.len()
            && !base_names.contains(&names[position])
            && !theirs_names.contains(&names[position])
        {
            position += 1;
        }
        names.insert(position, name);
    }
    let prefix = |text: &str, line: usize| -> String { split_lines(text)[..line].concat() };
    let comments = lines::merge(
        &prefix(base, base_line),
        &prefix(ours, ours_line),
        &prefix(theirs, theirs_line),
        labels,
    );
    Some(TextMerge {
        text: format!("{}{}", comments.text, render(&names)),
        conflicts: comments.conflicts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::merge::lines::tests::labels;

    fn check(base: &str, ours: &str, theirs: &str, expected: &str) {
        let actual = match merge(base, ours, theirs, &labels()) {
            None => "declined".to_owned(),
            Some(merged) if merged.conflicts == 0 => merged.text,
            Some(merged) => format!("{} conflict(s)\n{}", merged.conflicts, merged.text),
        };
        assert_eq!(actual, expected);
    }

    const BASE: &str = "PYTHON ?= python\n\n.PHONY: help train clean\n\nhelp: ## list\n\t@grep x\n\n\
                        train: ## train\n\t$(PYTHON) -m demo.train\n\nclean: ## clean\n\trm -rf models\n";

    #[test]
    fn a_team_target_and_a_rewritten_phony_line_merge() {
        let ours = BASE
            .replace(
                ".PHONY: help train clean",
                ".PHONY: help train features clean",
            )
            .replace(
                "\nclean:",
                "\nfeatures: train ## build the features\n\t$(PYTHON) -m demo.features\n\nclean:",
            );
        let theirs = BASE
            .replace(
                ".PHONY: help train clean",
                ".PHONY: help train evaluate clean",
            )
            .replace(
                "demo.train\n",
                "demo.pipeline\n\nevaluate: ## gate\n\t$(PYTHON) -m demo.gate\n",
            );
        // Line by line, the `.PHONY` line conflicts.
        assert_eq!(lines::merge(BASE, &ours, &theirs, &labels()).conflicts, 1);
        check(
            BASE,
            &ours,
            &theirs,
            "PYTHON ?= python\n\n.PHONY: help train features evaluate clean\n\nhelp: ## list\n\t@grep x\n\n\
             train: ## train\n\t$(PYTHON) -m demo.pipeline\n\nfeatures: train ## build the features\n\t$(PYTHON) -m demo.features\n\n\
             evaluate: ## gate\n\t$(PYTHON) -m demo.gate\n\nclean: ## clean\n\trm -rf models\n",
        );
    }

    #[test]
    fn a_phony_line_per_level_and_a_team_line_merge() {
        let ours = BASE.replace(
            ".PHONY: help train clean\n",
            ".PHONY: help train clean\n.PHONY: features\n",
        );
        let theirs = BASE.replace(
            ".PHONY: help train clean\n",
            ".PHONY: help train clean\n.PHONY: evaluate\n",
        );
        check(
            BASE,
            &ours,
            &theirs,
            &BASE.replace(
                ".PHONY: help train clean\n",
                ".PHONY: help train clean\n.PHONY: features\n.PHONY: evaluate\n",
            ),
        );
    }

    #[test]
    fn a_recipe_changed_on_both_sides_still_conflicts() {
        let ours = BASE.replace("demo.train\n", "demo.train --fast\n");
        let theirs = BASE.replace("demo.train\n", "demo.pipeline\n");
        check(
            BASE,
            &ours,
            &theirs,
            &format!(
                "1 conflict(s)\n{}",
                BASE.replace(
                    "\t$(PYTHON) -m demo.train\n",
                    "<<<<<<< yours\n\t$(PYTHON) -m demo.train --fast\n||||||| level 1\n\t$(PYTHON) -m demo.train\n\
                     =======\n\t$(PYTHON) -m demo.pipeline\n>>>>>>> level 2\n"
                )
            ),
        );
    }

    #[test]
    fn keys() {
        let cases = [
            ("PYTHON ?= python", Some("variable PYTHON")),
            (
                "export MLFLOW_DISABLE_TELEMETRY ?= true",
                Some("variable MLFLOW_DISABLE_TELEMETRY"),
            ),
            (
                "serve: export MODEL_URI := $(MODEL_URI)",
                Some("rule serve variable MODEL_URI"),
            ),
            ("train: ingest ## train", Some("rule train")),
            ("%.o: %.c", Some("rule %.o")),
            ("$(info hello)", None),
        ];
        for (head, expected) in cases {
            assert_eq!(key(head).as_deref(), expected, "{head}");
        }
    }

    #[test]
    fn an_unclosed_conditional_declines() {
        check(
            BASE,
            &format!("{BASE}ifeq ($(X),1)\nY = 1\n"),
            BASE,
            "declined",
        );
    }
}
