//! Generated ggml Whisper models: files in the format whisper.cpp loads,
//! with Whisper's real tensor names and shapes and deterministic
//! pseudo-random weights.
//!
//! Real Whisper weights cannot be fetched on the machines that build and test
//! Fluxion, so tests and benchmarks run whisper.cpp on these files instead:
//! the encoder and decoder do exactly the work they do on a real model of the
//! same size (so timings are real), while the text that comes out is
//! meaningless.
//!
//! The layout follows whisper.cpp's `models/convert-pt-to-ggml.py` and the
//! reader `whisper_model_load` in `src/whisper.cpp`, all integers and floats
//! little-endian:
//!
//! 1. magic `0x67676d6c` ("ggml") as `u32`;
//! 2. hyper-parameters, eleven `i32`: `n_vocab`, `n_audio_ctx`,
//!    `n_audio_state`, `n_audio_head`, `n_audio_layer`, `n_text_ctx`,
//!    `n_text_state`, `n_text_head`, `n_text_layer`, `n_mels`, `ftype`
//!    (1 = f16);
//! 3. the mel filter bank: `n_mel`, `n_fft` as `i32`, then `n_mel × n_fft`
//!    `f32` (Slaney-normalised triangular filters, as librosa builds them
//!    for 16 kHz and a 400-sample FFT);
//! 4. the byte-level BPE vocabulary: a count (`i32`), then for each token
//!    its length (`u32`) and bytes; whisper.cpp adds the special tokens
//!    (end of text, languages, timestamps, …) itself up to `n_vocab`;
//! 5. every tensor: `n_dims`, `name_len`, `ttype` (0 = f32, 1 = f16) as
//!    `i32`, the dimensions innermost first (ggml order, the reverse of
//!    PyTorch's), the name, then the data.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// "ggml" read as a little-endian `u32`: the first four bytes of the file.
pub const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Tokens the multilingual byte-level BPE vocabulary stores in the file
/// (ids 0‥50256); whisper.cpp appends the special tokens up to `n_vocab`.
pub const FILE_VOCAB_TOKENS: u32 = 50_257;

/// Sample rate Whisper listens at, in Hz.
const SAMPLE_RATE_HZ: f64 = 16_000.0;

/// FFT window of Whisper's log-mel front end, in samples (25 ms at 16 kHz).
const N_FFT: usize = 400;

/// Bins of one spectrum frame: `N_FFT / 2 + 1`.
const N_FFT_BINS: usize = N_FFT / 2 + 1;

/// Half-width of the uniform distribution the weights are drawn from.
const WEIGHT_SCALE: f32 = 0.02;

/// The hyper-parameters of a Whisper model: what decides every tensor shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhisperShape {
    /// Vocabulary size, special tokens included (51865 for multilingual models).
    pub n_vocab: u32,
    /// Encoder positions: 1500 for 30 s of audio (50 per second).
    pub n_audio_ctx: u32,
    /// Encoder width.
    pub n_audio_state: u32,
    /// Encoder attention heads.
    pub n_audio_head: u32,
    /// Encoder blocks.
    pub n_audio_layer: u32,
    /// Decoder positions (448 tokens).
    pub n_text_ctx: u32,
    /// Decoder width (equal to the encoder's in every Whisper model).
    pub n_text_state: u32,
    /// Decoder attention heads.
    pub n_text_head: u32,
    /// Decoder blocks.
    pub n_text_layer: u32,
    /// Mel bands of the input spectrogram (80).
    pub n_mels: u32,
}

impl WhisperShape {
    /// Whisper tiny, multilingual: 384 wide, 6 heads, 4 encoder and 4 decoder blocks (39 M parameters).
    pub const TINY: WhisperShape = WhisperShape::multilingual(384, 6, 4);

    /// Whisper base, multilingual: 512 wide, 8 heads, 6 encoder and 6 decoder blocks (74 M parameters).
    pub const BASE: WhisperShape = WhisperShape::multilingual(512, 8, 6);

    /// A multilingual model with `state` width, `heads` heads and `layers`
    /// blocks in both encoder and decoder.
    pub const fn multilingual(state: u32, heads: u32, layers: u32) -> WhisperShape {
        WhisperShape {
            n_vocab: 51_865,
            n_audio_ctx: 1500,
            n_audio_state: state,
            n_audio_head: heads,
            n_audio_layer: layers,
            n_text_ctx: 448,
            n_text_state: state,
            n_text_head: heads,
            n_text_layer: layers,
            n_mels: 80,
        }
    }

    /// Number of weights in the model.
    pub fn parameters(&self) -> u64 {
        tensors(self).iter().map(|t| t.elements()).sum()
    }

    /// Size of the file [`write_model`] produces, in bytes.
    pub fn file_len(&self) -> u64 {
        let header = 4 + 11 * 4;
        let filters = 8 + 4 * (self.n_mels as u64) * N_FFT_BINS as u64;
        let vocab: u64 = 4 + (0..FILE_VOCAB_TOKENS).map(|id| 4 + token_bytes(id).len() as u64).sum::<u64>();
        let tensors: u64 =
            tensors(self).iter().map(|t| 12 + 4 * t.dims.len() as u64 + t.name.len() as u64 + t.elements() * t.dtype.size()).sum();
        header + filters + vocab + tensors
    }
}

/// Element type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DType {
    F32,
    F16,
}

impl DType {
    /// ggml's type code.
    fn code(self) -> i32 {
        match self {
            DType::F32 => 0,
            DType::F16 => 1,
        }
    }

    /// Bytes per element.
    fn size(self) -> u64 {
        match self {
            DType::F32 => 4,
            DType::F16 => 2,
        }
    }
}

/// What a tensor is filled with.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fill {
    /// Layer-norm gains.
    Ones,
    /// Biases and layer-norm shifts.
    Zeros,
    /// Uniform in ±[`WEIGHT_SCALE`].
    Uniform,
    /// The encoder's fixed sinusoidal positional embedding.
    Sinusoids,
}

/// One tensor of the model file.
#[derive(Debug, Clone)]
struct Tensor {
    name: String,
    /// Dimensions innermost first (ggml's `ne`).
    dims: Vec<u32>,
    dtype: DType,
    fill: Fill,
}

impl Tensor {
    fn elements(&self) -> u64 {
        self.dims.iter().map(|&d| u64::from(d)).product()
    }
}

/// Every tensor whisper.cpp's loader expects, with its ggml dimensions and
/// the element type `convert-pt-to-ggml.py` stores it in at `ftype` 1:
/// positional embeddings, conv biases and 1-D tensors in f32, the rest f16.
fn tensors(shape: &WhisperShape) -> Vec<Tensor> {
    let mut out = Vec::new();
    let mut push = |name: String, dims: &[u32], dtype: DType, fill: Fill| out.push(Tensor { name, dims: dims.to_vec(), dtype, fill });
    let (a, t) = (shape.n_audio_state, shape.n_text_state);

    push("encoder.positional_embedding".into(), &[a, shape.n_audio_ctx], DType::F32, Fill::Sinusoids);
    push("encoder.conv1.weight".into(), &[3, shape.n_mels, a], DType::F16, Fill::Uniform);
    push("encoder.conv1.bias".into(), &[1, a], DType::F32, Fill::Zeros);
    push("encoder.conv2.weight".into(), &[3, a, a], DType::F16, Fill::Uniform);
    push("encoder.conv2.bias".into(), &[1, a], DType::F32, Fill::Zeros);
    for i in 0..shape.n_audio_layer {
        let p = format!("encoder.blocks.{i}");
        push_block(&mut push, &p, "attn", a);
        push_mlp(&mut push, &p, a);
    }
    push("encoder.ln_post.weight".into(), &[a], DType::F32, Fill::Ones);
    push("encoder.ln_post.bias".into(), &[a], DType::F32, Fill::Zeros);

    push("decoder.positional_embedding".into(), &[t, shape.n_text_ctx], DType::F32, Fill::Uniform);
    push("decoder.token_embedding.weight".into(), &[t, shape.n_vocab], DType::F16, Fill::Uniform);
    for i in 0..shape.n_text_layer {
        let p = format!("decoder.blocks.{i}");
        push_block(&mut push, &p, "attn", t);
        push_block(&mut push, &p, "cross_attn", t);
        push_mlp(&mut push, &p, t);
    }
    push("decoder.ln.weight".into(), &[t], DType::F32, Fill::Ones);
    push("decoder.ln.bias".into(), &[t], DType::F32, Fill::Zeros);
    out
}

/// An attention block `{prefix}.{attn}` (self or cross) with its layer norm.
fn push_block(push: &mut impl FnMut(String, &[u32], DType, Fill), prefix: &str, attn: &str, n: u32) {
    push(format!("{prefix}.{attn}.query.weight"), &[n, n], DType::F16, Fill::Uniform);
    push(format!("{prefix}.{attn}.query.bias"), &[n], DType::F32, Fill::Zeros);
    push(format!("{prefix}.{attn}.key.weight"), &[n, n], DType::F16, Fill::Uniform);
    push(format!("{prefix}.{attn}.value.weight"), &[n, n], DType::F16, Fill::Uniform);
    push(format!("{prefix}.{attn}.value.bias"), &[n], DType::F32, Fill::Zeros);
    push(format!("{prefix}.{attn}.out.weight"), &[n, n], DType::F16, Fill::Uniform);
    push(format!("{prefix}.{attn}.out.bias"), &[n], DType::F32, Fill::Zeros);
    push(format!("{prefix}.{attn}_ln.weight"), &[n], DType::F32, Fill::Ones);
    push(format!("{prefix}.{attn}_ln.bias"), &[n], DType::F32, Fill::Zeros);
}

/// The feed-forward block `{prefix}.mlp` (width `4 n`) with its layer norm.
fn push_mlp(push: &mut impl FnMut(String, &[u32], DType, Fill), prefix: &str, n: u32) {
    push(format!("{prefix}.mlp.0.weight"), &[n, 4 * n], DType::F16, Fill::Uniform);
    push(format!("{prefix}.mlp.0.bias"), &[4 * n], DType::F32, Fill::Zeros);
    push(format!("{prefix}.mlp.2.weight"), &[4 * n, n], DType::F16, Fill::Uniform);
    push(format!("{prefix}.mlp.2.bias"), &[n], DType::F32, Fill::Zeros);
    push(format!("{prefix}.mlp_ln.weight"), &[n], DType::F32, Fill::Ones);
    push(format!("{prefix}.mlp_ln.bias"), &[n], DType::F32, Fill::Zeros);
}

/// Writes a Whisper model of `shape` in ggml format to `path`, with weights
/// drawn from a generator seeded by `seed` (the same seed gives the same
/// file). Streams through a buffer of a few hundred KiB whatever the model
/// size (about 75 MB for [`WhisperShape::TINY`], 145 MB for
/// [`WhisperShape::BASE`]).
///
/// # Errors
/// Any I/O error creating or writing the file.
pub fn write_model(path: &Path, shape: WhisperShape, seed: u64) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(256 * 1024, File::create(path)?);
    write_to(&mut out, &shape, seed)?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

fn write_to(out: &mut impl Write, shape: &WhisperShape, seed: u64) -> io::Result<()> {
    out.write_all(&GGML_MAGIC.to_le_bytes())?;
    let hparams = [
        shape.n_vocab,
        shape.n_audio_ctx,
        shape.n_audio_state,
        shape.n_audio_head,
        shape.n_audio_layer,
        shape.n_text_ctx,
        shape.n_text_state,
        shape.n_text_head,
        shape.n_text_layer,
        shape.n_mels,
        1, // ftype: f16
    ];
    for value in hparams {
        write_i32(out, value)?;
    }

    write_i32(out, shape.n_mels)?;
    write_i32(out, N_FFT_BINS as u32)?;
    for weight in mel_filters(shape.n_mels as usize) {
        out.write_all(&weight.to_le_bytes())?;
    }

    write_i32(out, FILE_VOCAB_TOKENS)?;
    for id in 0..FILE_VOCAB_TOKENS {
        let token = token_bytes(id);
        out.write_all(&(token.len() as u32).to_le_bytes())?;
        out.write_all(&token)?;
    }

    for tensor in tensors(shape) {
        write_i32(out, tensor.dims.len() as u32)?;
        write_i32(out, tensor.name.len() as u32)?;
        out.write_all(&tensor.dtype.code().to_le_bytes())?;
        for &dim in &tensor.dims {
            write_i32(out, dim)?;
        }
        out.write_all(tensor.name.as_bytes())?;
        write_data(out, &tensor, seed)?;
    }
    Ok(())
}

fn write_i32(out: &mut impl Write, value: u32) -> io::Result<()> {
    let value = i32::try_from(value).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("{value} does not fit an i32")))?;
    out.write_all(&value.to_le_bytes())
}

/// Streams the tensor's elements in chunks, so no tensor is held in memory whole.
fn write_data(out: &mut impl Write, tensor: &Tensor, seed: u64) -> io::Result<()> {
    const CHUNK: usize = 16 * 1024;
    let mut rng = SplitMix64::new(seed ^ fnv1a(tensor.name.as_bytes()));
    let total = tensor.elements();
    let width = u64::from(tensor.dims.first().copied().unwrap_or(1));
    let mut bytes = Vec::with_capacity(CHUNK * 4);
    let mut index = 0u64;
    while index < total {
        bytes.clear();
        let end = (index + CHUNK as u64).min(total);
        for i in index..end {
            let value = match tensor.fill {
                Fill::Ones => 1.0,
                Fill::Zeros => 0.0,
                Fill::Uniform => rng.uniform() * WEIGHT_SCALE,
                Fill::Sinusoids => sinusoid(i / width, i % width, width),
            };
            match tensor.dtype {
                DType::F32 => bytes.extend_from_slice(&value.to_le_bytes()),
                DType::F16 => bytes.extend_from_slice(&half::f16::from_f32(value).to_le_bytes()),
            }
        }
        out.write_all(&bytes)?;
        index = end;
    }
    Ok(())
}

/// Whisper's encoder positional embedding at `position`, channel `channel` of
/// `width`: sines in the first half, cosines in the second, timescales
/// geometric from 1 to 10000.
fn sinusoid(position: u64, channel: u64, width: u64) -> f32 {
    let half = (width / 2).max(1);
    let increment = (10_000f64).ln() / (half.saturating_sub(1).max(1)) as f64;
    let k = channel % half;
    let angle = position as f64 * (-increment * k as f64).exp();
    if channel < half {
        angle.sin() as f32
    } else {
        angle.cos() as f32
    }
}

/// The bytes of token `id` in the generated vocabulary: ids 0‥255 are the 256
/// single bytes (so whisper.cpp can tokenise any prompt), id 50256 is the
/// empty token real multilingual files carry, and the rest are distinct
/// lower-case syllable strings, half of them with a leading space as BPE
/// word starts have.
fn token_bytes(id: u32) -> Vec<u8> {
    const CONSONANTS: &[u8] = b"bcdfglmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    if id < 256 {
        return vec![id as u8];
    }
    if id == FILE_VOCAB_TOKENS - 1 {
        return Vec::new();
    }
    let mut word = Vec::new();
    if id & 1 == 0 {
        word.push(b' ');
    }
    let syllables = CONSONANTS.len() * VOWELS.len();
    let mut rest = (id - 256) as usize / 2;
    loop {
        let syllable = rest % syllables;
        word.push(CONSONANTS[syllable / VOWELS.len()]);
        word.push(VOWELS[syllable % VOWELS.len()]);
        rest /= syllables;
        if rest == 0 {
            break;
        }
        rest -= 1;
    }
    word
}

/// The Slaney mel filter bank Whisper uses (librosa's
/// `filters.mel(sr=16000, n_fft=400, n_mels)`), `n_mels × 201` weights,
/// band after band.
fn mel_filters(n_mels: usize) -> Vec<f32> {
    let fft_freqs: Vec<f64> = (0..N_FFT_BINS).map(|k| k as f64 * SAMPLE_RATE_HZ / N_FFT as f64).collect();
    let max_mel = hz_to_mel(SAMPLE_RATE_HZ / 2.0);
    let mel_points: Vec<f64> = (0..n_mels + 2).map(|i| mel_to_hz(max_mel * i as f64 / (n_mels + 1) as f64)).collect();
    let mut weights = Vec::with_capacity(n_mels * N_FFT_BINS);
    for band in 0..n_mels {
        let (low, centre, high) = (mel_points[band], mel_points[band + 1], mel_points[band + 2]);
        let norm = 2.0 / (high - low);
        for &f in &fft_freqs {
            let rising = (f - low) / (centre - low);
            let falling = (high - f) / (high - centre);
            weights.push((rising.min(falling).max(0.0) * norm) as f32);
        }
    }
    weights
}

/// Slaney's mel scale: linear below 1000 Hz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    let log_step = 6.4f64.ln() / 27.0;
    if hz < 1000.0 {
        hz / F_SP
    } else {
        1000.0 / F_SP + (hz / 1000.0).ln() / log_step
    }
}

/// The inverse of [`hz_to_mel`].
fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    let log_step = 6.4f64.ln() / 27.0;
    let min_log_mel = 1000.0 / F_SP;
    if mel < min_log_mel {
        mel * F_SP
    } else {
        1000.0 * (log_step * (mel - min_log_mel)).exp()
    }
}

/// 64-bit FNV-1a, to give every tensor its own generator stream.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The SplitMix64 generator: small, fast, and the same everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::io::Read;

    fn read_i32(r: &mut impl Read) -> i32 {
        let mut b = [0u8; 4];
        r.read_exact(&mut b).unwrap();
        i32::from_le_bytes(b)
    }

    /// Tensors whisper.cpp's loader creates: 7 encoder globals, 4 decoder
    /// globals, 15 per encoder block and 24 per decoder block.
    fn expected_tensor_count(shape: &WhisperShape) -> usize {
        (7 + 4 + 15 * shape.n_audio_layer + 24 * shape.n_text_layer) as usize
    }

    #[test]
    fn tensor_list_matches_the_loader() {
        for shape in [WhisperShape::TINY, WhisperShape::BASE] {
            let list = tensors(&shape);
            assert_eq!(list.len(), expected_tensor_count(&shape));
            let names: HashSet<_> = list.iter().map(|t| t.name.as_str()).collect();
            assert_eq!(names.len(), list.len(), "names are unique");
            for t in &list {
                let f32_expected =
                    t.dims.len() == 1 || t.name.ends_with("conv1.bias") || t.name.ends_with("conv2.bias") || t.name.contains("positional");
                assert_eq!(t.dtype == DType::F32, f32_expected, "{}", t.name);
            }
        }
        // Parameter counts of the published models (tiny 39 M, base 74 M).
        let tiny = WhisperShape::TINY.parameters();
        let base = WhisperShape::BASE.parameters();
        assert!((37_000_000..40_000_000).contains(&tiny), "{tiny}");
        assert!((71_000_000..75_000_000).contains(&base), "{base}");
    }

    #[test]
    fn writes_the_documented_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ggml-tiny-test.bin");
        write_model(&path, WhisperShape::TINY, 7).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len, WhisperShape::TINY.file_len());

        let mut r = io::BufReader::new(File::open(&path).unwrap());
        assert_eq!(read_i32(&mut r) as u32, GGML_MAGIC);
        let hparams: Vec<i32> = (0..11).map(|_| read_i32(&mut r)).collect();
        assert_eq!(hparams, vec![51865, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1]);
        assert_eq!((read_i32(&mut r), read_i32(&mut r)), (80, 201));
        let mut filters = vec![0u8; 80 * 201 * 4];
        r.read_exact(&mut filters).unwrap();
        assert_eq!(read_i32(&mut r) as u32, FILE_VOCAB_TOKENS);
        let mut tokens = HashSet::new();
        for _ in 0..FILE_VOCAB_TOKENS {
            let n = read_i32(&mut r) as usize;
            let mut token = vec![0u8; n];
            r.read_exact(&mut token).unwrap();
            assert!(tokens.insert(token), "tokens are distinct");
        }
        let mut seen = 0;
        loop {
            let mut b = [0u8; 4];
            if r.read_exact(&mut b).is_err() {
                break;
            }
            let n_dims = i32::from_le_bytes(b) as usize;
            let name_len = read_i32(&mut r) as usize;
            let ttype = read_i32(&mut r);
            let dims: Vec<u64> = (0..n_dims).map(|_| read_i32(&mut r) as u64).collect();
            let mut name = vec![0u8; name_len];
            r.read_exact(&mut name).unwrap();
            let bytes = dims.iter().product::<u64>() * if ttype == 0 { 4 } else { 2 };
            io::copy(&mut (&mut r).take(bytes), &mut io::sink()).unwrap();
            seen += 1;
        }
        assert_eq!(seen, expected_tensor_count(&WhisperShape::TINY));
    }

    #[test]
    fn same_seed_same_file() {
        let shape = WhisperShape::multilingual(64, 2, 1);
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        write_to(&mut a, &shape, 1).unwrap();
        write_to(&mut b, &shape, 1).unwrap();
        write_to(&mut c, &shape, 2).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len() as u64, shape.file_len());
    }

    #[test]
    fn mel_filters_are_slaney_triangles() {
        let filters = mel_filters(80);
        assert_eq!(filters.len(), 80 * 201);
        for band in filters.chunks(201) {
            assert!(band.iter().all(|&w| w >= 0.0));
            // Every band covers at least one FFT bin at 16 kHz / 400 points.
            assert!(band.iter().any(|&w| w > 0.0));
        }
        // librosa: the first band peaks at bin 1 (40 Hz) with weight ≈ 0.0248.
        assert!((filters[1] - 0.024_80).abs() < 5e-4, "{}", filters[1]);
        assert!((hz_to_mel(mel_to_hz(33.3)) - 33.3).abs() < 1e-9);
    }

    #[test]
    fn weights_are_small_and_centred() {
        let mut rng = SplitMix64::new(42);
        let values: Vec<f32> = (0..10_000).map(|_| rng.uniform()).collect();
        assert!(values.iter().all(|v| (-1.0..1.0).contains(v)));
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        assert!(mean.abs() < 0.05, "{mean}");
    }
}
