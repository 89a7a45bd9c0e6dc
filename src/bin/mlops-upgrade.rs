//! `mlops-upgrade ARGS` is `mlops upgrade ARGS`.
fn main() -> std::process::ExitCode {
    mlops_scaffold::run_subcommand("upgrade", std::env::args_os())
}
