//! `mlops`: see the crate documentation in `lib.rs`.

fn main() -> std::process::ExitCode {
    mlops_scaffold::run(std::env::args_os())
}
