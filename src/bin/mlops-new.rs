//! `mlops-new ARGS` is `mlops new ARGS`: it runs the `mlops` installed beside it.
mod sibling;

fn main() -> std::process::ExitCode {
    sibling::run(Some("new"))
}
