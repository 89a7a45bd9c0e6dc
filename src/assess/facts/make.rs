//! Makefile targets: what `make ...` in a CI pipeline runs, so that a thin pipeline is read
//! with the recipes it calls.
//!
//! Bounded, so that a hostile Makefile (one rule naming thousands of targets and prerequisites)
//! costs about what reading it costs: a rule is stored once however many targets it names, an
//! expansion appends each rule's recipe at most once (and so at most the Makefile's own size),
//! and the expansions of one repository share a [`Budget`] of work.

use std::collections::{BTreeMap, BTreeSet};

/// The rules of a Makefile, and which rules make each target.
#[derive(Debug, Clone, Default)]
pub(crate) struct MakeTargets {
    /// For each target, the rules that name it, in file order, as indexes into `rules`.
    targets: BTreeMap<String, Vec<usize>>,
    rules: Vec<Rule>,
}

/// One rule: `targets...: prerequisites...` and its recipe lines, lowercase.
#[derive(Debug, Clone, Default)]
struct Rule {
    prerequisites: Vec<String>,
    recipe: String,
}

/// What the expansions of one repository may still do, all pipelines together: targets to
/// visit, and bytes of recipes to append. Once it is spent, pipelines are read as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    steps: usize,
    bytes: usize,
}

impl Budget {
    /// A repository's budget: far more than the Makefiles of real projects need (tens of
    /// targets, kilobytes of recipes, a few pipelines), and milliseconds of work.
    pub(crate) fn per_repository() -> Self {
        Self {
            steps: 1_000_000,
            bytes: 4 * 1024 * 1024,
        }
    }
}

impl MakeTargets {
    pub(crate) fn parse(code: &str) -> Self {
        let mut targets: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut rules: Vec<Rule> = Vec::new();
        let mut current: Option<usize> = None;
        for line in code.lines() {
            if line.starts_with('\t') {
                if let Some(rule) = current {
                    let recipe = &mut rules[rule].recipe;
                    recipe.push_str(line.trim());
                    recipe.push('\n');
                }
                continue;
            }
            current = None;
            let Some((names, prerequisites)) = line.split_once(':') else {
                continue;
            };
            if prerequisites.starts_with('=') || names.contains('=') || names.starts_with('.') {
                continue;
            }
            if names.split_whitespace().next().is_none() {
                continue;
            }
            let index = rules.len();
            rules.push(Rule {
                prerequisites: prerequisites
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                recipe: String::new(),
            });
            for name in names.split_whitespace() {
                targets.entry(name.to_owned()).or_default().push(index);
            }
            current = Some(index);
        }
        Self { targets, rules }
    }

    /// The recipes that `make ...` invocations in `code` run, prerequisites included, each rule
    /// once, as far as `budget` goes.
    pub(crate) fn expand(&self, code: &str, budget: &mut Budget) -> String {
        let mut expanded = String::new();
        if self.rules.is_empty() {
            return expanded;
        }
        let mut pending: Vec<&str> = Vec::new();
        for (start, _) in code.match_indices("make ") {
            let before_ok = start == 0 || !code.as_bytes()[start - 1].is_ascii_alphanumeric();
            if !before_ok {
                continue;
            }
            let rest = &code[start + "make ".len()..];
            let command = rest
                .split(['\n', ';', '&', '|', ')'])
                .next()
                .unwrap_or_default();
            pending.extend(
                command
                    .split_whitespace()
                    .filter(|word| !word.starts_with('-') && !word.contains('='))
                    .map(|word| word.trim_matches(|c| c == '"' || c == '\'')),
            );
        }
        let mut seen = BTreeSet::new();
        let mut expanded_rules = BTreeSet::new();
        while let Some(target) = pending.pop() {
            if budget.steps == 0 {
                break;
            }
            budget.steps -= 1;
            if !seen.insert(target) {
                continue;
            }
            for &index in self.targets.get(target).into_iter().flatten() {
                if !expanded_rules.insert(index) {
                    continue;
                }
                let rule = &self.rules[index];
                if rule.recipe.len() > budget.bytes {
                    budget.bytes = 0;
                    return expanded;
                }
                budget.bytes -= rule.recipe.len();
                expanded.push_str(&rule.recipe);
                pending.extend(rule.prerequisites.iter().map(String::as_str));
            }
        }
        expanded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(targets: &MakeTargets, code: &str) -> String {
        targets.expand(code, &mut Budget::per_repository())
    }

    #[test]
    fn make_invocations_expand_to_their_recipes() {
        let targets = MakeTargets::parse(
            "PY ?= python\n.PHONY: all\nci: lint gate\nlint:\n\truff check .\ngate: train\n\t$(PY) -m pkg.gate\ntrain:\n\t$(PY) -m pkg.train\n",
        );
        let expanded = expand(&targets, "run: make ci\nrun: cmake x\n");
        assert!(expanded.contains("ruff check"));
        assert!(expanded.contains("pkg.gate"));
        assert!(expanded.contains("pkg.train"));
        assert_eq!(expand(&targets, "run: make -j2 lint V=1"), "ruff check .\n");
        assert_eq!(expand(&targets, "run: cmake train"), "");
    }

    #[test]
    fn a_target_of_several_rules_runs_each_in_file_order() {
        let targets =
            MakeTargets::parse("a: b\n\techo a1\nb:\n\techo b\na: c\n\techo a2\nc:\n\techo c\n");
        assert_eq!(
            expand(&targets, "make a"),
            "echo a1\necho a2\necho c\necho b\n"
        );
    }

    /// One rule naming `n` targets whose prerequisites are `n` others, which name the first
    /// ones in turn, each rule with a recipe of 100 lines: about 64 KiB for 2,500.
    fn thousands_of_targets(n: usize) -> String {
        let words = |range: std::ops::Range<usize>| -> String {
            range
                .map(|index| format!("t{index}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let recipe = (0..100)
            .map(|index| format!("\tpython -m steps.step_{index}\n"))
            .collect::<Vec<_>>()
            .concat();
        format!(
            "{}: {}\n{recipe}{}: {}\n{recipe}",
            words(0..n),
            words(n..2 * n),
            words(n..2 * n),
            words(0..n)
        )
    }

    #[test]
    fn a_rule_of_thousands_of_targets_is_stored_and_expanded_once() {
        let makefile = thousands_of_targets(2_500);
        assert!(makefile.len() <= 64 * 1024);
        let targets = MakeTargets::parse(&makefile);
        assert_eq!(targets.rules.len(), 2);
        let stored: usize = targets
            .rules
            .iter()
            .map(|rule| rule.prerequisites.len())
            .sum();
        assert_eq!(stored, 5_000);
        let mut budget = Budget::per_repository();
        let expanded = targets.expand("run: make t0 t1 t2\n", &mut budget);
        let recipe_bytes: usize = targets.rules.iter().map(|rule| rule.recipe.len()).sum();
        assert_eq!(expanded.len(), recipe_bytes);
        assert!(expanded.len() < makefile.len());
        assert_eq!(
            budget.steps,
            Budget::per_repository().steps - 5_003,
            "each target is visited once"
        );
    }

    #[test]
    fn the_expansions_of_a_repository_share_its_budget() {
        let targets = MakeTargets::parse(&thousands_of_targets(2_500));
        let mut budget = Budget {
            steps: 50_000,
            bytes: 40 * 1024,
        };
        let expansions: Vec<usize> = (0..20)
            .map(|_| targets.expand("run: make t0\n", &mut budget).len())
            .collect();
        let total: usize = expansions.iter().sum();
        assert!(total <= 40 * 1024, "{total} bytes");
        assert!(expansions[0] > 0);
        assert_eq!(expansions[19], 0, "the budget is spent");
        let mut one_step = Budget {
            steps: 1,
            bytes: 1_000_000,
        };
        let small = MakeTargets::parse("a: b\n\techo a\nb:\n\techo b\n");
        assert_eq!(small.expand("make a", &mut one_step), "echo a\n");
        assert_eq!(small.expand("make a", &mut one_step), "");
    }
}
