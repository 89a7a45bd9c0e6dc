//! What the shims `mlops-new`, `mlops-upgrade` and `mlops-scaffold` share: they are not copies of
//! the program but run the `mlops` installed beside them, with their subcommand (if any) put
//! before the arguments they were given. An install therefore carries the program once, and the
//! shims cannot drift from it.
//!
//! On Unix the shim becomes `mlops` (exec): signals reach the real program and its exit status is
//! the one the caller sees. Elsewhere the shim waits for `mlops` and exits with its code. The
//! shims use the standard library only, so they stay small.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Runs `mlops [SUBCOMMAND] ARGS...`, where ARGS are the shim's own arguments, unchanged.
pub(crate) fn run(subcommand: Option<&str>) -> ExitCode {
    let mut args = std::env::args_os();
    let shim = args.next().unwrap_or_default();
    let shim = Path::new(&shim)
        .file_stem()
        .unwrap_or(OsStr::new("mlops-shim"))
        .to_string_lossy()
        .into_owned();
    let program = match find_mlops(&shim) {
        Ok(program) => program,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let mut command = Command::new(&program);
    command.args(subcommand).args(args);
    exec(command, &program)
}

/// The `mlops` beside the running executable or, when that is a link whose target lies elsewhere
/// (macOS does not resolve it), beside the link's target. Never one found on PATH, which could
/// be another version.
fn find_mlops(shim: &str) -> Result<PathBuf, String> {
    let name = format!("mlops{}", std::env::consts::EXE_SUFFIX);
    let executable = std::env::current_exe()
        .map_err(|error| format!("cannot tell where `{shim}` is installed: {error}"))?;
    let beside = executable.with_file_name(&name);
    if beside.is_file() {
        return Ok(beside);
    }
    std::fs::canonicalize(&executable)
        .map(|target| target.with_file_name(&name))
        .ok()
        .filter(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "`{}` is missing: `{shim}` runs the `mlops` installed beside it \
                 (reinstall mlops-scaffold)",
                beside.display()
            )
        })
}

#[cfg(unix)]
fn exec(mut command: Command, program: &Path) -> ExitCode {
    use std::os::unix::process::CommandExt as _;
    // `exec` returns only when it failed.
    let error = command.exec();
    eprintln!("error: cannot run `{}`: {error}", program.display());
    ExitCode::FAILURE
}

#[cfg(not(unix))]
fn exec(mut command: Command, program: &Path) -> ExitCode {
    match command.status() {
        // Windows exit codes are 32 bits: `ExitCode` would truncate them.
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(error) => {
            eprintln!("error: cannot run `{}`: {error}", program.display());
            ExitCode::FAILURE
        }
    }
}
