//! TOML by tables, keys and array items, through `toml_edit`, which keeps your formatting and
//! comments.
//!
//! Your document is edited in place: a key the template changed and you did not takes the new
//! value (in your value's surrounding whitespace and comment); a key or table the template added
//! is inserted after the key it follows in the template (a new table goes at the end); one it
//! removed, and you had not changed, is removed. Arrays of strings are sets: a dependency array
//! (`dependencies`, `requires`, anything under `optional-dependencies` or `dependency-groups`)
//! is keyed by the package name, so the template raising `pandas>=2.2` to `pandas>=2.3` updates
//! your line, and both sides adding different packages keeps both; other arrays are keyed by
//! value. A key both sides changed differently is a conflict around that key's lines. Anything
//! else (a side that does not parse, or that `toml_edit` would not write back byte for byte, a
//! table one side removed and the other changed) declines to the line merge.

use toml_edit::{Array, DocumentMut, Item, Key, Table, Value};

use super::lines::{split_lines, write_conflict};
use super::{Labels, TextMerge};

const START: &str = "#<<mlops-conflict-start-";
const END: &str = "#<<mlops-conflict-end-";

/// Where a conflicting key is: the tables above it and its name.
type KeyPath = (Vec<String>, String);

pub(super) fn merge(base: &str, ours: &str, theirs: &str, labels: &Labels) -> Option<TextMerge> {
    let base_doc: DocumentMut = base.parse().ok()?;
    let mut ours_doc: DocumentMut = ours.parse().ok()?;
    let theirs_doc: DocumentMut = theirs.parse().ok()?;
    if ours_doc.to_string() != ours || [base, ours, theirs].iter().any(|text| text.contains(START))
    {
        return None;
    }
    let mut merger = Merger {
        conflicts: Vec::new(),
        next_position: last_position(ours_doc.as_table()) + 1,
    };
    merger.table(
        &mut Vec::new(),
        Some(base_doc.as_table()),
        ours_doc.as_table_mut(),
        theirs_doc.as_table(),
    )?;
    if merger.conflicts.is_empty() {
        let text = ours_doc.to_string();
        text.parse::<toml::Table>().ok()?;
        return Some(TextMerge { text, conflicts: 0 });
    }
    // Each conflicting key between sentinels on every side, then its lines between markers.
    let marked = |doc: &DocumentMut| -> Option<Vec<Vec<String>>> {
        let mut doc = doc.clone();
        for (id, (path, key)) in merger.conflicts.iter().enumerate() {
            mark(&mut doc, path, key, id);
        }
        let text = doc.to_string();
        Some(
            (0..merger.conflicts.len())
                .map(|id| {
                    extract(&text, id)
                        .map(|(_, lines, _)| lines)
                        .unwrap_or_default()
                })
                .collect(),
        )
    };
    let base_blocks = marked(&base_doc)?;
    let theirs_blocks = marked(&theirs_doc)?;
    let mut ours_text = ours_doc.clone();
    for (id, (path, key)) in merger.conflicts.iter().enumerate() {
        mark(&mut ours_text, path, key, id)?;
    }
    let mut text = ours_text.to_string();
    for id in 0..merger.conflicts.len() {
        let (start, ours_lines, end) = extract(&text, id)?;
        let mut block = String::new();
        write_conflict(
            &mut block,
            &as_str(&ours_lines),
            &as_str(&base_blocks[id]),
            &as_str(&theirs_blocks[id]),
            labels,
        );
        text.replace_range(start..end, &block);
    }
    Some(TextMerge {
        text,
        conflicts: merger.conflicts.len(),
    })
}

fn as_str(lines: &[String]) -> Vec<&str> {
    lines.iter().map(String::as_str).collect()
}

/// Puts sentinel comments around the key `key` of the table at `path`: a line before it, a
/// comment after its value.
fn mark(doc: &mut DocumentMut, path: &[String], key: &str, id: usize) -> Option<()> {
    let mut table = doc.as_table_mut();
    for segment in path {
        table = table.get_mut(segment)?.as_table_mut()?;
    }
    let mut key_mut = table.key_mut(key)?;
    let decor = key_mut.leaf_decor_mut();
    let prefix = decor
        .prefix()
        .and_then(|prefix| prefix.as_str())
        .unwrap_or("")
        .to_owned();
    let (head, indent) = prefix
        .rfind('\n')
        .map_or(("", prefix.as_str()), |at| prefix.split_at(at + 1));
    decor.set_prefix(format!("{head}{START}{id}>>\n{indent}"));
    let value = table.get_mut(key)?.as_value_mut()?;
    let suffix = value
        .decor()
        .suffix()
        .and_then(|suffix| suffix.as_str())
        .unwrap_or("")
        .to_owned();
    value
        .decor_mut()
        .set_suffix(format!("{suffix} {END}{id}>>"));
    Some(())
}

/// The byte range from the start sentinel's line to the end of the end sentinel's line, and the
/// lines between, the sentinel taken out.
fn extract(text: &str, id: usize) -> Option<(usize, Vec<String>, usize)> {
    let start_mark = format!("{START}{id}>>\n");
    let end_mark = format!(" {END}{id}>>");
    let start = text.find(&start_mark)?;
    let inner_start = start + start_mark.len();
    let end_at = text[inner_start..].find(&end_mark)? + inner_start;
    let line_end = text[end_at..]
        .find('\n')
        .map_or(text.len(), |at| end_at + at + 1);
    let inner = text[inner_start..line_end].replacen(&end_mark, "", 1);
    let lines = split_lines(&inner).into_iter().map(str::to_owned).collect();
    Some((start, lines, line_end))
}

/// The highest position of any table below `table`.
fn last_position(table: &Table) -> isize {
    table
        .iter()
        .filter_map(|(_, item)| item.as_table())
        .map(|child| child.position().unwrap_or(0).max(last_position(child)))
        .max()
        .unwrap_or(0)
}

/// The value of an item, if it can be read: how two items are compared.
fn semantic(item: &Item) -> Option<toml::Value> {
    let mut doc = DocumentMut::new();
    let mut item = item.clone();
    if let Some(table) = item.as_table_mut() {
        table.set_position(0);
    }
    doc.insert("x", item);
    let table: toml::Table = doc.to_string().parse().ok()?;
    table.get("x").cloned()
}

fn same(a: &Item, b: &Item) -> bool {
    matches!((semantic(a), semantic(b)), (Some(a), Some(b)) if a == b)
}

struct Merger {
    conflicts: Vec<KeyPath>,
    next_position: isize,
}

impl Merger {
    fn table(
        &mut self,
        path: &mut Vec<String>,
        base: Option<&Table>,
        ours: &mut Table,
        theirs: &Table,
    ) -> Option<()> {
        if let Some(base) = base {
            for (key, base_item) in base {
                if theirs.contains_key(key) {
                    continue;
                }
                if let Some(ours_item) = ours.get(key) {
                    if !same(ours_item, base_item) {
                        return None;
                    }
                    ours.remove(key);
                }
            }
        }
        let mut previous: Option<&str> = None;
        for (key, theirs_item) in theirs {
            let base_item = base.and_then(|base| base.get(key));
            if let Some(ours_item) = ours.get_mut(key) {
                path.push(key.to_owned());
                let merged = self.item(path, base_item, ours_item, theirs_item);
                path.pop();
                match merged? {
                    Outcome::Merged => {}
                    Outcome::Conflict => self.conflicts.push((path.clone(), key.to_owned())),
                }
            } else if let Some(base_item) = base_item {
                // You removed it: fine if the template did not change it.
                if !same(base_item, theirs_item) {
                    return None;
                }
            } else {
                let (theirs_key, _) = theirs.get_key_value(key)?;
                self.insert_after(ours, previous, theirs_key, theirs_item.clone());
            }
            previous = Some(key);
        }
        Some(())
    }

    fn item(
        &mut self,
        path: &mut Vec<String>,
        base: Option<&Item>,
        ours: &mut Item,
        theirs: &Item,
    ) -> Option<Outcome> {
        if same(ours, theirs) || base.is_some_and(|base| same(base, theirs)) {
            return Some(Outcome::Merged);
        }
        let ours_unchanged = base.is_some_and(|base| same(base, ours));
        match (ours, theirs) {
            (Item::Table(ours_table), Item::Table(theirs_table)) => {
                let base_table = base.and_then(Item::as_table);
                self.table(path, base_table, ours_table, theirs_table)?;
                Some(Outcome::Merged)
            }
            (Item::Value(Value::Array(ours_array)), Item::Value(Value::Array(theirs_array))) => {
                let base_array = base.and_then(Item::as_array);
                let by_name = is_dependency_array(path);
                Some(merge_array(base_array, ours_array, theirs_array, by_name)?)
            }
            (Item::Value(ours_value), Item::Value(theirs_value)) if ours_unchanged => {
                let decor = ours_value.decor().clone();
                *ours_value = theirs_value.clone();
                *ours_value.decor_mut() = decor;
                Some(Outcome::Merged)
            }
            (Item::Value(_), Item::Value(_)) => Some(Outcome::Conflict),
            _ => None,
        }
    }

    /// Inserts `key` after `previous` among the keys of `table` (first if there is none); a new
    /// table goes at the end of the document.
    fn insert_after(
        &mut self,
        table: &mut Table,
        previous: Option<&str>,
        key: &Key,
        mut item: Item,
    ) {
        if let Some(new_table) = item.as_table_mut() {
            renumber(new_table, &mut self.next_position);
            table.insert_formatted(key, item);
            return;
        }
        let keys: Vec<String> = table.iter().map(|(key, _)| key.to_owned()).collect();
        let at = previous
            .and_then(|previous| keys.iter().position(|other| other == previous))
            .map_or(0, |index| index + 1);
        let moved: Vec<(Key, Item)> = keys[at..]
            .iter()
            .filter_map(|other| table.remove_entry(other))
            .collect();
        table.insert_formatted(key, item);
        for (other, other_item) in moved {
            table.insert_formatted(&other, other_item);
        }
    }
}

/// Gives a new table, and the tables below it, positions after every table of the document.
fn renumber(table: &mut Table, next: &mut isize) {
    if table.position().is_some() {
        table.set_position(*next);
        *next += 1;
    }
    for (_, item) in table.iter_mut() {
        if let Some(child) = item.as_table_mut() {
            renumber(child, next);
        }
    }
}

enum Outcome {
    Merged,
    Conflict,
}

fn is_dependency_array(path: &[String]) -> bool {
    let last = path.last().map(String::as_str);
    let parent = path.len().checked_sub(2).map(|index| path[index].as_str());
    matches!(last, Some("dependencies" | "requires" | "build-requires"))
        || matches!(parent, Some("optional-dependencies" | "dependency-groups"))
}

/// What identifies an array item: its package name in a dependency array, else its value.
fn item_key(value: &Value, by_name: bool) -> Option<String> {
    match value {
        Value::String(text) if by_name => {
            let text = text.value();
            let name: String = text
                .trim_start()
                .chars()
                .take_while(|char| char.is_ascii_alphanumeric() || "-_.".contains(*char))
                .collect();
            (!name.is_empty()).then(|| name.to_ascii_lowercase().replace(['_', '.'], "-"))
        }
        Value::String(_) | Value::Integer(_) | Value::Float(_) | Value::Boolean(_) => {
            Some(bare(value))
        }
        _ => None,
    }
}

/// The keys of an array's items, if every item has one and no two share it.
fn keys_of(array: &Array, by_name: bool) -> Option<Vec<String>> {
    let keys: Vec<String> = array
        .iter()
        .map(|value| item_key(value, by_name))
        .collect::<Option<_>>()?;
    let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
    (unique.len() == keys.len()).then_some(keys)
}

/// A value as written, without the whitespace and comments around it.
fn bare(value: &Value) -> String {
    value.clone().decorated("", "").to_string()
}

fn same_value(a: &Value, b: &Value) -> bool {
    bare(a) == bare(b)
}

fn merge_array(
    base: Option<&Array>,
    ours: &mut Array,
    theirs: &Array,
    by_name: bool,
) -> Option<Outcome> {
    let empty = Array::new();
    let base = base.unwrap_or(&empty);
    let base_keys = keys_of(base, by_name)?;
    let theirs_keys = keys_of(theirs, by_name)?;
    keys_of(ours, by_name)?;
    let find = |array: &Array, key: &str| {
        array
            .iter()
            .position(|value| item_key(value, by_name).as_deref() == Some(key))
    };
    for (index, key) in base_keys.iter().enumerate() {
        if theirs_keys.contains(key) {
            continue;
        }
        if let Some(at) = find(ours, key) {
            if !same_value(&ours.iter().nth(at)?.clone(), base.get(index)?) {
                return Some(Outcome::Conflict);
            }
            ours.remove(at);
        }
    }
    for (index, key) in theirs_keys.iter().enumerate() {
        let theirs_value = theirs.get(index)?;
        let base_value = base_keys
            .iter()
            .position(|other| other == key)
            .and_then(|at| base.get(at));
        match (find(ours, key), base_value) {
            (Some(at), _) if same_value(ours.get(at)?, theirs_value) => {}
            (Some(_), Some(base_value)) if same_value(base_value, theirs_value) => {}
            (Some(at), Some(base_value)) if same_value(ours.get(at)?, base_value) => {
                let decor = ours.get(at)?.decor().clone();
                let mut value = theirs_value.clone();
                *value.decor_mut() = decor;
                ours.replace_formatted(at, value);
            }
            (None, Some(base_value)) if same_value(base_value, theirs_value) => {}
            (Some(_), _) | (None, Some(_)) => return Some(Outcome::Conflict),
            (None, None) => {
                let after = theirs_keys[..index]
                    .iter()
                    .rev()
                    .find_map(|before| find(ours, before));
                let mut at = after.map_or(0, |after| after + 1);
                // Past the items you added there, so that yours stay next to what they follow.
                while ours.get(at).is_some_and(|value| {
                    item_key(value, by_name)
                        .is_some_and(|key| !base_keys.contains(&key) && !theirs_keys.contains(&key))
                }) {
                    at += 1;
                }
                insert_item(ours, at, theirs_value.clone());
            }
        }
    }
    Some(Outcome::Merged)
}

fn prefix_of(value: &Value) -> String {
    value
        .decor()
        .prefix()
        .and_then(|prefix| prefix.as_str())
        .unwrap_or("")
        .to_owned()
}

/// An item's line break and indentation, without the comment that ends the line above.
fn plain(prefix: &str) -> String {
    prefix.rfind('\n').map_or_else(
        || prefix.to_owned(),
        |at| format!("\n{}", &prefix[at + 1..]),
    )
}

/// Inserts `value` at `at`, formatted as its neighbours are. The comment at the end of a line
/// belongs to the item on it, so it stays there: in a multi-line array it is part of what
/// follows that item's comma (the next item's prefix, or the array's trailing text at the end).
fn insert_item(array: &mut Array, at: usize, mut value: Value) {
    let Some(last) = array.len().checked_sub(1) else {
        array.push_formatted(value);
        return;
    };
    let trailing = array.trailing().as_str().unwrap_or("").to_owned();
    let multiline =
        trailing.contains('\n') || array.iter().any(|item| prefix_of(item).contains('\n'));
    let suffix = array
        .get(at.min(last))
        .and_then(|item| item.decor().suffix())
        .and_then(|suffix| suffix.as_str())
        .unwrap_or("")
        .to_owned();
    if let Some(next) = array.get_mut(at) {
        let old = prefix_of(next);
        let moved = if multiline {
            plain(&old)
        } else if at == 0 {
            " ".to_owned()
        } else {
            old.clone()
        };
        next.decor_mut().set_prefix(moved);
        value.decor_mut().set_prefix(old);
    } else {
        let last_prefix = array.get(last).map(prefix_of).unwrap_or_default();
        if multiline {
            let (comment, rest) = trailing.rfind('\n').map_or_else(
                || (trailing.clone(), String::new()),
                |end| (trailing[..end].to_owned(), trailing[end..].to_owned()),
            );
            value
                .decor_mut()
                .set_prefix(format!("{comment}{}", plain(&last_prefix)));
            array.set_trailing(rest);
        } else {
            value.decor_mut().set_prefix(if last_prefix.is_empty() {
                " ".to_owned()
            } else {
                last_prefix
            });
        }
    }
    value.decor_mut().set_suffix(suffix);
    array.insert_formatted(at, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::merge::lines::{self, tests::labels};

    fn check(base: &str, ours: &str, theirs: &str, expected: &str) {
        let actual = match merge(base, ours, theirs, &labels()) {
            None => "declined".to_owned(),
            Some(merged) if merged.conflicts == 0 => merged.text,
            Some(merged) => format!("{} conflict(s)\n{}", merged.conflicts, merged.text),
        };
        assert_eq!(actual, expected);
    }

    const BASE: &str = "[project]\nname = \"demo\"\nversion = \"0.1.0\"\n# Runtime\ndependencies = [\n    \"joblib>=1.4,<2\",\n    \"pandas>=2.2,<3\",\n    \"scikit-learn>=1.8,<2\",\n]\n\n[tool.ruff]\nline-length = 100\n";

    #[test]
    fn dependencies_added_next_to_each_other_merge_by_name() {
        let ours = BASE.replace(
            "    \"pandas>=2.2,<3\",\n",
            "    \"lightgbm>=4.5,<5\",\n    \"pandas>=2.2,<3\",\n    \"polars>=1,<2\",  # faster\n",
        );
        let theirs = BASE
            .replace(
                "    \"pandas>=2.2,<3\",\n",
                "    \"mlflow>=3.17,<4\",\n    \"pandas>=2.3,<3\",\n",
            )
            .replace(
                "line-length = 100\n",
                "line-length = 100\ntarget-version = \"py311\"\n",
            );
        assert_eq!(lines::merge(BASE, &ours, &theirs, &labels()).conflicts, 1);
        // The template's new package goes after yours at the same place; its raised bound
        // reaches your line.
        check(
            BASE,
            &ours,
            &theirs,
            &BASE
                .replace(
                    "    \"pandas>=2.2,<3\",\n",
                    "    \"lightgbm>=4.5,<5\",\n    \"mlflow>=3.17,<4\",\n    \"pandas>=2.3,<3\",\n    \
                     \"polars>=1,<2\",  # faster\n",
                )
                .replace(
                    "line-length = 100\n",
                    "line-length = 100\ntarget-version = \"py311\"\n",
                ),
        );
    }

    #[test]
    fn comments_at_the_end_of_a_line_stay_on_it() {
        let base = "a = [\n    \"x\",\n    \"z\",\n]\nb = [\"x\", \"z\"]\n";
        check(
            base,
            "a = [\n    \"x\",  # ex\n    \"z\",  # zed\n]\nb = [\"x\", \"z\"]\n",
            "a = [\n    \"x\",\n    \"y\",\n    \"z\",\n    \"zz\",\n]\nb = [\"w\", \"x\", \"y\", \"z\", \"zz\"]\n",
            "a = [\n    \"x\",  # ex\n    \"y\",\n    \"z\",  # zed\n    \"zz\",\n]\nb = [\"w\", \"x\", \"y\", \"z\", \"zz\"]\n",
        );
    }

    #[test]
    fn a_key_and_tables_added_and_removed() {
        check(
            "a = 1\nb = 2\n\n[x]\ny = 1\n",
            "a = 1\nb = 2\nmine = 3\n\n[x]\ny = 1\n",
            "a = 1\nnew = 0\n\n[x]\ny = 1\n\n[z]\nw = 1\n",
            "a = 1\nnew = 0\nmine = 3\n\n[x]\ny = 1\n\n[z]\nw = 1\n",
        );
    }

    #[test]
    fn a_value_changed_on_both_sides_still_conflicts_around_its_lines() {
        check(
            BASE,
            &BASE.replace("version = \"0.1.0\"", "version = \"0.2.0\"  # ours"),
            &BASE
                .replace("version = \"0.1.0\"", "version = \"1.0.0\"")
                .replace("    \"joblib>=1.4,<2\",\n", "    \"joblib>=1.5,<2\",\n"),
            &format!(
                "1 conflict(s)\n{}",
                BASE.replace(
                    "version = \"0.1.0\"\n",
                    "<<<<<<< yours\nversion = \"0.2.0\"  # ours\n||||||| level 1\nversion = \"0.1.0\"\n=======\n\
                     version = \"1.0.0\"\n>>>>>>> level 2\n",
                )
                .replace("    \"joblib>=1.4,<2\",\n", "    \"joblib>=1.5,<2\",\n")
            ),
        );
    }

    #[test]
    fn the_same_dependency_raised_differently_conflicts() {
        let merged = merge(
            BASE,
            &BASE.replace("pandas>=2.2,<3", "pandas>=2.2,<2.9"),
            &BASE.replace("pandas>=2.2,<3", "pandas>=2.3,<4"),
            &labels(),
        )
        .unwrap();
        assert_eq!(merged.conflicts, 1);
        assert!(
            merged.text.contains("<<<<<<< yours\ndependencies = [\n"),
            "{}",
            merged.text
        );
    }

    #[test]
    fn what_cannot_be_merged_by_structure_declines() {
        check("a = 1\n", "a = [\n", "a = 2\n", "declined");
        check("[x]\na = 1\n", "[x]\na = 2\n", "b = 1\n", "declined");
    }
}
