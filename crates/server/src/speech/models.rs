//! The catalogue of model files Fluxion can download, where local engines
//! look for them, and the download itself (`fluxion models download <name>`).
//!
//! Whisper models are the ggml files published by the whisper.cpp project at
//! <https://huggingface.co/ggerganov/whisper.cpp>. Each catalogue entry pins
//! the file's size and SHA-256 (the Hugging Face LFS object id); a download
//! is hashed while it streams and only renamed into place when both match.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use futures::StreamExt as _;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use super::MODELS_DIR_ENV;

/// Where the catalogue's Whisper files are downloaded from: the file name is
/// appended after a `/`.
pub const WHISPER_BASE_URL: &str = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

/// The environment variable naming the Whisper model to load: a catalogue
/// name (`base-q5_1`), a file name in the models directory, or a path.
pub const WHISPER_MODEL_ENV: &str = "WHISPER_MODEL";

/// The model recommended for Italian phone calls on a small CPU.
pub const DEFAULT_WHISPER_MODEL: &str = "base-q5_1";

/// Whisper files looked for, best first, when no model is named.
pub const WHISPER_PREFERENCE: [&str; 5] =
    ["ggml-base-q5_1.bin", "ggml-small-q5_1.bin", "ggml-tiny-q5_1.bin", "ggml-base.bin", "ggml-tiny.bin"];

/// A downloadable model file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// The name `fluxion models download` takes (`base-q5_1`).
    pub name: &'static str,
    /// The file name in the models directory (`ggml-base-q5_1.bin`).
    pub file: &'static str,
    /// Exact file size, in bytes.
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the file; `None` when no verified value is
    /// known (the download is then accepted unverified, with a warning).
    pub sha256: Option<&'static str>,
    /// One line for `fluxion models list`.
    pub description: &'static str,
}

/// Every model Fluxion knows how to download.
///
/// Sizes and SHA-256 values are the Hugging Face LFS object ids of
/// `ggerganov/whisper.cpp` (unchanged since the q5_1 files were published);
/// they were cross-checked against several independent public catalogues,
/// not fetched from Hugging Face by the build.
pub const CATALOGUE: &[Model] = &[
    Model {
        name: "tiny-q5_1",
        file: "ggml-tiny-q5_1.bin",
        bytes: 32_152_673,
        sha256: Some("818710568da3ca15689e31a743197b520007872ff9576237bda97bd1b469c3d7"),
        description: "Whisper tiny, multilingual, 5-bit: fastest, rough on Italian phone audio",
    },
    Model {
        name: "base-q5_1",
        file: "ggml-base-q5_1.bin",
        bytes: 59_707_625,
        sha256: Some("422f1ae452ade6f30a004d7e5c6a43195e4433bc370bf23fac9cc591f01a8898"),
        description: "Whisper base, multilingual, 5-bit: the default for a small CPU",
    },
    Model {
        name: "small-q5_1",
        file: "ggml-small-q5_1.bin",
        bytes: 190_085_487,
        sha256: Some("ae85e4a935d7a567bd102fe55afc16bb595bdb618e11b2fc7591bc08120411bb"),
        description: "Whisper small, multilingual, 5-bit: better Italian, about 3× slower than base",
    },
];

/// The catalogue entry called `name`, if any.
pub fn find(name: &str) -> Option<&'static Model> {
    CATALOGUE.iter().find(|m| m.name == name)
}

/// The catalogue's names, comma-separated, for messages.
pub fn known_names() -> String {
    CATALOGUE.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

/// The Whisper model file to load from `dir`.
///
/// With `model` (from [`WHISPER_MODEL_ENV`]): a catalogue name becomes its
/// file in `dir`; anything else is a file name or path (relative to `dir`
/// unless absolute). Without: the first file of [`WHISPER_PREFERENCE`]
/// present in `dir`, or the default model's path when none is (so the
/// "not found" message names what to download). The file may not exist.
pub fn whisper_model_path(dir: &Path, model: Option<&str>) -> PathBuf {
    match model.map(str::trim).filter(|m| !m.is_empty()) {
        Some(name) => match find(name) {
            Some(entry) => dir.join(entry.file),
            None => dir.join(name),
        },
        None => WHISPER_PREFERENCE
            .iter()
            .map(|file| dir.join(file))
            .find(|path| path.is_file())
            .unwrap_or_else(|| dir.join(format!("ggml-{DEFAULT_WHISPER_MODEL}.bin"))),
    }
}

/// What to tell the operator when the Whisper model at `path` is missing:
/// the `fluxion models download <name>` command that fetches it (the
/// catalogue entry for that file name, else [`DEFAULT_WHISPER_MODEL`]) and
/// the variables that choose the directory and the model.
pub fn missing_model_message(path: &Path) -> String {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let name = CATALOGUE.iter().find(|m| m.file == file).map_or(DEFAULT_WHISPER_MODEL, |m| m.name);
    format!(
        "Whisper model {} not found: download it with `fluxion models download {name}` \
         (into {MODELS_DIR_ENV}, default ./models), or set {WHISPER_MODEL_ENV} to a model you have (known: {})",
        path.display(),
        known_names()
    )
}

/// One line for `serve` when the configured recogniser is local Whisper and
/// its model file is missing from `dir`: how to get one. `None` otherwise.
pub fn missing_model_hint(dir: &Path) -> Option<String> {
    let engine = std::env::var("STT_ENGINE").unwrap_or_default();
    if !matches!(engine.trim().to_ascii_lowercase().as_str(), "" | "whisper" | "whisper.cpp" | "local") {
        return None;
    }
    let path = whisper_model_path(dir, std::env::var(WHISPER_MODEL_ENV).ok().as_deref());
    (!path.is_file()).then(|| {
        format!(
            "No Whisper model at {}: phone calls need one: `fluxion models download {DEFAULT_WHISPER_MODEL}` (offline: `fluxion models import FILE`).",
            path.display()
        )
    })
}

/// Downloads the catalogue model `name` from Hugging Face into `dir` and
/// returns its path. A file already there with the right checksum is kept.
///
/// # Errors
/// An unknown name (the message lists the known ones), an HTTP error status,
/// a dropped connection, a size or SHA-256 mismatch (the partial file is
/// deleted), or an I/O error writing into `dir`.
pub async fn download(name: &str, dir: &Path, client: &reqwest::Client) -> anyhow::Result<PathBuf> {
    download_with_progress(name, dir, client, &mut |_, _| {}).await
}

/// [`download`], calling `progress(received, total)` (bytes) as the file streams in.
///
/// # Errors
/// As [`download`]; when Hugging Face cannot be reached the message names
/// `fluxion models import FILE`.
pub async fn download_with_progress(name: &str, dir: &Path, client: &reqwest::Client, progress: Progress<'_>) -> anyhow::Result<PathBuf> {
    let Some(model) = find(name) else {
        bail!("unknown model {name:?}; known models: {}", known_names());
    };
    download_model_with_progress(model, WHISPER_BASE_URL, dir, client, progress).await
}

/// Called with (bytes received, bytes expected) while a model downloads.
pub type Progress<'a> = &'a mut (dyn FnMut(u64, u64) + Send);

/// What to say when the model host cannot be reached.
fn unreachable_host(url: &str, e: &reqwest::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "cannot reach {url} ({e}): the network looks unreachable; on a machine without access, copy a model file in with `fluxion models import FILE`"
    )
}

/// Downloads `model` from `{base_url}/{model.file}` into `dir` and returns
/// its path: streams into `<file>.part` while hashing, checks size and
/// SHA-256, then renames the part file into place (atomic on one file
/// system). A file already in place with the right checksum is kept.
///
/// # Errors
/// As [`download`].
pub async fn download_model(model: &Model, base_url: &str, dir: &Path, client: &reqwest::Client) -> anyhow::Result<PathBuf> {
    download_model_with_progress(model, base_url, dir, client, &mut |_, _| {}).await
}

/// [`download_model`] with a progress callback.
///
/// # Errors
/// As [`download`].
pub async fn download_model_with_progress(
    model: &Model,
    base_url: &str,
    dir: &Path,
    client: &reqwest::Client,
    progress: Progress<'_>,
) -> anyhow::Result<PathBuf> {
    crate::private_fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(model.file);
    if let Some(expected) = model.sha256 {
        if path.is_file() && sha256_file(&path).await? == expected {
            tracing::info!(model = model.name, path = %path.display(), "Model already present and verified.");
            return Ok(path);
        }
    }
    let part = dir.join(format!("{}.part", model.file));
    let result = fetch(model, base_url, &part, client, progress).await;
    let digest = match result {
        Ok(digest) => digest,
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            return Err(e);
        }
    };
    match model.sha256 {
        Some(expected) if digest != expected => {
            let _ = tokio::fs::remove_file(&part).await;
            bail!("checksum mismatch for {}: expected SHA-256 {expected}, got {digest}; the partial file was deleted", model.file);
        }
        Some(_) => {}
        None => tracing::warn!(model = model.name, sha256 = %digest, "No pinned checksum for this model; the download is unverified."),
    }
    tokio::fs::rename(&part, &path).await.with_context(|| format!("moving {} to {}", part.display(), path.display()))?;
    tracing::info!(model = model.name, path = %path.display(), bytes = model.bytes, "Model downloaded.");
    Ok(path)
}

/// Streams `{base_url}/{model.file}` into `part`, returning the hex SHA-256
/// of what was written.
async fn fetch(model: &Model, base_url: &str, part: &Path, client: &reqwest::Client, progress: Progress<'_>) -> anyhow::Result<String> {
    let url = format!("{}/{}", base_url.trim_end_matches('/'), model.file);
    tracing::info!(model = model.name, %url, bytes = model.bytes, "Downloading model.");
    let response = client.get(&url).send().await.map_err(|e| match e.is_connect() || e.is_timeout() {
        true => unreachable_host(&url, &e),
        false => anyhow::Error::new(e).context(format!("downloading {url}")),
    })?;
    let status = response.status();
    if !status.is_success() {
        bail!("downloading {url}: HTTP {status}");
    }
    let mut file = tokio::fs::File::create(part).await.with_context(|| format!("creating {}", part.display()))?;
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.with_context(|| format!("downloading {url}"))?;
        received += chunk.len() as u64;
        if received > model.bytes {
            bail!("{url} is larger than the expected {} bytes", model.bytes);
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.with_context(|| format!("writing {}", part.display()))?;
        progress(received, model.bytes);
    }
    file.sync_all().await.with_context(|| format!("writing {}", part.display()))?;
    if received != model.bytes {
        bail!("{url} ended after {received} bytes, expected {}", model.bytes);
    }
    Ok(hex(&hasher.finalize()))
}

/// The hex SHA-256 of the file at `path`, read in 1 MiB blocks.
pub async fn sha256_file(path: &Path) -> anyhow::Result<String> {
    use tokio::io::AsyncReadExt as _;
    let mut file = tokio::fs::File::open(path).await.with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).await.with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(buffer.get(..n).unwrap_or_default());
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{http::StatusCode, routing::get, Router};

    /// A fake model host on 127.0.0.1:0 serving `body` at `/ggml-fake.bin`;
    /// returns its base URL.
    async fn serve(body: Vec<u8>) -> String {
        let app = Router::new().route("/ggml-fake.bin", get(move || async move { body.clone() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    fn body() -> Vec<u8> {
        (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
    }

    fn fake(bytes: u64, sha256: Option<&'static str>) -> Model {
        Model { name: "fake", file: "ggml-fake.bin", bytes, sha256, description: "test" }
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    #[test]
    fn catalogue_entries_are_well_formed() {
        for m in CATALOGUE {
            assert_eq!(m.file, format!("ggml-{}.bin", m.name));
            let sha = m.sha256.expect("every catalogue entry has a verified checksum");
            assert_eq!(sha.len(), 64);
            assert!(sha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
        assert!(find(DEFAULT_WHISPER_MODEL).is_some());
        assert_eq!(hex(&Sha256::digest(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn model_paths_follow_names_and_preference() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(whisper_model_path(d, Some("small-q5_1")), d.join("ggml-small-q5_1.bin"));
        assert_eq!(whisper_model_path(d, Some("my.bin")), d.join("my.bin"));
        assert_eq!(whisper_model_path(d, Some("/abs/m.bin")), PathBuf::from("/abs/m.bin"));
        assert_eq!(whisper_model_path(d, None), d.join("ggml-base-q5_1.bin"));
        std::fs::write(d.join("ggml-tiny.bin"), b"x").unwrap();
        assert_eq!(whisper_model_path(d, Some(" ")), d.join("ggml-tiny.bin"));
        std::fs::write(d.join("ggml-small-q5_1.bin"), b"x").unwrap();
        assert_eq!(whisper_model_path(d, None), d.join("ggml-small-q5_1.bin"));
    }

    #[test]
    fn missing_message_names_the_command() {
        let message = missing_model_message(Path::new("/m/ggml-tiny-q5_1.bin"));
        assert!(message.contains("fluxion models download tiny-q5_1"), "{message}");
        let message = missing_model_message(Path::new("/m/custom.bin"));
        assert!(message.contains("fluxion models download base-q5_1"), "{message}");
        assert!(message.contains(MODELS_DIR_ENV) && message.contains(WHISPER_MODEL_ENV));
    }

    #[tokio::test]
    async fn good_download_is_verified_and_renamed() {
        let body = body();
        let sha = leak(hex(&Sha256::digest(&body)));
        let base = serve(body.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let model = fake(body.len() as u64, Some(sha));
        let client = reqwest::Client::new();
        let path = download_model(&model, &base, dir.path(), &client).await.unwrap();
        assert_eq!(path, dir.path().join("ggml-fake.bin"));
        assert_eq!(std::fs::read(&path).unwrap(), body);
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
        // A second call finds the verified file and keeps it.
        let again = download_model(&model, "http://127.0.0.1:9", dir.path(), &client).await.unwrap();
        assert_eq!(again, path);
    }

    #[tokio::test]
    async fn checksum_mismatch_deletes_the_part_file() {
        let body = body();
        let base = serve(body.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let wrong = "0000000000000000000000000000000000000000000000000000000000000000";
        let err = download_model(&fake(body.len() as u64, Some(wrong)), &base, dir.path(), &reqwest::Client::new()).await.unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("checksum mismatch") && message.contains(wrong), "{message}");
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
        assert!(!dir.path().join("ggml-fake.bin").exists());
    }

    #[tokio::test]
    async fn size_mismatch_is_an_error() {
        let body = body();
        let base = serve(body.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let err = download_model(&fake(body.len() as u64 + 1, None), &base, dir.path(), &reqwest::Client::new()).await.unwrap_err();
        assert!(format!("{err:#}").contains("ended after"), "{err:#}");
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
    }

    #[tokio::test]
    async fn not_found_is_an_error() {
        let app = Router::new().route("/ggml-fake.bin", get(|| async { StatusCode::NOT_FOUND }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let dir = tempfile::tempdir().unwrap();
        let err = download_model(&fake(10, None), &base, dir.path(), &reqwest::Client::new()).await.unwrap_err();
        assert!(format!("{err:#}").contains("404"), "{err:#}");
        assert!(!dir.path().join("ggml-fake.bin.part").exists());
        assert!(!dir.path().join("ggml-fake.bin").exists());
    }

    #[tokio::test]
    async fn an_unreachable_host_names_the_import_command() {
        // Port 9 (discard) on loopback refuses connections.
        let dir = tempfile::tempdir().unwrap();
        let mut seen = 0;
        let err =
            download_model_with_progress(&fake(10, None), "http://127.0.0.1:9", dir.path(), &reqwest::Client::new(), &mut |r, _| seen = r)
                .await
                .unwrap_err();
        assert!(err.to_string().contains("fluxion models import FILE"), "{err:#}");
        assert_eq!(seen, 0);
    }

    #[tokio::test]
    async fn progress_reaches_the_size() {
        let body = body();
        let base = serve(body.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let mut last = (0, 0);
        download_model_with_progress(&fake(body.len() as u64, None), &base, dir.path(), &reqwest::Client::new(), &mut |r, t| last = (r, t))
            .await
            .unwrap();
        assert_eq!(last, (body.len() as u64, body.len() as u64));
    }

    #[tokio::test]
    async fn unknown_name_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let err = download("huge-v9", dir.path(), &reqwest::Client::new()).await.unwrap_err();
        let message = err.to_string();
        assert!(message.contains("huge-v9") && message.contains("tiny-q5_1") && message.contains("base-q5_1"), "{message}");
    }
}
