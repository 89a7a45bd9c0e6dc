//! What happens to one file in an upgrade step: the classification every plan, preview and
//! JSON report speaks in.

use serde::Serialize;

/// What happens to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Action {
    /// The next level adds the file and the user has none: written.
    Create,
    /// The user had not touched the file and the template changed it: replaced.
    Update,
    /// Both changed it, in different places: merged and written.
    Merge,
    /// Both changed the same lines: written with conflict markers.
    Conflict,
    /// Both changed a binary file: the user's is kept, the new version written beside it.
    BinaryConflict,
    /// Only the user changed it (or it is seeded, so it is the user's): left as it is.
    Keep,
    /// The user already has exactly what the next level generates: left as it is.
    Adopt,
    /// The user deleted a generated file: it is not recreated.
    Skip,
    /// The template no longer generates the file: it is kept and no longer managed.
    Orphan,
    /// Nobody changed it: nothing to do.
    Unchanged,
}

impl Action {
    pub(crate) const ALL: [Action; 10] = [
        Action::Create,
        Action::Update,
        Action::Merge,
        Action::Conflict,
        Action::BinaryConflict,
        Action::Keep,
        Action::Adopt,
        Action::Skip,
        Action::Orphan,
        Action::Unchanged,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Merge => "merge",
            Self::Conflict => "conflict",
            Self::BinaryConflict => "binary_conflict",
            Self::Keep => "keep",
            Self::Adopt => "adopt",
            Self::Skip => "skip",
            Self::Orphan => "orphan",
            Self::Unchanged => "unchanged",
        }
    }

    pub(crate) fn is_conflict(self) -> bool {
        matches!(self, Self::Conflict | Self::BinaryConflict)
    }
}
