//! Makefile targets: what `make ...` in a CI pipeline runs, so that a thin pipeline is read
//! with the recipes it calls.

use std::collections::{BTreeMap, BTreeSet};

/// The targets of a Makefile: prerequisites and recipe text, lowercase.
#[derive(Debug, Clone, Default)]
pub(crate) struct MakeTargets {
    targets: BTreeMap<String, (Vec<String>, String)>,
}

impl MakeTargets {
    pub(crate) fn parse(code: &str) -> Self {
        let mut targets: BTreeMap<String, (Vec<String>, String)> = BTreeMap::new();
        let mut current: Vec<String> = Vec::new();
        for line in code.lines() {
            if line.starts_with('\t') {
                for target in &current {
                    let recipe = &mut targets.entry(target.clone()).or_default().1;
                    recipe.push_str(line.trim());
                    recipe.push('\n');
                }
                continue;
            }
            current.clear();
            let Some((names, prerequisites)) = line.split_once(':') else {
                continue;
            };
            if prerequisites.starts_with('=') || names.contains('=') || names.starts_with('.') {
                continue;
            }
            let prerequisites: Vec<String> = prerequisites
                .split(';')
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            for name in names.split_whitespace() {
                targets
                    .entry(name.to_owned())
                    .or_default()
                    .0
                    .extend(prerequisites.iter().cloned());
                current.push(name.to_owned());
            }
        }
        Self { targets }
    }

    /// The recipes that `make ...` invocations in `code` run, prerequisites included.
    pub(crate) fn expand(&self, code: &str) -> String {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<String> = Vec::new();
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
                    .map(|word| word.trim_matches(|c| c == '"' || c == '\'').to_owned()),
            );
        }
        let mut expanded = String::new();
        while let Some(target) = pending.pop() {
            if !seen.insert(target.clone()) {
                continue;
            }
            if let Some((prerequisites, recipe)) = self.targets.get(&target) {
                expanded.push_str(recipe);
                pending.extend(prerequisites.iter().cloned());
            }
        }
        expanded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_invocations_expand_to_their_recipes() {
        let targets = MakeTargets::parse(
            "PY ?= python\n.PHONY: all\nci: lint gate\nlint:\n\truff check .\ngate: train\n\t$(PY) -m pkg.gate\ntrain:\n\t$(PY) -m pkg.train\n",
        );
        let expanded = targets.expand("run: make ci\nrun: cmake x\n");
        assert!(expanded.contains("ruff check"));
        assert!(expanded.contains("pkg.gate"));
        assert!(expanded.contains("pkg.train"));
        assert_eq!(targets.expand("run: make -j2 lint V=1"), "ruff check .\n");
        assert_eq!(targets.expand("run: cmake train"), "");
    }
}
