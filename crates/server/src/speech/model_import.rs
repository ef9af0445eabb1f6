//! `fluxion models import FILE`: copies a Whisper model the operator already
//! has (another machine, a USB key, a mirror) into the models directory, for
//! machines that cannot reach Hugging Face.
//!
//! The file must be a ggml Whisper model (it starts with the ggml magic
//! number). Its SHA-256 is compared with the catalogue ([`super::models::CATALOGUE`]):
//! a known upstream file is imported under its catalogue name, verified; any
//! other ggml file is accepted under its own file name, with a warning that
//! it could not be verified. The copy goes through `<file>.part` and a
//! rename, so a half-copied model is never loaded.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::models::{sha256_file, Model, CATALOGUE};

/// The first four bytes of a ggml Whisper model (`0x67676d6c`, little-endian).
pub const GGML_MAGIC: [u8; 4] = *b"lmgg";

/// What was imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Where the model now is.
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// The catalogue entry whose pinned SHA-256 it matches, if any.
    pub verified: Option<&'static Model>,
}

impl Imported {
    /// One line for the operator: verified against the catalogue, or not.
    pub fn describe(&self) -> String {
        match self.verified {
            Some(model) => format!("{} imported and verified: it is the upstream {} (SHA-256 {})", self.path.display(), model.name, self.sha256),
            None => format!(
                "{} imported, but NOT verified: its SHA-256 {} matches no upstream file in the catalogue; use it only if you trust where it came from",
                self.path.display(),
                self.sha256
            ),
        }
    }
}

/// Copies the ggml model at `file` into `dir` (created if needed) and
/// returns what was imported. A catalogue file keeps its catalogue name;
/// any other keeps its own file name.
///
/// # Errors
/// `file` unreadable or not a ggml model, no file name, or an I/O error
/// writing into `dir` (the part file is removed).
pub async fn import(file: &Path, dir: &Path) -> anyhow::Result<Imported> {
    let mut source = tokio::fs::File::open(file).await.with_context(|| format!("opening {}", file.display()))?;
    let mut magic = [0u8; 4];
    if source.read_exact(&mut magic).await.is_err() || magic != GGML_MAGIC {
        bail!("{} is not a ggml Whisper model (whisper.cpp's .bin format)", file.display());
    }
    let sha256 = sha256_file(file).await?;
    let verified = CATALOGUE.iter().find(|m| m.sha256 == Some(sha256.as_str()));
    let name = match verified {
        Some(model) => model.file.to_string(),
        None => {
            file.file_name().map(|n| n.to_string_lossy().into_owned()).with_context(|| format!("{} has no file name", file.display()))?
        }
    };
    tokio::fs::create_dir_all(dir).await.with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(&name);
    if same_file(file, &path).await {
        return Ok(Imported { path, sha256, verified });
    }
    let part = dir.join(format!("{name}.part"));
    if let Err(e) = copy(file, &part).await {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(e);
    }
    tokio::fs::rename(&part, &path).await.with_context(|| format!("moving {} to {}", part.display(), path.display()))?;
    Ok(Imported { path, sha256, verified })
}

/// Whether `a` and `b` are the same file on disk (importing a file onto itself).
async fn same_file(a: &Path, b: &Path) -> bool {
    match (tokio::fs::canonicalize(a).await, tokio::fs::canonicalize(b).await) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

async fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut out = tokio::fs::File::create(to).await.with_context(|| format!("creating {}", to.display()))?;
    let mut input = tokio::fs::File::open(from).await.with_context(|| format!("opening {}", from.display()))?;
    tokio::io::copy(&mut input, &mut out).await.with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    out.flush().await.with_context(|| format!("writing {}", to.display()))?;
    out.sync_all().await.with_context(|| format!("writing {}", to.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_ggml_file_is_imported_with_a_warning() {
        let src = tempfile::tempdir().unwrap();
        let file = src.path().join("ggml-base-q5_1.bin");
        std::fs::write(&file, [&GGML_MAGIC[..], b"weights"].concat()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let imported = import(&file, &dir.path().join("models")).await.unwrap();
        assert_eq!(imported.path, dir.path().join("models/ggml-base-q5_1.bin"));
        assert_eq!(imported.verified, None);
        assert_eq!(std::fs::read(&imported.path).unwrap(), std::fs::read(&file).unwrap());
        assert!(imported.describe().contains("NOT verified") && imported.describe().contains(&imported.sha256));
        assert!(!dir.path().join("models/ggml-base-q5_1.bin.part").exists());
        // Importing the imported file onto itself keeps it.
        let again = import(&imported.path, &dir.path().join("models")).await.unwrap();
        assert_eq!(std::fs::read(&again.path).unwrap(), std::fs::read(&file).unwrap());
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_model_is_refused() {
        let src = tempfile::tempdir().unwrap();
        let file = src.path().join("notes.txt");
        std::fs::write(&file, b"hello").unwrap();
        let err = import(&file, src.path()).await.unwrap_err();
        assert!(err.to_string().contains("not a ggml Whisper model"), "{err}");
        let err = import(&src.path().join("absent.bin"), src.path()).await.unwrap_err();
        assert!(format!("{err:#}").contains("absent.bin"), "{err:#}");
    }

    #[test]
    fn a_catalogue_file_is_described_as_verified() {
        let model = &CATALOGUE[1];
        let imported = Imported {
            path: PathBuf::from("/m/ggml-base-q5_1.bin"),
            sha256: model.sha256.unwrap_or_default().to_string(),
            verified: Some(model),
        };
        assert!(imported.describe().contains("verified: it is the upstream base-q5_1"), "{}", imported.describe());
    }
}
