//! The keyed-block merge that the Python, Makefile and YAML merges share.
//!
//! A format's parser cuts a text into blocks, each with a key (a definition's name, a rule's
//! targets, a mapping key, a step's `id`) and the blank lines before it, its gap. Comments
//! directly above a block belong to it. The merge then works on keys:
//!
//! - A block only one side changed takes that side's text; a block both changed is merged by the
//!   format's own merge for its inside (`inner`), which may be structured again or line by line.
//! - A block one side added is kept; a block the template added goes after the block it follows
//!   in the template, past any blocks you added there, so both sides' additions stay whole and in
//!   order. The same key added on both sides with different text is a conflict (the two are not
//!   merged into one), as is a block one side deleted and the other changed.
//! - A key that is only the block's text (a statement with no name) changes when the block does;
//!   such a block deleted and another added in its place on one side is taken as changed, so that
//!   both sides changing it is merged or a conflict, never two copies.
//! - Gaps come from whichever side has the two blocks next to each other, yours first.
//!
//! Your order of blocks and your text are kept; nothing is reformatted. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::lines::{self, split_lines, write_conflict};
use super::{Labels, TextMerge};

/// One block of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Block<'a> {
    pub(super) key: String,
    /// True if the key is only derived from the text, so that changing the block changes it.
    pub(super) weak: bool,
    /// The blank lines before the block.
    pub(super) gap: &'a str,
    /// The block, from its first line to its last, with that line's newline.
    pub(super) text: &'a str,
}

/// A text cut into blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Doc<'a> {
    pub(super) blocks: Vec<Block<'a>>,
    /// What follows the last block.
    pub(super) tail: &'a str,
}

/// What a line is to the cutting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Line {
    Blank,
    /// A comment (or a decorator) that belongs to the block below it.
    Comment,
    /// The first line of a block.
    Start,
    /// Any other line of a block.
    Cont,
}

/// Cuts `text`, whose lines are of `kinds`, into blocks keyed by `key`, which receives a block's
/// lines and the index of its first `Start` line (if it has one) and returns the key and
/// whether it is weak, or `None` to give up. `None` too if a `Cont` line has no block to belong
/// to, or if two blocks have the same key.
pub(super) fn cut<'a>(
    text: &'a str,
    kinds: &[Line],
    mut key: impl FnMut(&[&'a str], Option<usize>) -> Option<(String, bool)>,
) -> Option<Doc<'a>> {
    let lines = split_lines(text);
    assert_eq!(lines.len(), kinds.len(), "one kind per line");
    let mut kinds = kinds.to_vec();
    // Blank lines and comments followed by more of a block belong to that block.
    let mut following_cont = false;
    for kind in kinds.iter_mut().rev() {
        match kind {
            Line::Blank | Line::Comment if following_cont => *kind = Line::Cont,
            Line::Blank | Line::Comment => {}
            Line::Start => following_cont = false,
            Line::Cont => following_cont = true,
        }
    }
    let mut offsets = Vec::with_capacity(lines.len() + 1);
    let mut offset = 0;
    for line in &lines {
        offsets.push(offset);
        offset += line.len();
    }
    offsets.push(offset);

    let mut blocks = Vec::new();
    let mut index = 0;
    loop {
        let gap_start = index;
        while index < lines.len() && kinds[index] == Line::Blank {
            index += 1;
        }
        if index == lines.len() {
            let keys: BTreeSet<&String> =
                blocks.iter().map(|block: &Block<'_>| &block.key).collect();
            if keys.len() != blocks.len() {
                return None;
            }
            return Some(Doc {
                blocks,
                tail: &text[offsets[gap_start]..],
            });
        }
        let start = index;
        while index < lines.len() && kinds[index] == Line::Comment {
            index += 1;
        }
        let mut first_start = None;
        match kinds.get(index) {
            Some(Line::Start) => {
                first_start = Some(index - start);
                index += 1;
                while index < lines.len() && kinds[index] == Line::Cont {
                    index += 1;
                }
            }
            Some(Line::Cont) => return None,
            _ => {}
        }
        let (key, weak) = key(&lines[start..index], first_start)?;
        blocks.push(Block {
            key,
            weak,
            gap: &text[offsets[gap_start]..offsets[start]],
            text: &text[offsets[start]..offsets[index]],
        });
    }
}

/// Where a block of the result comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Ours,
    Theirs,
}

/// A cut text with each block's key, after pairing changed blocks with the base's.
struct Keyed<'d, 'a> {
    doc: &'d Doc<'a>,
    /// The key of each block, by index.
    names: Vec<String>,
    /// The index of each key.
    index: BTreeMap<String, usize>,
}

impl<'d, 'a> Keyed<'d, 'a> {
    fn new(doc: &'d Doc<'a>, renames: &BTreeMap<usize, String>) -> Self {
        let names: Vec<String> = doc
            .blocks
            .iter()
            .enumerate()
            .map(|(index, block)| renames.get(&index).unwrap_or(&block.key).clone())
            .collect();
        let index = names
            .iter()
            .enumerate()
            .map(|(index, name)| (name.clone(), index))
            .collect();
        Self { doc, names, index }
    }

    fn has(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    fn text(&self, key: &str) -> Option<&'a str> {
        self.index
            .get(key)
            .map(|&index| self.doc.blocks[index].text)
    }

    /// The gap before `key` if the block before it is `previous`.
    fn gap_after(&self, previous: Option<&str>, key: &str) -> Option<&'a str> {
        let index = *self.index.get(key)?;
        let before = index
            .checked_sub(1)
            .map(|before| self.names[before].as_str());
        (before == previous).then(|| self.doc.blocks[index].gap)
    }
}

/// Merges three cut texts; `inner` merges a block both sides changed.
pub(super) fn merge<'a>(
    base: &Doc<'a>,
    ours: &Doc<'a>,
    theirs: &Doc<'a>,
    labels: &Labels,
    inner: &dyn Fn(&str, &str, &str) -> TextMerge,
) -> TextMerge {
    let base = Keyed::new(base, &BTreeMap::new());
    let ours = Keyed::new(ours, &pair_changed(base.doc, ours));
    let theirs = Keyed::new(theirs, &pair_changed(base.doc, theirs));
    let order = order(&base, &ours, &theirs);

    let mut out = String::new();
    let mut conflicts = 0;
    let common_gap = most_common_gap(ours.doc);
    for (position, (key, origin)) in order.iter().enumerate() {
        let previous = position
            .checked_sub(1)
            .map(|before| order[before].0.as_str());
        // The gap from a side where the two blocks are neighbours: yours, unless only the
        // template changed it; else the block's own.
        let gap = match (
            ours.gap_after(previous, key),
            base.gap_after(previous, key),
            theirs.gap_after(previous, key),
        ) {
            (Some(ours_gap), Some(base_gap), Some(theirs_gap)) if ours_gap == base_gap => {
                theirs_gap
            }
            (Some(ours_gap), _, _) => ours_gap,
            (None, _, Some(theirs_gap)) => theirs_gap,
            (None, _, None) => {
                let side = if *origin == Origin::Ours {
                    &ours
                } else {
                    &theirs
                };
                let index = side.index[key];
                if index == 0 && previous.is_some() {
                    common_gap
                } else {
                    side.doc.blocks[index].gap
                }
            }
        };
        end_line(&mut out);
        out.push_str(gap);
        let merged = match (base.text(key), ours.text(key), theirs.text(key)) {
            (_, Some(ours), Some(theirs)) if ours == theirs => plain(ours),
            (Some(base), Some(ours), Some(theirs)) if base == ours => plain(theirs),
            (Some(base), Some(ours), Some(theirs)) if base == theirs => plain(ours),
            (Some(base), Some(ours), Some(theirs)) => inner(base, ours, theirs),
            (None, Some(ours), Some(theirs)) => lines::merge("", ours, theirs, labels),
            (Some(base), ours, theirs) => {
                conflict(ours.unwrap_or(""), base, theirs.unwrap_or(""), labels)
            }
            (None, Some(only), None) | (None, None, Some(only)) => plain(only),
            (None, None, None) => unreachable!("every key of the order is on a side"),
        };
        conflicts += merged.conflicts;
        out.push_str(&merged.text);
    }
    end_line_if(&mut out, !ours.doc.tail.is_empty());
    out.push_str(ours.doc.tail);
    TextMerge {
        text: out,
        conflicts,
    }
}

/// The blocks of the result, in order: yours, less what the template deleted and you had not
/// changed, plus what it added (or changed and you deleted), each after the block it follows in
/// the template and past the blocks you added there.
fn order(
    base: &Keyed<'_, '_>,
    ours: &Keyed<'_, '_>,
    theirs: &Keyed<'_, '_>,
) -> Vec<(String, Origin)> {
    let mut order: Vec<(String, Origin)> = ours
        .names
        .iter()
        .filter(|key| {
            let deleted_unchanged = !theirs.has(key)
                && base
                    .text(key)
                    .is_some_and(|text| ours.text(key) == Some(text));
            !deleted_unchanged
        })
        .map(|key| (key.clone(), Origin::Ours))
        .collect();
    let ours_only = |key: &str| !base.has(key) && !theirs.has(key);
    for (index, key) in theirs.names.iter().enumerate() {
        if ours.has(key)
            || base
                .text(key)
                .is_some_and(|text| theirs.text(key) == Some(text))
        {
            continue;
        }
        let position_of = |key: &str| order.iter().position(|(other, _)| other == key);
        let after = theirs.names[..index]
            .iter()
            .rev()
            .find_map(|before| position_of(before));
        let position = if let Some(after) = after {
            let mut position = after + 1;
            while position < order.len()
                && order[position].1 == Origin::Ours
                && ours_only(&order[position].0)
            {
                position += 1;
            }
            position
        } else {
            theirs.names[index + 1..]
                .iter()
                .find_map(|next| position_of(next))
                .unwrap_or(order.len())
        };
        order.insert(position, (key.clone(), Origin::Theirs));
    }
    order
}

/// Merges a block that both sides changed as its head (a class line, a mapping key line, with the
/// comments above it: the first `head_length(text)` bytes of each side) and its body: the head
/// only if at most one side changed it, the body by `merge_body`.
pub(super) fn merge_head_and_body(
    [base, ours, theirs]: [&str; 3],
    head_length: impl Fn(&str) -> Option<usize>,
    merge_body: impl FnOnce(&str, &str, &str) -> Option<TextMerge>,
) -> Option<TextMerge> {
    let (base_head, ours_head, theirs_head) =
        (head_length(base)?, head_length(ours)?, head_length(theirs)?);
    let (base_top, ours_top, theirs_top) = (
        &base[..base_head],
        &ours[..ours_head],
        &theirs[..theirs_head],
    );
    let head = if ours_top == base_top {
        theirs_top
    } else if theirs_top == base_top || theirs_top == ours_top {
        ours_top
    } else {
        return None;
    };
    let body = merge_body(
        &base[base_head..],
        &ours[ours_head..],
        &theirs[theirs_head..],
    )?;
    Some(TextMerge {
        text: format!("{head}{}", body.text),
        conflicts: body.conflicts,
    })
}

fn plain(text: &str) -> TextMerge {
    TextMerge {
        text: text.to_owned(),
        conflicts: 0,
    }
}

/// A block deleted on one side and changed on the other, as one conflict.
fn conflict(ours: &str, base: &str, theirs: &str, labels: &Labels) -> TextMerge {
    let mut text = String::new();
    write_conflict(
        &mut text,
        &split_lines(ours),
        &split_lines(base),
        &split_lines(theirs),
        labels,
    );
    TextMerge { text, conflicts: 1 }
}

fn end_line(out: &mut String) {
    end_line_if(out, true);
}

fn end_line_if(out: &mut String, condition: bool) {
    if condition && !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Blocks of `side` with weak keys that stand where blocks of `base` with weak keys were
/// deleted, between the same neighbours and as many: each takes the base block's key, as a
/// changed block.
fn pair_changed(base: &Doc<'_>, side: &Doc<'_>) -> BTreeMap<usize, String> {
    let base_keys: BTreeSet<&str> = base.blocks.iter().map(|block| block.key.as_str()).collect();
    let side_keys: BTreeSet<&str> = side.blocks.iter().map(|block| block.key.as_str()).collect();
    // The blocks between two blocks both have, on each side, by slot.
    let slots = |doc: &Doc<'_>, other: &BTreeSet<&str>| -> Vec<Vec<usize>> {
        let mut slots = vec![Vec::new()];
        for (index, block) in doc.blocks.iter().enumerate() {
            if other.contains(block.key.as_str()) {
                slots.push(Vec::new());
            } else {
                slots.last_mut().expect("one slot at least").push(index);
            }
        }
        slots
    };
    let base_slots = slots(base, &side_keys);
    let side_slots = slots(side, &base_keys);
    let mut renames = BTreeMap::new();
    // The common blocks are in the same order on both sides when the slots pair up.
    if base_slots.len() != side_slots.len() {
        return renames;
    }
    for (deleted, added) in base_slots.iter().zip(&side_slots) {
        let weak =
            |doc: &Doc<'_>, indexes: &[usize]| indexes.iter().all(|&index| doc.blocks[index].weak);
        if !deleted.is_empty()
            && deleted.len() == added.len()
            && weak(base, deleted)
            && weak(side, added)
        {
            for (&base_index, &side_index) in deleted.iter().zip(added) {
                renames.insert(side_index, base.blocks[base_index].key.clone());
            }
        }
    }
    renames
}

/// The gap found most often between your blocks, for a block that has no gap of its own there.
fn most_common_gap<'a>(doc: &Doc<'a>) -> &'a str {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for block in doc.blocks.iter().skip(1) {
        *counts.entry(block.gap).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map_or("", |(gap, _)| gap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::merge::lines::tests::labels;

    /// A toy format: a line `name:` starts a block keyed `name`, indented lines continue it, `#`
    /// lines are comments; any other line starts a block keyed weakly by its text.
    fn toy(text: &str) -> Doc<'_> {
        let kinds: Vec<Line> = split_lines(text)
            .iter()
            .map(|line| {
                if line.trim().is_empty() {
                    Line::Blank
                } else if line.starts_with('#') {
                    Line::Comment
                } else if line.starts_with(' ') {
                    Line::Cont
                } else {
                    Line::Start
                }
            })
            .collect();
        cut(text, &kinds, |lines, start| {
            let Some(start) = start else {
                return Some((lines.concat(), true));
            };
            let head = lines[start].trim_end();
            Some(match head.strip_suffix(':') {
                Some(name) => (name.to_owned(), false),
                None => (head.to_owned(), true),
            })
        })
        .unwrap()
    }

    fn check(base: &str, ours: &str, theirs: &str, expected: &str) {
        let inner =
            |base: &str, ours: &str, theirs: &str| lines::merge(base, ours, theirs, &labels());
        let merged = merge(&toy(base), &toy(ours), &toy(theirs), &labels(), &inner);
        let actual = if merged.conflicts == 0 {
            merged.text
        } else {
            format!("{} conflict(s)\n{}", merged.conflicts, merged.text)
        };
        assert_eq!(actual, expected);
    }

    #[test]
    fn cutting_keeps_every_byte() {
        let text = "\n# about a\na:\n  1\n\n  2\n\n\nplain\n# alone\n\nb:\n  3\n\n";
        let doc = toy(text);
        let rebuilt: String = doc
            .blocks
            .iter()
            .map(|block| format!("{}{}", block.gap, block.text))
            .chain([doc.tail.to_owned()])
            .collect();
        assert_eq!(rebuilt, text);
        let keys: Vec<&str> = doc.blocks.iter().map(|block| block.key.as_str()).collect();
        assert_eq!(keys, ["a", "plain", "# alone\n", "b"]);
        assert_eq!(doc.blocks[0].text, "# about a\na:\n  1\n\n  2\n");
    }

    #[test]
    fn blocks_added_after_the_same_block_are_both_kept_yours_first() {
        check(
            "a:\n  1\n",
            "a:\n  1\n\nmine:\n  2\n",
            "a:\n  1\n\n\ntheirs:\n  3\n",
            "a:\n  1\n\nmine:\n  2\n\n\ntheirs:\n  3\n",
        );
        // The template's block goes where it is in the template: before `b`.
        check(
            "a:\n  1\nb:\n  2\n",
            "a:\n  1\nmine:\n  0\nb:\n  2\n",
            "a:\n  1\ntheirs:\n  9\nb:\n  2\n",
            "a:\n  1\nmine:\n  0\ntheirs:\n  9\nb:\n  2\n",
        );
    }

    #[test]
    fn a_block_changed_on_both_sides_merges_inside() {
        check(
            "a:\n  1\n  2\n  3\n",
            "a:\n  one\n  2\n  3\n",
            "a:\n  1\n  2\n  three\n",
            "a:\n  one\n  2\n  three\n",
        );
    }

    #[test]
    fn the_same_name_added_twice_differently_is_one_conflict() {
        check(
            "a:\n  1\n",
            "a:\n  1\nnew:\n  mine\n",
            "a:\n  1\nnew:\n  theirs\n",
            "1 conflict(s)\na:\n  1\n<<<<<<< yours\nnew:\n  mine\n||||||| level 1\n=======\nnew:\n  theirs\n>>>>>>> level 2\n",
        );
    }

    #[test]
    fn deleting_and_changing_the_same_block_is_a_conflict() {
        check(
            "a:\n  1\nb:\n  2\n",
            "a:\n  1\n",
            "a:\n  1\nb:\n  two\n",
            "1 conflict(s)\na:\n  1\n<<<<<<< yours\n||||||| level 1\nb:\n  2\n=======\nb:\n  two\n>>>>>>> level 2\n",
        );
        // Deleted by the template and untouched by you: gone.
        check(
            "a:\n  1\nb:\n  2\n",
            "a:\n  1\nb:\n  2\nc:\n  3\n",
            "a:\n  1\n",
            "a:\n  1\nc:\n  3\n",
        );
    }

    #[test]
    fn a_changed_statement_without_a_name_is_still_the_same_block() {
        check(
            "a:\n  1\nrun x\nb:\n  2\n",
            "a:\n  1\nrun x --mine\nb:\n  2\n",
            "a:\n  1\nrun x --theirs\nb:\n  2\n",
            "1 conflict(s)\na:\n  1\n<<<<<<< yours\nrun x --mine\n||||||| level 1\nrun x\n=======\nrun x --theirs\n>>>>>>> level 2\nb:\n  2\n",
        );
        check(
            "a:\n  1\nrun x\nb:\n  2\n",
            "a:\n  1\nrun x\nb:\n  2\n",
            "a:\n  1\nrun y\nb:\n  2\n",
            "a:\n  1\nrun y\nb:\n  2\n",
        );
    }

    #[test]
    fn duplicate_keys_give_up() {
        let kinds = [Line::Start, Line::Start];
        assert!(cut("a\na\n", &kinds, |lines, _| Some((lines.concat(), true))).is_none());
    }
}
