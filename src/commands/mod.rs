//! One module per subcommand: each takes its parsed arguments and returns an exit status.

pub mod assess;
pub mod completions;
pub mod levels;
pub mod new;
pub mod upgrade;
