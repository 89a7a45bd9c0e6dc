//! Reading a user's file safely: only a regular file, never more than a limit, never blocking.
//!
//! A path the tool reads (the manifest, a generated file, `pyproject.toml`, an answers file) may
//! be a FIFO that would block forever, a device such as `/dev/zero` that never ends, a sparse
//! file of gigabytes, or a symlink to any of them. The file is opened without blocking (and, when
//! asked, without following a final symlink), and what was opened is checked with `fstat` before
//! a byte is read, so the answer describes the file actually read, not one swapped in after a
//! check.

use std::fs::File;
use std::io::{self, Read as _};
use std::path::Path;

/// What was found at a path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FileRead {
    /// A regular file's whole content.
    Regular(Vec<u8>),
    /// Nothing at the path.
    Missing,
    /// A symlink, not followed (only when reading with [`Follow::No`]).
    Symlink,
    /// A directory, FIFO, socket or device: not read.
    NotAFile(&'static str),
    /// A regular file larger than the limit: not read.
    TooLarge(u64),
}

/// Whether a symlink at the path itself is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follow {
    Yes,
    No,
}

/// The largest file read whole by default: generated files, manifests and answers files are far
/// smaller.
pub(crate) const DEFAULT_LIMIT: u64 = 16 * 1024 * 1024;

/// Reads the file at `path` if it is a regular file of at most `limit` bytes.
pub(crate) fn read_file(path: &Path, limit: u64, follow: Follow) -> io::Result<FileRead> {
    let file = match open(path, follow) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(FileRead::Missing),
        Err(error) if follow == Follow::No && is_symlink_refusal(&error, path) => {
            return Ok(FileRead::Symlink);
        }
        Err(error) => return Err(error),
    };
    let metadata = file.metadata()?;
    let file_type = metadata.file_type();
    if !file_type.is_file() {
        return Ok(FileRead::NotAFile(describe(file_type)));
    }
    if metadata.len() > limit {
        return Ok(FileRead::TooLarge(metadata.len()));
    }
    let mut content = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    // The file may have grown since `fstat`: never read past the limit.
    file.take(limit + 1).read_to_end(&mut content)?;
    if content.len() as u64 > limit {
        return Ok(FileRead::TooLarge(content.len() as u64));
    }
    Ok(FileRead::Regular(content))
}

/// The first `limit` bytes of the file at `path` if it is a regular file (never following a
/// final symlink): how `mlops assess` reads repositories of any size.
pub(crate) fn read_prefix(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match open(path, Follow::No) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) if is_symlink_refusal(&error, path) => return Ok(None),
        Err(error) => return Err(error),
    };
    let metadata = file.metadata()?;
    if !metadata.file_type().is_file() {
        return Ok(None);
    }
    let size = metadata.len().min(limit);
    // Sized to the file, so that it takes one read and one more to see its end.
    let mut content = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
    file.take(limit).read_to_end(&mut content)?;
    Ok(Some(content))
}

/// What a file that is not a regular file is, in a few words.
fn describe(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

#[cfg(unix)]
fn open(path: &Path, follow: Follow) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if follow == Follow::No {
        flags |= OFlags::NOFOLLOW;
    }
    Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
}

#[cfg(not(unix))]
fn open(path: &Path, follow: Follow) -> io::Result<File> {
    if follow == Follow::No
        && std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
    {
        return Err(io::Error::other("a symlink"));
    }
    File::open(path)
}

/// `O_NOFOLLOW` on a symlink fails with `ELOOP`; some systems say `EMLINK` or `EFTYPE`, so the
/// path is checked again rather than trusting the code.
fn is_symlink_refusal(error: &io::Error, path: &Path) -> bool {
    error.kind() != io::ErrorKind::NotFound
        && std::fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, b"hello").unwrap();
        assert_eq!(
            read_file(&path, 5, Follow::No).unwrap(),
            FileRead::Regular(b"hello".to_vec())
        );
        assert_eq!(
            read_file(&path, 4, Follow::No).unwrap(),
            FileRead::TooLarge(5)
        );
        assert_eq!(
            read_file(&dir.path().join("nope"), 5, Follow::No).unwrap(),
            FileRead::Missing
        );
        assert_eq!(
            read_file(dir.path(), 5, Follow::Yes).unwrap(),
            FileRead::NotAFile("a directory")
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_symlinks_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert_eq!(
            read_file(&link, 1024, Follow::No).unwrap(),
            FileRead::Symlink
        );
        assert_eq!(
            read_file(&link, 1024, Follow::Yes).unwrap(),
            FileRead::NotAFile("a device")
        );
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // Opening a FIFO with no writer would block without O_NONBLOCK.
        assert_eq!(
            read_file(&fifo, 1024, Follow::Yes).unwrap(),
            FileRead::NotAFile("a FIFO")
        );
    }
}
