//! `mlops-upgrade ARGS` is `mlops upgrade ARGS`: it runs the `mlops` installed beside it.
mod sibling;

fn main() -> std::process::ExitCode {
    sibling::run(Some("upgrade"))
}
