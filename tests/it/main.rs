//! The integration tests: one binary, a module per command, each running the real binaries in
//! temporary directories through the small context in `support.rs`.

mod adopt;
mod assess;
mod hostile;
mod install;
mod levels;
mod new;
mod scenario;
mod support;
mod tree_snapshots;
mod update;
mod upgrade;
