//! `mlops-scaffold ARGS` is `mlops ARGS`: the command named like the package, so that
//! `uvx mlops-scaffold new demo` works. It runs the `mlops` installed beside it.
mod sibling;

fn main() -> std::process::ExitCode {
    sibling::run(None)
}
