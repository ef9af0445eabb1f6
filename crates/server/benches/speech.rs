//! Criterion benchmarks of local speech: whisper.cpp on generated models of
//! the tiny and base shapes (a 3 s utterance), and the WebRTC and Silero
//! voice-activity detectors over 10 s of audio. Each prints its real-time
//! factor (processing time / audio duration; below 1 is faster than real
//! time).
//!
//! `cargo bench -p fluxion --features fluxion/silero --bench speech`
//! (Silero needs `FLUXION_MODELS_DIR` pointing at its models; it is skipped
//! with a message otherwise). The Whisper weights are random, so the decoder
//! may stop sooner or later than on real speech: the token count decoded is
//! printed next to the figure.

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use fluxion_core::audio::vad::{Vad, VadEngine};

/// A speech-like signal: a 150 Hz buzz with harmonics and a syllabic envelope.
fn voice(rate_hz: u32, seconds: f64) -> Vec<i16> {
    let n = (f64::from(rate_hz) * seconds) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate_hz);
            let envelope = (std::f64::consts::PI * 4.0 * t).sin().abs();
            let tone: f64 = (1..=5).map(|h| (2.0 * std::f64::consts::PI * 150.0 * h as f64 * t).sin() / h as f64).sum();
            (envelope * tone * 6000.0) as i16
        })
        .collect()
}

/// Runs `bench` under criterion with `iter_custom`, then prints the mean
/// time per run over every run criterion made as a real-time factor of
/// `audio_s` seconds of audio.
fn bench_rtf(c: &mut Criterion, group: &str, name: &str, audio_s: f64, samples: usize, mut run: impl FnMut()) {
    let total = Cell::new(Duration::ZERO);
    let runs = Cell::new(0u64);
    let mut g = c.benchmark_group(group);
    g.sample_size(samples).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                run();
            }
            let elapsed = started.elapsed();
            total.set(total.get() + elapsed);
            runs.set(runs.get() + iters);
            elapsed
        })
    });
    g.finish();
    let mean = total.get().as_secs_f64() / runs.get().max(1) as f64;
    println!("RTF {group}/{name}: {:.5} ({:.1} ms per {audio_s} s of audio, {} runs)", mean / audio_s, mean * 1000.0, runs.get());
}

#[cfg(feature = "whisper")]
fn whisper(c: &mut Criterion) {
    use fluxion::speech::ggml::{write_model, WhisperShape};
    use fluxion::speech::whisper::WhisperStt;
    use fluxion_core::speech::stt::transcribe;
    use fluxion_core::speech::SttRequest;

    const AUDIO_S: f64 = 3.0;
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let pcm = voice(16_000, AUDIO_S);
    let request = SttRequest::italian(16_000).with_prompt("taglio, piega, colore");
    for (label, shape) in [("tiny", WhisperShape::TINY), ("base", WhisperShape::BASE)] {
        let path = dir.path().join(format!("ggml-{label}-generated.bin"));
        write_model(&path, shape, 1).expect("write model");
        let stt = WhisperStt::load(&path).expect("load generated model");
        let sample = runtime.block_on(transcribe(&stt, &request, &pcm)).expect("transcribe");
        println!(
            "whisper {label} (generated weights, {} threads): sample text {} chars, {:?}",
            stt.threads(),
            sample.text.chars().count(),
            sample.text.chars().take(60).collect::<String>()
        );
        bench_rtf(c, "whisper", &format!("{label} 3 s"), AUDIO_S, 10, || {
            black_box(runtime.block_on(transcribe(&stt, &request, black_box(&pcm))).expect("transcribe"));
        });
    }
}

#[cfg(not(feature = "whisper"))]
fn whisper(_: &mut Criterion) {
    println!("whisper: skipped (built without the `whisper` feature)");
}

fn vad(c: &mut Criterion) {
    const AUDIO_S: f64 = 10.0;
    let pcm = voice(16_000, AUDIO_S);
    for engine in [VadEngine::Webrtc, VadEngine::Silero] {
        let mut detector: Box<dyn Vad> = match fluxion::speech::vad_for(engine, 16_000) {
            Ok(detector) => detector,
            Err(e) => {
                println!("vad {}: skipped ({e})", engine.as_str());
                continue;
            }
        };
        let frame = detector.frame_len();
        bench_rtf(c, "vad", &format!("{} 10 s", engine.as_str()), AUDIO_S, 10, || {
            detector.reset();
            let speech: f32 = pcm.chunks_exact(frame).map(|f| detector.speech_probability(black_box(f)).unwrap_or(0.0)).sum();
            black_box(speech);
        });
    }
}

criterion_group!(benches, whisper, vad);
criterion_main!(benches);
