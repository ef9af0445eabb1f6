//! Folders and files that hold personal or secret data (the database, the
//! phrase cache, recordings, downloaded models): folders are created with
//! mode 700 and files with mode 600 on Unix, so other users of the machine
//! cannot read them. Elsewhere the platform's defaults apply.

use std::io::Write;
use std::path::Path;

/// Creates `dir` and any missing parents, each new folder with mode 700
/// (existing folders are left as they are).
///
/// # Errors
/// A folder cannot be created.
pub fn create_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Sets `dir`'s mode to 700 (a folder Fluxion owns, such as its platform
/// data directory, created earlier with looser permissions).
///
/// # Errors
/// The mode cannot be changed.
pub fn tighten_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `bytes` to `path` (created with mode 600, or truncated).
///
/// # Errors
/// The file cannot be written.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn folders_700_files_600() {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("a").join("b");
        create_dir_all(&dir).expect("dirs");
        for d in [root.path().join("a"), dir.clone()] {
            assert_eq!(std::fs::metadata(&d).expect("dir").permissions().mode() & 0o777, 0o700, "{}", d.display());
        }
        let file = dir.join("x.wav");
        write(&file, b"RIFF").expect("file");
        assert_eq!(std::fs::metadata(&file).expect("file").permissions().mode() & 0o777, 0o600);
        let loose = root.path().join("loose");
        std::fs::create_dir(&loose).expect("dir");
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        tighten_dir(&loose).expect("tighten");
        assert_eq!(std::fs::metadata(&loose).expect("dir").permissions().mode() & 0o777, 0o700);
    }
}
