//! `mlops-new ARGS` is `mlops new ARGS`.
fn main() -> std::process::ExitCode {
    mlops_scaffold::run_subcommand("new", std::env::args_os())
}
