//! Silero VAD v6, run by tract-onnx (pure Rust, no native runtime).
//!
//! Uses the `*_noif.onnx` files described in `shared/models/SOURCES.md`: the
//! upstream model with its sample-rate `If` inlined, because tract cannot
//! type-check that node. One model per rate:
//!
//! | file | rate | frame | model input |
//! |---|---|---|---|
//! | `silero_vad_16k_noif.onnx` | 16000 Hz | 512 samples (32 ms) | 64 context + 512 |
//! | `silero_vad_8k_noif.onnx` | 8000 Hz | 256 samples (32 ms) | 32 context + 256 |
//!
//! The recurrent `state` [2, 1, 128] and the last context samples carry from
//! one frame to the next; [`Vad::reset`] clears both. The optimised model is
//! built once per file and shared by every call's detector (building it
//! takes tens of ms; a detector's own state is a few hundred floats).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use fluxion_core::audio::vad::{Vad, VadError};
use tract_onnx::prelude::*;

use super::MODELS_DIR_ENV;

/// Elements in the recurrent state, `2 × 1 × 128`.
const STATE_LEN: usize = 2 * 128;

/// The model file for `sample_rate_hz`, or an error for other rates.
pub fn model_file(sample_rate_hz: u32) -> Result<&'static str, VadError> {
    match sample_rate_hz {
        16000 => Ok("silero_vad_16k_noif.onnx"),
        8000 => Ok("silero_vad_8k_noif.onnx"),
        other => Err(VadError::UnsupportedSampleRate(other)),
    }
}

/// Silero VAD v6 for one stream at 8000 or 16000 Hz.
pub struct SileroVad {
    plan: Arc<TypedRunnableModel>,
    sample_rate_hz: u32,
    frame_len: usize,
    context_len: usize,
    /// The last `context_len` samples of the previous frame, scaled to [-1, 1].
    context: Vec<f32>,
    /// Recurrent state, `STATE_LEN` values.
    state: Vec<f32>,
    /// Reused model input: context then frame.
    input: Vec<f32>,
}

impl SileroVad {
    /// Loads the model for `sample_rate_hz` from `dir` (see [`model_file`]).
    pub fn from_dir(dir: &Path, sample_rate_hz: u32) -> Result<Self, VadError> {
        let path = dir.join(model_file(sample_rate_hz)?);
        Self::from_file(&path, sample_rate_hz)
    }

    /// Loads the `*_noif.onnx` model at `path` for `sample_rate_hz` audio.
    pub fn from_file(path: &Path, sample_rate_hz: u32) -> Result<Self, VadError> {
        let (frame_len, context_len) = match sample_rate_hz {
            16000 => (512, 64),
            8000 => (256, 32),
            other => return Err(VadError::UnsupportedSampleRate(other)),
        };
        if !path.is_file() {
            return Err(VadError::Model(format!(
                "Silero model {} not found (set {MODELS_DIR_ENV} to the directory holding {})",
                path.display(),
                file_name(path)
            )));
        }
        let plan = shared_plan(path, context_len + frame_len)?;
        Ok(SileroVad {
            plan,
            sample_rate_hz,
            frame_len,
            context_len,
            context: vec![0.0; context_len],
            state: vec![0.0; STATE_LEN],
            input: Vec::with_capacity(context_len + frame_len),
        })
    }

    fn run(&mut self) -> TractResult<f32> {
        let input = Tensor::from_shape(&[1, self.input.len()], &self.input)?;
        let state = Tensor::from_shape(&[2, 1, 128], &self.state)?;
        let outputs = self.plan.run(tvec!(input.into(), state.into()))?;
        let mut probability = None;
        for output in &outputs {
            let plain = output.try_as_plain_ram()?;
            let values = plain.as_slice::<f32>()?;
            match values.len() {
                1 => probability = Some(values[0]),
                STATE_LEN => self.state.copy_from_slice(values),
                n => anyhow::bail!("unexpected model output of {n} values"),
            }
        }
        probability.ok_or_else(|| anyhow::anyhow!("model gave no probability"))
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| PathBuf::from(path).display().to_string())
}

/// The optimised model at `path` for inputs of `input_len` samples, built
/// on first use and shared afterwards.
fn shared_plan(path: &Path, input_len: usize) -> Result<Arc<TypedRunnableModel>, VadError> {
    type Plans = Mutex<HashMap<(PathBuf, usize), Arc<TypedRunnableModel>>>;
    static PLANS: OnceLock<Plans> = OnceLock::new();
    let mut plans = PLANS.get_or_init(Plans::default).lock().unwrap_or_else(PoisonError::into_inner);
    let key = (path.to_path_buf(), input_len);
    if let Some(plan) = plans.get(&key) {
        return Ok(Arc::clone(plan));
    }
    let plan = load(path, input_len).map_err(|e| VadError::Model(format!("loading {}: {e:#}", path.display())))?;
    plans.insert(key, Arc::clone(&plan));
    Ok(plan)
}

/// Loads, types and optimises the model with inputs `input` [1, `input_len`]
/// and `state` [2, 1, 128], in the order the file declares them.
fn load(path: &Path, input_len: usize) -> TractResult<Arc<TypedRunnableModel>> {
    let mut model = tract_onnx::onnx().model_for_path(path)?;
    let inputs = model.input_outlets()?.to_vec();
    anyhow::ensure!(inputs.len() == 2, "expected 2 inputs (input, state), found {}", inputs.len());
    for (ix, outlet) in inputs.iter().enumerate() {
        let fact: InferenceFact = match model.node(outlet.node).name.as_str() {
            "input" => f32::fact([1, input_len]).into(),
            "state" => f32::fact([2, 1, 128]).into(),
            other => anyhow::bail!("unexpected model input {other:?} (is this a *_noif.onnx file?)"),
        };
        model.set_input_fact(ix, fact)?;
    }
    // Feed `input` first, whatever the file's order.
    if model.node(inputs[0].node).name != "input" {
        model.set_input_outlets(&[inputs[1], inputs[0]])?;
    }
    model.into_optimized()?.into_runnable()
}

impl Vad for SileroVad {
    fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    fn frame_len(&self) -> usize {
        self.frame_len
    }

    fn speech_probability(&mut self, frame: &[i16]) -> Result<f32, VadError> {
        if frame.len() != self.frame_len {
            return Err(VadError::FrameLength { expected: self.frame_len, got: frame.len() });
        }
        self.input.clear();
        self.input.extend_from_slice(&self.context);
        self.input.extend(frame.iter().map(|&s| f32::from(s) / 32768.0));
        let tail = self.input.len() - self.context_len;
        self.context.copy_from_slice(&self.input[tail..]);
        let probability = self.run().map_err(|e| VadError::Model(format!("running Silero: {e:#}")))?;
        Ok(probability.clamp(0.0, 1.0))
    }

    fn reset(&mut self) {
        self.context.fill(0.0);
        self.state.fill(0.0);
    }
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad").field("sample_rate_hz", &self.sample_rate_hz).field("frame_len", &self.frame_len).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::TAU;

    /// `FLUXION_MODELS_DIR`, else the workspace's sibling `shared/models`.
    fn models_dir() -> Option<PathBuf> {
        let dir = std::env::var_os(MODELS_DIR_ENV)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models"));
        dir.is_dir().then_some(dir)
    }

    fn load(rate_hz: u32) -> Option<SileroVad> {
        let dir = models_dir()?;
        if !dir.join(model_file(rate_hz).unwrap()).is_file() {
            return None;
        }
        Some(SileroVad::from_dir(&dir, rate_hz).unwrap())
    }

    /// Harmonics of a 120–220 Hz pitch through vowel-like formants, with a
    /// 4.5 Hz syllable envelope, `ms` long.
    fn speech_like(rate_hz: u32, ms: u32) -> Vec<i16> {
        let rate = rate_hz as f32;
        let mut phase = 0.0f32;
        (0..(rate_hz / 1000 * ms) as usize)
            .map(|i| {
                let t = i as f32 / rate;
                let f0 = 170.0 + 50.0 * (TAU * 0.7 * t).sin();
                phase = (phase + f0 / rate).fract();
                let formants: [f32; 3] = match (t * 4.5) as u32 % 3 {
                    0 => [750.0, 1200.0, 2500.0],
                    1 => [300.0, 2200.0, 2900.0],
                    _ => [500.0, 900.0, 2400.0],
                };
                let mut voiced = 0.0;
                let mut k = 1.0;
                while k * f0 < 3800.0f32.min(rate / 2.0) {
                    let gain: f32 = formants
                        .iter()
                        .zip([1.0f32, 0.6, 0.3])
                        .map(|(formant, weight)| {
                            let d = (k * f0 - formant) / 120.0;
                            weight / (1.0 + d * d)
                        })
                        .sum();
                    voiced += (gain + 0.02) * (TAU * k * phase).sin();
                    k += 1.0;
                }
                let envelope = 0.55 - 0.45 * (TAU * 4.5 * t).cos();
                (envelope * voiced * 0.35 * 9000.0).clamp(-32768.0, 32767.0) as i16
            })
            .collect()
    }

    fn probabilities(vad: &mut SileroVad, audio: &[i16]) -> Vec<f32> {
        audio.chunks_exact(vad.frame_len()).map(|frame| vad.speech_probability(frame).unwrap()).collect()
    }

    fn mean(values: &[f32]) -> f32 {
        values.iter().sum::<f32>() / values.len() as f32
    }

    #[test]
    fn silence_is_not_speech_and_state_carries() {
        for rate in [16000, 8000] {
            let Some(mut vad) = load(rate) else {
                println!("skipped: Silero model not found in FLUXION_MODELS_DIR");
                return;
            };
            assert_eq!(vad.frame_len(), (rate / 1000 * 32) as usize);

            let silence = vec![0i16; rate as usize * 2];
            let p = probabilities(&mut vad, &silence);
            println!("silero {rate} Hz silence: mean {:.3}", mean(&p));
            assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
            assert!(mean(&p) < 0.1, "silence mean {}", mean(&p));

            vad.reset();
            let speech = speech_like(rate, 3000);
            let p = probabilities(&mut vad, &speech);
            let speechy = p.iter().filter(|&&p| p >= 0.5).count() as f32 / p.len() as f32;
            println!("silero {rate} Hz speech-like: mean {:.3}, {:.0}% frames ≥ 0.5", mean(&p), speechy * 100.0);
            assert!(p.iter().all(|p| (0.0..=1.0).contains(p)));
            assert!(speechy >= 0.7, "speech-like: only {speechy} of frames");
            assert!(vad.state.iter().any(|&s| s != 0.0), "state did not carry");
            assert!(vad.context.iter().any(|&s| s != 0.0), "context did not carry");

            // The same frame gives a different answer with and without history.
            let frame = &speech[speech.len() - vad.frame_len()..];
            let with_history = vad.speech_probability(frame).unwrap();
            vad.reset();
            assert!(vad.state.iter().all(|&s| s == 0.0));
            let fresh = vad.speech_probability(frame).unwrap();
            assert_ne!(with_history, fresh, "state had no effect");
        }
    }

    #[test]
    fn loud_white_noise_is_not_speech() {
        let Some(mut vad) = load(8000) else {
            println!("skipped: Silero model not found in FLUXION_MODELS_DIR");
            return;
        };
        let mut x = 11u32;
        let noise: Vec<i16> = (0..8000 * 3)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                ((x as f32 / u32::MAX as f32) * 2.0 - 1.0) * 6000.0
            })
            .map(|s| s as i16)
            .collect();
        let p = probabilities(&mut vad, &noise);
        let speechy = p.iter().filter(|&&p| p >= 0.5).count() as f32 / p.len() as f32;
        println!("silero 8000 Hz loud white noise: mean {:.3}, {:.0}% frames ≥ 0.5", mean(&p), speechy * 100.0);
        assert!(speechy <= 0.2, "loud noise: {speechy} of frames are speech");
    }

    #[test]
    fn detectors_share_the_model_not_the_state() {
        let (Some(mut first), Some(second)) = (load(8000), load(8000)) else {
            println!("skipped: Silero model not found in FLUXION_MODELS_DIR");
            return;
        };
        assert!(Arc::ptr_eq(&first.plan, &second.plan), "the model was built twice");
        probabilities(&mut first, &speech_like(8000, 500));
        assert!(first.state.iter().any(|&s| s != 0.0));
        assert!(second.state.iter().all(|&s| s == 0.0), "state leaked between detectors");
    }

    #[test]
    fn wrong_frame_length_is_an_error() {
        let Some(mut vad) = load(8000) else {
            println!("skipped: Silero model not found in FLUXION_MODELS_DIR");
            return;
        };
        assert_eq!(vad.speech_probability(&[0; 160]), Err(VadError::FrameLength { expected: 256, got: 160 }));
    }

    #[test]
    fn missing_model_names_the_file_and_the_variable() {
        let err = SileroVad::from_dir(Path::new("/nonexistent/models"), 16000).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("silero_vad_16k_noif.onnx"), "{message}");
        assert!(message.contains("FLUXION_MODELS_DIR"), "{message}");
        assert_eq!(SileroVad::from_dir(Path::new("."), 44_100).unwrap_err(), VadError::UnsupportedSampleRate(44_100));
    }
}
