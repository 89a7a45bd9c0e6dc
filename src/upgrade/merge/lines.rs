//! The line merge: diff3 over lines, the fallback of every structured merge.
//!
//! Each side is diffed against the base (histogram diff), and each diff's groups of changed
//! lines are slid as git's xdiff does: a group that could sit higher or lower (because its first
//! and last lines repeat around it) is moved to join neighbouring groups and to line up with a
//! change on the other side, and otherwise to begin after a blank line, so that an added block
//! is one insertion, not pieces. Changes of the two sides that overlap or touch form one region;
//! a region where the sides differ is one conflict, written whole: every line either side has
//! there, between one set of markers. Nothing is pulled out of a conflict and no conflict is
//! split, so keeping both sides of any conflict yields each side's block intact and in order.
//! A region where one side is the other's change plus lines of its own is not a conflict: the
//! longer side is taken. Pure: text in, text out.

use std::fmt::Write as _;
use std::ops::Range;

use similar::{Algorithm, DiffOp, capture_diff_slices};

use super::{Labels, TextMerge};

/// One side's change: base lines `base` became side lines `side`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Edit {
    pub(super) base: Range<usize>,
    pub(super) side: Range<usize>,
}

/// The lines of `text`, each with its newline (the last may have none).
pub(super) fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// The changes that turn `base` into `side`, slid into place.
pub(super) fn edits(base: &[&str], side: &[&str]) -> Vec<Edit> {
    let mut base_changed = vec![false; base.len()];
    let mut side_changed = vec![false; side.len()];
    for op in capture_diff_slices(Algorithm::Histogram, base, side) {
        if !matches!(op, DiffOp::Equal { .. }) {
            base_changed[op.old_range()].fill(true);
            side_changed[op.new_range()].fill(true);
        }
    }
    compact(base, &mut base_changed, &side_changed);
    compact(side, &mut side_changed, &base_changed);

    let mut edits = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < base.len() || j < side.len() {
        if i < base.len() && j < side.len() && !base_changed[i] && !side_changed[j] {
            debug_assert_eq!(base[i], side[j], "unchanged lines pair up");
            i += 1;
            j += 1;
            continue;
        }
        let (base_start, side_start) = (i, j);
        while i < base.len() && base_changed[i] {
            i += 1;
        }
        while j < side.len() && side_changed[j] {
            j += 1;
        }
        assert!(
            i > base_start || j > side_start,
            "the unchanged lines of a diff pair up"
        );
        edits.push(Edit {
            base: base_start..i,
            side: side_start..j,
        });
    }
    edits
}

/// A run of changed lines `[start, end)` of one file; empty between two unchanged lines.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

impl Group {
    fn first(changed: &[bool]) -> Self {
        let end = changed.iter().take_while(|changed| **changed).count();
        Self { start: 0, end }
    }

    /// Moves to the next group; false at the end of the file.
    fn next(&mut self, changed: &[bool]) -> bool {
        if self.end >= changed.len() {
            return false;
        }
        self.start = self.end + 1;
        self.end = self.start;
        while self.end < changed.len() && changed[self.end] {
            self.end += 1;
        }
        true
    }

    /// Moves to the previous group; false at the start of the file.
    fn previous(&mut self, changed: &[bool]) -> bool {
        if self.start == 0 {
            return false;
        }
        self.end = self.start - 1;
        self.start = self.end;
        while self.start > 0 && changed[self.start - 1] {
            self.start -= 1;
        }
        true
    }

    /// Slides the group one line down if the line after it equals its first, joining any group
    /// it reaches.
    fn slide_down(&mut self, lines: &[&str], changed: &mut [bool]) -> bool {
        if self.end < lines.len() && lines[self.start] == lines[self.end] {
            changed[self.start] = false;
            changed[self.end] = true;
            self.start += 1;
            self.end += 1;
            while self.end < changed.len() && changed[self.end] {
                self.end += 1;
            }
            true
        } else {
            false
        }
    }

    /// Slides the group one line up if the line before it equals its last.
    fn slide_up(&mut self, lines: &[&str], changed: &mut [bool]) -> bool {
        if self.start > 0 && lines[self.start - 1] == lines[self.end - 1] {
            self.start -= 1;
            self.end -= 1;
            changed[self.start] = true;
            changed[self.end] = false;
            while self.start > 0 && changed[self.start - 1] {
                self.start -= 1;
            }
            true
        } else {
            false
        }
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Slides the changed groups of `lines` (xdiff's `xdl_change_compact`, with a simpler final
/// placement): each group goes as high as it can, then as low, joining groups on the way; it
/// then settles in line with a group of the other file if it passed one, else at the lowest
/// place where it begins after a blank line, else at the lowest place.
fn compact(lines: &[&str], changed: &mut [bool], other: &[bool]) {
    let mut group = Group::first(changed);
    let mut other_group = Group::first(other);
    loop {
        if group.end > group.start {
            let mut earliest_end;
            let mut end_matching_other;
            loop {
                let size = group.end - group.start;
                end_matching_other = None;
                while group.slide_up(lines, changed) {
                    let moved = other_group.previous(other);
                    debug_assert!(moved, "groups of the two files correspond");
                }
                earliest_end = group.end;
                if other_group.end > other_group.start {
                    end_matching_other = Some(group.end);
                }
                while group.slide_down(lines, changed) {
                    let moved = other_group.next(other);
                    debug_assert!(moved, "groups of the two files correspond");
                    if other_group.end > other_group.start {
                        end_matching_other = Some(group.end);
                    }
                }
                if size == group.end - group.start {
                    break;
                }
            }
            let target = if group.end == earliest_end {
                None
            } else if let Some(end) = end_matching_other {
                Some(end)
            } else {
                let size = group.end - group.start;
                (earliest_end..=group.end)
                    .rev()
                    .find(|&end| end == size || is_blank(lines[end - size - 1]))
            };
            if let Some(target) = target {
                while group.end > target {
                    group.slide_up(lines, changed);
                    other_group.previous(other);
                }
            }
        }
        if !group.next(changed) {
            break;
        }
        other_group.next(other);
    }
}

/// What a region of a merge takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Take {
    /// Nobody changed it.
    Unchanged,
    /// Only you changed it, or both did the same, or yours extends theirs.
    Ours,
    /// Only the template changed it, or theirs extends yours.
    Theirs,
    Conflict,
}

/// A stretch of the merge: the lines of each side it covers, and what it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Region {
    pub(super) take: Take,
    pub(super) base: Range<usize>,
    pub(super) ours: Range<usize>,
    pub(super) theirs: Range<usize>,
}

/// The regions of a 3-way merge of lines, in order, covering every line of every side.
pub(super) fn regions(base: &[&str], ours: &[&str], theirs: &[&str]) -> Vec<Region> {
    let ours_edits = edits(base, ours);
    let theirs_edits = edits(base, theirs);
    let mut regions = Vec::new();
    let mut base_position = 0;
    let (mut ours_index, mut theirs_index) = (0, 0);
    let (mut ours_delta, mut theirs_delta) = (0_isize, 0_isize);
    let at = |position: usize, delta: isize| position.checked_add_signed(delta).expect("in range");
    let unchanged =
        |regions: &mut Vec<Region>, from: usize, to: usize, ours: isize, theirs: isize| {
            if from < to {
                regions.push(Region {
                    take: Take::Unchanged,
                    base: from..to,
                    ours: at(from, ours)..at(to, ours),
                    theirs: at(from, theirs)..at(to, theirs),
                });
            }
        };
    loop {
        let start = match (ours_edits.get(ours_index), theirs_edits.get(theirs_index)) {
            (None, None) => break,
            (Some(edit), None) | (None, Some(edit)) => edit.base.start,
            (Some(a), Some(b)) => a.base.start.min(b.base.start),
        };
        unchanged(&mut regions, base_position, start, ours_delta, theirs_delta);
        // Every edit of either side that overlaps or touches the region joins it.
        let mut end = start;
        let (ours_first, theirs_first) = (ours_index, theirs_index);
        let (ours_delta_before, theirs_delta_before) = (ours_delta, theirs_delta);
        loop {
            let touches = |edit: &&Edit| edit.base.start <= end;
            if let Some(edit) = ours_edits.get(ours_index).filter(touches) {
                end = end.max(edit.base.end);
                ours_delta += edit.side.len().cast_signed() - edit.base.len().cast_signed();
                ours_index += 1;
            } else if let Some(edit) = theirs_edits.get(theirs_index).filter(touches) {
                end = end.max(edit.base.end);
                theirs_delta += edit.side.len().cast_signed() - edit.base.len().cast_signed();
                theirs_index += 1;
            } else {
                break;
            }
        }
        let ours_range = at(start, ours_delta_before)..at(end, ours_delta);
        let theirs_range = at(start, theirs_delta_before)..at(end, theirs_delta);
        let (ours_region, theirs_region) =
            (&ours[ours_range.clone()], &theirs[theirs_range.clone()]);
        let base_region = &base[start..end];
        let take = if ours_index == ours_first {
            Take::Theirs
        } else if theirs_index == theirs_first
            || ours_region == theirs_region
            || extends(ours_region, theirs_region, base_region)
        {
            Take::Ours
        } else if extends(theirs_region, ours_region, base_region) {
            Take::Theirs
        } else {
            Take::Conflict
        };
        regions.push(Region {
            take,
            base: start..end,
            ours: ours_range,
            theirs: theirs_range,
        });
        base_position = end;
    }
    unchanged(
        &mut regions,
        base_position,
        base.len(),
        ours_delta,
        theirs_delta,
    );
    regions
}

/// Merges `base` to `theirs` into `ours`, line by line.
pub(super) fn merge(base: &str, ours: &str, theirs: &str, labels: &Labels) -> TextMerge {
    let (base, ours, theirs) = (split_lines(base), split_lines(ours), split_lines(theirs));
    let mut out = String::new();
    let mut conflicts = 0;
    for region in regions(&base, &ours, &theirs) {
        match region.take {
            Take::Unchanged | Take::Ours => push_lines(&mut out, &ours[region.ours]),
            Take::Theirs => push_lines(&mut out, &theirs[region.theirs]),
            Take::Conflict => {
                write_conflict(
                    &mut out,
                    &ours[region.ours],
                    &base[region.base],
                    &theirs[region.theirs],
                    labels,
                );
                conflicts += 1;
            }
        }
    }
    TextMerge {
        text: out,
        conflicts,
    }
}

/// True if `longer` is `shorter` with lines of its own before or after it, none of which (but
/// blank ones) were in the base: one side made the other's change and added to it.
fn extends(longer: &[&str], shorter: &[&str], base: &[&str]) -> bool {
    if shorter.is_empty() || longer.len() <= shorter.len() {
        return false;
    }
    let extra = if longer.starts_with(shorter) {
        &longer[shorter.len()..]
    } else if longer.ends_with(shorter) {
        &longer[..longer.len() - shorter.len()]
    } else {
        return false;
    };
    extra
        .iter()
        .all(|line| is_blank(line) || !base.contains(line))
}

pub(super) fn push_lines(out: &mut String, lines: &[&str]) {
    for line in lines {
        out.push_str(line);
    }
}

/// Ends the output with a newline, so that a marker starts its own line.
fn end_line(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Writes one conflict, diff3-style.
pub(super) fn write_conflict(
    out: &mut String,
    ours: &[&str],
    base: &[&str],
    theirs: &[&str],
    labels: &Labels,
) {
    end_line(out);
    let _ = writeln!(out, "<<<<<<< {}", labels.ours);
    push_lines(out, ours);
    end_line(out);
    let _ = writeln!(out, "||||||| {}", labels.base);
    push_lines(out, base);
    end_line(out);
    out.push_str("=======\n");
    push_lines(out, theirs);
    end_line(out);
    let _ = writeln!(out, ">>>>>>> {}", labels.theirs);
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in super::super) fn labels() -> Labels {
        Labels {
            ours: "yours".to_owned(),
            base: "level 1".to_owned(),
            theirs: "level 2".to_owned(),
        }
    }

    fn check(base: &str, ours: &str, theirs: &str, expected: &str) {
        let merged = merge(base, ours, theirs, &labels());
        let actual = if merged.conflicts == 0 {
            merged.text
        } else {
            format!("{} conflict(s)\n{}", merged.conflicts, merged.text)
        };
        assert_eq!(actual, expected);
    }

    #[test]
    fn edits_far_apart_merge() {
        check(
            "a\nb\nc\nd\ne\n",
            "A\nb\nc\nd\ne\n",
            "a\nb\nc\nd\nE\n",
            "A\nb\nc\nd\nE\n",
        );
        check("a\nb\n", "a\nb\n", "a\nb\nc\n", "a\nb\nc\n");
        check(
            "a\nb\n",
            "a\nb\nmine\n",
            "theirs\na\nb\n",
            "theirs\na\nb\nmine\n",
        );
        check("a\nb\nc\n", "a\nc\n", "a\nb\nc\nd\n", "a\nc\nd\n");
    }

    #[test]
    fn the_same_change_on_both_sides_is_not_a_conflict() {
        check("a\nb\n", "a\nB\n", "a\nB\n", "a\nB\n");
    }

    #[test]
    fn a_side_that_made_the_others_change_and_more_wins() {
        check("a\nb\n", "a\nB\nmine\n", "a\nB\n", "a\nB\nmine\n");
        // Not when the extra lines bring back what the other side deleted.
        check(
            "a\nb\n",
            "A\n",
            "A\nb\n",
            "1 conflict(s)\n<<<<<<< yours\nA\n||||||| level 1\na\nb\n=======\nA\nb\n>>>>>>> level 2\n",
        );
    }

    #[test]
    fn overlapping_edits_conflict_with_named_sides() {
        check(
            "a\nb\nc\n",
            "a\nmine\nc\n",
            "a\ntheirs\nc\n",
            "1 conflict(s)\na\n<<<<<<< yours\nmine\n||||||| level 1\nb\n=======\ntheirs\n>>>>>>> level 2\nc\n",
        );
    }

    #[test]
    fn blocks_added_at_the_same_place_are_one_conflict_with_their_shared_lines_inside() {
        let base = "import pytest\n\n\n@pytest.fixture\ndef a():\n    return 1\n";
        let ours = format!("{base}\n\n@pytest.fixture\ndef mine():\n    return 2\n");
        let theirs = format!("{base}\n\n@pytest.fixture\ndef theirs():\n    return 3\n");
        check(
            base,
            &ours,
            &theirs,
            &format!(
                "1 conflict(s)\n{base}<<<<<<< yours\n\n\n@pytest.fixture\ndef mine():\n    return 2\n\
                 ||||||| level 1\n=======\n\n\n@pytest.fixture\ndef theirs():\n    return 3\n>>>>>>> level 2\n"
            ),
        );
    }

    #[test]
    fn an_added_block_is_slid_to_begin_after_a_blank_line() {
        let base = ["a", "", "b"].map(|line| format!("{line}\n")).concat();
        let side = ["a", "", "new", "", "b"].map(|line| format!("{line}\n"));
        let side_text = side.concat();
        let base_lines = split_lines(&base);
        let side_lines = split_lines(&side_text);
        assert_eq!(
            edits(&base_lines, &side_lines),
            vec![Edit {
                base: 2..2,
                side: 2..4
            }]
        );
    }

    #[test]
    fn a_last_line_without_newline_still_gets_markers_on_their_own_lines() {
        check(
            "a\nb",
            "a\nmine",
            "a\ntheirs",
            "1 conflict(s)\na\n<<<<<<< yours\nmine\n||||||| level 1\nb\n=======\ntheirs\n>>>>>>> level 2\n",
        );
    }

    /// Every conflict of `merged` resolved by keeping both sides, yours first.
    pub(in super::super) fn keep_both(merged: &str) -> String {
        let mut out = String::new();
        let mut state = 0;
        for line in merged.split_inclusive('\n') {
            match (state, line) {
                (0, line) if line.starts_with("<<<<<<< ") => state = 1,
                (1, line) if line.starts_with("||||||| ") => state = 2,
                (2, "=======\n") => state = 3,
                (3, line) if line.starts_with(">>>>>>> ") => state = 0,
                (2, _) => {}
                (_, line) => out.push_str(line),
            }
        }
        out
    }

    /// A small deterministic generator (xorshift), so the property test needs no dependency and
    /// fails the same way every time.
    struct Random(u64);

    impl Random {
        fn below(&mut self, bound: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 % bound as u64).unwrap()
        }

        fn lines(&mut self, vocabulary: &[&str], max: usize) -> Vec<String> {
            let count = 1 + self.below(max);
            (0..count)
                .map(|_| format!("{}\n", vocabulary[self.below(vocabulary.len())]))
                .collect()
        }

        /// Up to four shared lines with one line of its own among them.
        fn block(&mut self, shared: &[&str], own: &str) -> Vec<String> {
            let mut lines = self.lines(shared, 4);
            let at = self.below(lines.len() + 1);
            lines.insert(at, format!("{own}\n"));
            lines
        }
    }

    #[test]
    fn keeping_both_sides_of_every_conflict_keeps_each_sides_insertion_whole_and_in_order() {
        // Lines blocks share with each other and with the base, as fixtures, jobs and steps do.
        let shared = [
            "",
            "@pytest.fixture",
            "steps:",
            "  runs-on: ubuntu-latest",
            "    pass",
        ];
        let base_words = [
            "import os",
            "",
            "def f():",
            "    return 1",
            "x = 1",
            "jobs:",
        ];
        let mut random = Random(0x2545_f491_4f6c_dd1d);
        let mut conflicted = 0;
        for round in 0..3000 {
            let base = random.lines(&base_words, 8);
            let ours_block = random.block(&shared, &format!("mine {round}"));
            let theirs_block = random.block(&shared, &format!("theirs {round}"));
            let ours_at = random.below(base.len() + 1);
            let theirs_at = if random.below(2) == 0 {
                ours_at
            } else {
                random.below(base.len() + 1)
            };
            let with = |at: usize, block: &[String]| -> String {
                let mut lines = base.clone();
                lines.splice(at..at, block.iter().cloned());
                lines.concat()
            };
            let ours = with(ours_at, &ours_block);
            let theirs = with(theirs_at, &theirs_block);
            let merged = merge(&base.concat(), &ours, &theirs, &labels());
            conflicted += usize::from(merged.conflicts > 0);
            let resolved = keep_both(&merged.text);
            let (ours_text, theirs_text) = (ours_block.concat(), theirs_block.concat());
            let context = format!(
                "base {base:?}\nours at {ours_at}: {ours_block:?}\ntheirs at {theirs_at}: {theirs_block:?}\nmerged:\n{}",
                merged.text
            );
            assert_eq!(
                resolved.len(),
                base.concat().len() + ours_text.len() + theirs_text.len(),
                "nothing lost or doubled\n{context}"
            );
            let ours_found = resolved.find(&ours_text);
            let theirs_found = resolved.find(&theirs_text);
            assert!(ours_found.is_some(), "yours whole\n{context}");
            assert!(theirs_found.is_some(), "theirs whole\n{context}");
            if ours_at == theirs_at && merged.conflicts > 0 {
                let expected = {
                    let mut lines = base.clone();
                    let both: Vec<String> =
                        ours_block.iter().chain(&theirs_block).cloned().collect();
                    lines.splice(ours_at..ours_at, both);
                    lines.concat()
                };
                assert_eq!(resolved, expected, "yours, then theirs\n{context}");
            }
        }
        assert!(
            conflicted > 500,
            "the test exercises conflicts: {conflicted}"
        );
    }
}
