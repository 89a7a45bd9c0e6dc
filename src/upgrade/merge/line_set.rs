//! `.gitignore` and `.dockerignore` as sets of lines.
//!
//! The line merge runs first; where both sides changed the same place, the region takes your
//! lines and then the template's, instead of a conflict (git's `union` merge), less the lines the
//! template deleted and the patterns you already have anywhere in the file. A template change
//! that only adds patterns you already have adds nothing, not even its comment. The one conflict
//! left is a real one: the template adds a pattern whose negation (`build/` against `!build/`)
//! you added, where the order of the two decides what is ignored.

use std::collections::BTreeSet;

use super::lines::{Region, Take, push_lines, regions, split_lines, write_conflict};
use super::{Labels, TextMerge};

fn is_pattern(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && !line.starts_with('#')
}

/// `!pattern` for a pattern, and the pattern for a negation.
fn negation(line: &str) -> String {
    let line = line.trim();
    line.strip_prefix('!')
        .map_or_else(|| format!("!{line}"), str::to_owned)
}

pub(super) fn merge(base: &str, ours: &str, theirs: &str, labels: &Labels) -> TextMerge {
    let (base, ours, theirs) = (split_lines(base), split_lines(ours), split_lines(theirs));
    let trimmed = |lines: &[&str]| -> BTreeSet<String> {
        lines.iter().map(|line| line.trim().to_owned()).collect()
    };
    let (base_set, ours_set) = (trimmed(&base), trimmed(&ours));
    let mut out = String::new();
    let mut conflicts = 0;
    for Region {
        take,
        base: base_range,
        ours: ours_range,
        theirs: theirs_range,
    } in regions(&base, &ours, &theirs)
    {
        let (base_region, ours_region, theirs_region) =
            (&base[base_range], &ours[ours_range], &theirs[theirs_range]);
        let in_base_region = |line: &&str| base_region.contains(line);
        let added: Vec<&str> = theirs_region
            .iter()
            .filter(|line| !in_base_region(line))
            .copied()
            .collect();
        let contradicts = added.iter().any(|line| {
            is_pattern(line)
                && ours_set.contains(&negation(line))
                && !base_set.contains(&negation(line))
        });
        let new_patterns = added
            .iter()
            .any(|line| is_pattern(line) && !ours_set.contains(line.trim()));
        // Lines the template added that you do not already have.
        let keep_added = |line: &&str| {
            !in_base_region(line)
                && new_patterns
                && !(is_pattern(line) && ours_set.contains(line.trim()))
        };
        match take {
            Take::Unchanged | Take::Ours => push_lines(&mut out, ours_region),
            _ if contradicts => {
                write_conflict(&mut out, ours_region, base_region, theirs_region, labels);
                conflicts += 1;
            }
            Take::Theirs if ours_region == base_region => {
                let kept: Vec<&str> = theirs_region
                    .iter()
                    .filter(|line| in_base_region(line) || keep_added(line))
                    .copied()
                    .collect();
                push_lines(&mut out, &kept);
            }
            Take::Theirs | Take::Conflict => {
                let deleted = |line: &&str| in_base_region(line) && !theirs_region.contains(line);
                let yours: Vec<&str> = ours_region
                    .iter()
                    .filter(|line| !deleted(line))
                    .copied()
                    .collect();
                let theirs_new: Vec<&str> = theirs_region
                    .iter()
                    .filter(|line| keep_added(line))
                    .copied()
                    .collect();
                push_lines(&mut out, &yours);
                if !out.is_empty() && !out.ends_with('\n') && !theirs_new.is_empty() {
                    out.push('\n');
                }
                push_lines(&mut out, &theirs_new);
            }
        }
    }
    TextMerge {
        text: out,
        conflicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::merge::lines::{self, tests::labels};

    fn check(base: &str, ours: &str, theirs: &str, expected: &str) {
        let merged = merge(base, ours, theirs, &labels());
        let actual = if merged.conflicts == 0 {
            merged.text
        } else {
            format!("{} conflict(s)\n{}", merged.conflicts, merged.text)
        };
        assert_eq!(actual, expected);
    }

    const BASE: &str = "__pycache__/\n.venv/\n\n/data/raw/*\n!/data/raw/.gitkeep\n";

    #[test]
    fn additions_at_the_same_place_are_both_kept() {
        let ours = format!("{BASE}\n# team\n/scratch/\n*.parquet\n");
        let theirs = format!("{BASE}\n# MLflow\n/mlflow.db\n/mlartifacts/\n");
        assert_eq!(lines::merge(BASE, &ours, &theirs, &labels()).conflicts, 1);
        check(
            BASE,
            &ours,
            &theirs,
            &format!(
                "{BASE}\n# team\n/scratch/\n*.parquet\n\n# MLflow\n/mlflow.db\n/mlartifacts/\n"
            ),
        );
    }

    #[test]
    fn patterns_you_already_have_are_not_added_again() {
        let ours = format!("{BASE}/mlflow.db\n");
        let theirs = format!("{BASE}\n# MLflow\n/mlflow.db\n");
        check(BASE, &ours, &theirs, &ours);
        let theirs = format!("{BASE}\n# MLflow\n/mlflow.db\n/mlartifacts/\n");
        check(
            BASE,
            &format!("/mlflow.db\n{BASE}"),
            &theirs,
            &format!("/mlflow.db\n{BASE}\n# MLflow\n/mlartifacts/\n"),
        );
    }

    #[test]
    fn lines_the_template_deleted_go_even_in_a_shared_region() {
        check("a\nb\n", "a\nb\nmine\n", "a\ntheirs\n", "a\nmine\ntheirs\n");
    }

    #[test]
    fn a_pattern_you_negated_still_conflicts() {
        let ours = format!("{BASE}!/build/keep/\n");
        let theirs = format!("{BASE}/build/keep/\n");
        check(
            BASE,
            &ours,
            &theirs,
            &format!(
                "1 conflict(s)\n{BASE}<<<<<<< yours\n!/build/keep/\n||||||| level 1\n=======\n/build/keep/\n>>>>>>> level 2\n"
            ),
        );
    }
}
