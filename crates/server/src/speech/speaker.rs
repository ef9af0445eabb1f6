//! The voice of a call: text-to-speech with everything that lives once
//! around the engines (see ARCHITECTURE.md): the spoken-Italian
//! verbaliser, a per-sentence deadline, the `TTS_FALLBACK` engine that
//! speaks when the primary fails within the same turn, conversion to the
//! call's sample rate, and the on-disk cache of fixed phrases.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxion_core::audio::resample::Resampler;
use fluxion_core::audio::wav;
use fluxion_core::speech::tts::{AudioSink, TextToSpeech, TtsError};
use fluxion_core::speech::verbalize;
use sha2::{Digest, Sha256};

/// Default deadline for one sentence, in ms (`TTS_TIMEOUT_MS`).
pub const DEFAULT_TIMEOUT_MS: u64 = 4_000;

/// Text-to-speech for calls: primary engine, optional fallback, phrase cache.
pub struct Speaker {
    primary: Arc<dyn TextToSpeech>,
    fallback: Option<Arc<dyn TextToSpeech>>,
    cache: PhraseCache,
    timeout_ms: u64,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("primary", &self.primary.engine())
            .field("fallback", &self.fallback.as_ref().map(|t| t.engine().to_string()))
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl Speaker {
    /// A speaker over `primary`, with `fallback` for when it fails, caching
    /// fixed phrases under `cache_dir` (`None`: in memory only).
    pub fn new(primary: Arc<dyn TextToSpeech>, fallback: Option<Arc<dyn TextToSpeech>>, cache_dir: Option<PathBuf>) -> Self {
        Speaker { primary, fallback, cache: PhraseCache::new(cache_dir), timeout_ms: DEFAULT_TIMEOUT_MS }
    }

    /// The same speaker with a per-sentence deadline of `timeout_ms`.
    pub fn with_timeout_ms(mut self, timeout_ms: u64) -> Self {
        self.timeout_ms = timeout_ms.max(1);
        self
    }

    /// The primary engine.
    pub fn primary(&self) -> &dyn TextToSpeech {
        self.primary.as_ref()
    }

    /// The fallback engine, if any.
    pub fn fallback(&self) -> Option<&dyn TextToSpeech> {
        self.fallback.as_deref()
    }

    /// Speaks one sentence (verbalised first) as PCM at `rate_hz`, handing
    /// chunks to `sink` as they are produced. When the primary fails or
    /// misses the deadline, the fallback speaks the whole sentence. Returns
    /// the name of the engine that spoke.
    ///
    /// # Errors
    /// The last engine's error when every engine failed;
    /// [`TtsError::Output`] for an unsupported `rate_hz`.
    pub async fn say(&self, sentence: &str, rate_hz: u32, sink: &mut AudioSink<'_>) -> Result<String, TtsError> {
        let text = verbalize::for_speech(sentence);
        if text.is_empty() {
            return Ok(self.primary.engine().to_string());
        }
        let first = speak_with(self.primary.as_ref(), &text, rate_hz, self.timeout_ms, sink).await;
        match (first, &self.fallback) {
            (Ok(()), _) => Ok(self.primary.engine().to_string()),
            (Err(e), Some(fallback)) => {
                tracing::warn!(engine = self.primary.engine(), fallback = fallback.engine(), error = %e, "text-to-speech failed; the fallback speaks");
                metrics::counter!("fluxion_tts_fallbacks_total", "engine" => self.primary.engine().to_string()).increment(1);
                speak_with(fallback.as_ref(), &text, rate_hz, self.timeout_ms, sink).await?;
                Ok(fallback.engine().to_string())
            }
            (Err(e), None) => Err(e),
        }
    }

    /// Speaks `text` (any number of sentences) and returns all of its PCM at
    /// `rate_hz`.
    ///
    /// # Errors
    /// As [`Speaker::say`].
    pub async fn say_all(&self, text: &str, rate_hz: u32) -> Result<Vec<i16>, TtsError> {
        let mut pcm = Vec::new();
        for sentence in fluxion_core::speech::sentences::split(text) {
            let mut sink = |chunk: Vec<i16>| pcm.extend_from_slice(&chunk);
            self.say(&sentence, rate_hz, &mut sink).await?;
        }
        Ok(pcm)
    }

    /// A fixed phrase (greeting, filler, goodbye, "può ripetere?") as PCM at
    /// `rate_hz`: synthesised once per engine, voice and rate, then served
    /// from memory and from the cache directory.
    ///
    /// # Errors
    /// As [`Speaker::say_all`] when the phrase is not cached yet.
    pub async fn phrase(&self, text: &str, rate_hz: u32) -> Result<Arc<Vec<i16>>, TtsError> {
        let key = CacheKey { engine: self.primary.engine(), voice: self.primary.voice(), rate_hz, text };
        if let Some(pcm) = self.cache.get(&key) {
            return Ok(pcm);
        }
        let pcm = Arc::new(self.say_all(text, rate_hz).await?);
        self.cache.put(&key, pcm.clone());
        Ok(pcm)
    }
}

/// Runs one engine on one sentence under the deadline, resampling its
/// output to `rate_hz`.
async fn speak_with(tts: &dyn TextToSpeech, text: &str, rate_hz: u32, timeout_ms: u64, sink: &mut AudioSink<'_>) -> Result<(), TtsError> {
    let mut resampler = Resampler::new(tts.sample_rate_hz(), rate_hz).map_err(|e| TtsError::Output(e.to_string()))?;
    let mut failed = None;
    let mut spoke = false;
    {
        let mut convert = |chunk: Vec<i16>| {
            let mut out = Vec::with_capacity(chunk.len() * rate_hz as usize / tts.sample_rate_hz().max(1) as usize + 16);
            if let Err(e) = resampler.process(&chunk, &mut out) {
                failed = Some(TtsError::Output(e.to_string()));
            }
            if !out.is_empty() {
                spoke = true;
                sink(out);
            }
        };
        match tokio::time::timeout(Duration::from_millis(timeout_ms), tts.synthesize(text, &mut convert)).await {
            Ok(result) => result?,
            Err(_) => return Err(TtsError::Timeout(timeout_ms)),
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let mut tail = Vec::new();
    resampler.flush(&mut tail).map_err(|e| TtsError::Output(e.to_string()))?;
    if !tail.is_empty() {
        spoke = true;
        sink(tail);
    }
    if !spoke {
        return Err(TtsError::Output(format!("{} produced no audio", tts.engine())));
    }
    Ok(())
}

struct CacheKey<'a> {
    engine: &'a str,
    voice: &'a str,
    rate_hz: u32,
    text: &'a str,
}

/// Fixed phrases already synthesised: in memory, and as WAV files under
/// `DIR/ENGINE/VOICE/RATE/SHA256(text).wav` when a directory is set.
#[derive(Debug)]
struct PhraseCache {
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, Arc<Vec<i16>>>>,
}

impl PhraseCache {
    fn new(dir: Option<PathBuf>) -> Self {
        PhraseCache { dir, memory: Mutex::new(HashMap::new()) }
    }

    fn id(key: &CacheKey<'_>) -> String {
        let digest = Sha256::digest(key.text.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("{}/{}/{}/{hex}", safe(key.engine), safe(key.voice), key.rate_hz)
    }

    fn path(&self, id: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(format!("{id}.wav")))
    }

    fn get(&self, key: &CacheKey<'_>) -> Option<Arc<Vec<i16>>> {
        let id = Self::id(key);
        if let Some(pcm) = self.memory.lock().ok()?.get(&id) {
            return Some(pcm.clone());
        }
        let path = self.path(&id)?;
        let file = std::fs::File::open(&path).ok()?;
        match wav::read_wav(std::io::BufReader::new(file)) {
            Ok((pcm, rate)) if rate == key.rate_hz && !pcm.is_empty() => {
                let pcm = Arc::new(pcm);
                self.memory.lock().ok()?.insert(id, pcm.clone());
                Some(pcm)
            }
            _ => None,
        }
    }

    fn put(&self, key: &CacheKey<'_>, pcm: Arc<Vec<i16>>) {
        let id = Self::id(key);
        if let Some(path) = self.path(&id) {
            if let Err(e) = write_atomically(&path, &pcm, key.rate_hz) {
                tracing::warn!(path = %path.display(), error = %e, "could not write the phrase cache");
            }
        }
        if let Ok(mut memory) = self.memory.lock() {
            memory.insert(id, pcm);
        }
    }
}

fn write_atomically(path: &Path, pcm: &[i16], rate_hz: u32) -> anyhow::Result<()> {
    let dir = path.parent().ok_or_else(|| anyhow::anyhow!("no parent directory"))?;
    crate::private_fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("wav.{}.part", std::process::id()));
    crate::private_fs::write(&tmp, &wav::wav_bytes(pcm, rate_hz)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A path component made of `[A-Za-z0-9._-]` only.
fn safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

/// The phrase cache directory: `FLUXION_CACHE_DIR`, else the platform cache
/// directory (`~/.cache/fluxion/tts` on Linux).
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FLUXION_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("tts"));
    }
    directories::ProjectDirs::from("", "", "fluxion").map(|d| d.cache_dir().join("tts"))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use fluxion_core::speech::BoxFuture;

    use super::*;

    /// A test engine: a tone per sentence, or a failure, counting its calls.
    struct Tone {
        name: &'static str,
        rate_hz: u32,
        fail: Option<TtsError>,
        stall_ms: u64,
        calls: AtomicUsize,
    }

    impl Tone {
        fn new(name: &'static str, rate_hz: u32) -> Self {
            Tone { name, rate_hz, fail: None, stall_ms: 0, calls: AtomicUsize::new(0) }
        }
    }

    impl TextToSpeech for Tone {
        fn engine(&self) -> &str {
            self.name
        }
        fn voice(&self) -> &str {
            "test"
        }
        fn sample_rate_hz(&self) -> u32 {
            self.rate_hz
        }
        fn synthesize<'a>(&'a self, text: &'a str, sink: &'a mut AudioSink<'_>) -> BoxFuture<'a, Result<(), TtsError>> {
            Box::pin(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(self.stall_ms)).await;
                if let Some(e) = &self.fail {
                    return Err(e.clone());
                }
                let n = text.len() * self.rate_hz as usize / 100;
                sink((0..n).map(|i| ((i as f32 * 0.1).sin() * 8000.0) as i16).collect());
                Ok(())
            })
        }
    }

    #[tokio::test]
    async fn fallback_speaks_when_the_primary_fails_or_stalls() {
        let failing = Tone {
            fail: Some(TtsError::Provider { status: Some(429), message: "busy".into(), retryable: true }),
            ..Tone::new("cloud", 24_000)
        };
        let speaker = Speaker::new(Arc::new(failing), Some(Arc::new(Tone::new("espeak", 22_050))), None);
        let mut got = 0;
        let engine = speaker.say("Buongiorno.", 8_000, &mut |c: Vec<i16>| got += c.len()).await.unwrap();
        assert_eq!(engine, "espeak");
        assert!(got > 800, "{got} samples at 8 kHz");

        let stalling = Tone { stall_ms: 5_000, ..Tone::new("cloud", 24_000) };
        let speaker = Speaker::new(Arc::new(stalling), Some(Arc::new(Tone::new("espeak", 22_050))), None).with_timeout_ms(50);
        let engine = speaker.say("Buongiorno.", 8_000, &mut |_| {}).await.unwrap();
        assert_eq!(engine, "espeak");

        let alone =
            Speaker::new(Arc::new(Tone { fail: Some(TtsError::Unavailable("no key".into())), ..Tone::new("cloud", 24_000) }), None, None);
        assert!(alone.say("Buongiorno.", 8_000, &mut |_| {}).await.is_err());
    }

    #[tokio::test]
    async fn phrases_are_synthesised_once_and_kept_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let tone = Arc::new(Tone::new("espeak", 16_000));
        let speaker = Speaker::new(tone.clone(), None, Some(dir.path().to_path_buf()));
        let a = speaker.phrase("Mi scusi, può ripetere?", 8_000).await.unwrap();
        let b = speaker.phrase("Mi scusi, può ripetere?", 8_000).await.unwrap();
        assert_eq!(a, b);
        assert_eq!(tone.calls.load(Ordering::SeqCst), 1);
        // A new process (a new speaker) finds the phrase on disk.
        let again = Speaker::new(tone.clone(), None, Some(dir.path().to_path_buf()));
        assert_eq!(again.phrase("Mi scusi, può ripetere?", 8_000).await.unwrap(), a);
        assert_eq!(tone.calls.load(Ordering::SeqCst), 1);
        // Another rate is another entry.
        speaker.phrase("Mi scusi, può ripetere?", 16_000).await.unwrap();
        assert_eq!(tone.calls.load(Ordering::SeqCst), 2);
    }
}
