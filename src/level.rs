//! The maturity levels, declared once: their range, their names in the maturity model, and how a
//! level is read from the command line, an answers file or a manifest.
//!
//! A [`Level`] is always in range, so code that holds one never checks it again; the only ways in
//! are [`Level::new`] and [`Level::parse`], which say what the levels are when they refuse.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A maturity level, 0 to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub(crate) struct Level(u8);

/// The stages of the maturity model, by level.
const NAMES: [&str; 5] = [
    "No MLOps",
    "DevOps but no MLOps",
    "Automated Training",
    "Automated Model Deployment",
    "Full MLOps Automated Retraining",
];

impl Level {
    pub(crate) const ZERO: Level = Level(0);
    pub(crate) const MAX: Level = Level(4);
    /// The first level the compute engine (`compute`) changes: training's search and batch
    /// scoring run on it from here.
    pub(crate) const COMPUTE_FROM: Level = Level(2);

    /// The level numbered `number`, if there is one.
    pub(crate) fn new(number: u8) -> Option<Level> {
        (number <= Self::MAX.0).then_some(Level(number))
    }

    /// Reads a level as a user writes it: `2`, or ` 2 `.
    pub(crate) fn parse(text: &str) -> Result<Level, String> {
        text.trim()
            .parse::<u8>()
            .ok()
            .and_then(Level::new)
            .ok_or_else(|| Self::range_hint().to_owned())
    }

    /// What every refusal of a level says.
    pub(crate) fn range_hint() -> &'static str {
        "levels are 0 to 4"
    }

    /// Every level, lowest first.
    pub(crate) fn all() -> impl DoubleEndedIterator<Item = Level> {
        (0..=Self::MAX.0).map(Level)
    }

    /// The levels above `self` up to `to`, in order: the steps of an upgrade.
    pub(crate) fn steps_to(self, to: Level) -> impl Iterator<Item = Level> {
        (self.0 + 1..=to.0).map(Level)
    }

    pub(crate) const fn number(self) -> u8 {
        self.0
    }

    /// The position of the level among all levels, for indexing per-level tables.
    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }

    /// The stage's name in the maturity model, such as `Automated Training`.
    pub(crate) fn name(self) -> &'static str {
        NAMES[self.index()]
    }

    /// The level above, or `None` at the top.
    pub(crate) fn next(self) -> Option<Level> {
        Level::new(self.0 + 1)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<u8> for Level {
    type Error = String;

    fn try_from(number: u8) -> Result<Self, Self::Error> {
        Level::new(number)
            .ok_or_else(|| format!("{number} is not a level ({})", Self::range_hint()))
    }
}

impl From<Level> for u8 {
    fn from(level: Level) -> Self {
        level.0
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Level::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Result<u8, &str>) {
        assert_eq!(
            Level::parse(text).map(Level::number),
            expected.map_err(str::to_owned),
            "{text:?}"
        );
    }

    #[test]
    fn parsing() {
        check("0", Ok(0));
        check(" 4 ", Ok(4));
        check("5", Err("levels are 0 to 4"));
        check("-1", Err("levels are 0 to 4"));
        check("two", Err("levels are 0 to 4"));
        check("", Err("levels are 0 to 4"));
    }

    #[test]
    fn names_and_neighbours() {
        let names: Vec<&str> = Level::all().map(Level::name).collect();
        assert_eq!(names.len(), 5);
        assert_eq!(Level::MAX.name(), "Full MLOps Automated Retraining");
        assert_eq!(Level::ZERO.next(), Level::new(1));
        assert_eq!(Level::MAX.next(), None);
        let steps: Vec<u8> = Level::new(1)
            .unwrap()
            .steps_to(Level::MAX)
            .map(Level::number)
            .collect();
        assert_eq!(steps, [2, 3, 4]);
    }

    #[test]
    fn serialises_as_a_number_and_refuses_out_of_range() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Holder {
            level: Level,
        }
        let text = toml::to_string(&Holder { level: Level::MAX }).unwrap();
        assert_eq!(text, "level = 4\n");
        let error = toml::from_str::<Holder>("level = 9\n").unwrap_err();
        assert!(
            error
                .message()
                .contains("9 is not a level (levels are 0 to 4)"),
            "{error}"
        );
    }
}
