//! Outgoing audio of a call: a queue of the agent's audio at the call's
//! rate, released one 20 ms frame per incoming frame, that barge-in can
//! pause (and resume after a false interruption) or drop.
//!
//! The queue holds the audio it was given, shared (a cached greeting or
//! fixed phrase is the phrase cache's own buffer), and cuts a frame only
//! when the frame is released: a call that never sends audio costs no
//! copy of its greeting, and a long reply costs its own length once.

use std::collections::VecDeque;
use std::sync::Arc;

/// The agent's queued voice.
#[derive(Debug, Default)]
pub struct Playback {
    frame_len: usize,
    /// Audio not yet released, in order.
    segments: VecDeque<Segment>,
    /// Samples queued, including the silence [`Playback::seal`] added.
    queued: usize,
    paused: bool,
}

/// Part of a shared buffer still to play: `pcm[start..end]`.
#[derive(Debug)]
struct Segment {
    pcm: Arc<Vec<i16>>,
    start: usize,
    end: usize,
}

impl Playback {
    /// An empty queue releasing frames of `frame_len` samples.
    pub fn new(frame_len: usize) -> Self {
        Playback { frame_len: frame_len.max(1), ..Playback::default() }
    }

    /// Appends PCM (shared, not copied); whole frames become playable at
    /// once, the rest waits for more (or for [`Playback::seal`]).
    pub fn push(&mut self, pcm: Arc<Vec<i16>>) {
        let end = pcm.len();
        if end > 0 {
            self.queued += end;
            self.segments.push_back(Segment { pcm, start: 0, end });
        }
    }

    /// Pads the pending partial frame with silence so it plays too (end of a
    /// sentence).
    pub fn seal(&mut self) {
        let short = (self.frame_len - self.queued % self.frame_len) % self.frame_len;
        if short > 0 {
            self.push(Arc::new(vec![0; short]));
        }
    }

    /// The next frame to send, unless paused or no whole frame is queued.
    pub fn next_frame(&mut self) -> Option<Vec<i16>> {
        if self.paused || self.queued < self.frame_len {
            return None;
        }
        let mut frame = Vec::with_capacity(self.frame_len);
        while frame.len() < self.frame_len {
            let Some(front) = self.segments.front_mut() else { break };
            let take = (self.frame_len - frame.len()).min(front.end - front.start);
            frame.extend_from_slice(&front.pcm[front.start..front.start + take]);
            front.start += take;
            if front.start == front.end {
                self.segments.pop_front();
            }
        }
        self.queued -= frame.len();
        Some(frame)
    }

    /// Whether audio is waiting (paused or not).
    pub fn has_audio(&self) -> bool {
        self.queued > 0
    }

    /// Whether whole frames are waiting (paused or not); a partial frame
    /// alone waits for more audio.
    pub fn has_frames(&self) -> bool {
        self.queued >= self.frame_len
    }

    /// Queued audio, in frames (a partial frame counts as one).
    pub fn queued_frames(&self) -> usize {
        self.queued.div_ceil(self.frame_len)
    }

    /// Stops releasing frames, keeping them (barge-in until it is known to be real).
    pub fn pause(&mut self) {
        self.paused = true;
    }

    /// Releases frames again from where it paused.
    pub fn resume(&mut self) {
        self.paused = false;
    }

    /// Whether it is paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Drops all queued audio and un-pauses (a real interruption).
    pub fn clear(&mut self) {
        self.segments.clear();
        self.queued = 0;
        self.paused = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm(samples: impl IntoIterator<Item = i16>) -> Arc<Vec<i16>> {
        Arc::new(samples.into_iter().collect())
    }

    #[test]
    fn frames_pause_resume_and_clear() {
        let mut p = Playback::new(160);
        p.push(pcm([1; 400]));
        assert_eq!(p.queued_frames(), 3);
        assert_eq!(p.next_frame().unwrap().len(), 160);
        p.pause();
        assert_eq!(p.next_frame(), None);
        assert!(p.has_audio());
        p.resume();
        assert!(p.next_frame().is_some());
        assert_eq!(p.next_frame(), None, "the partial frame waits for more audio");
        p.seal();
        let last = p.next_frame().unwrap();
        assert_eq!((last.len(), last[79], last[80]), (160, 1, 0));
        assert!(!p.has_audio());
        p.push(pcm([1; 1600]));
        p.clear();
        assert!(!p.has_audio());
    }

    /// Audio is shared until played, frames are cut in order across the
    /// buffers pushed (a greeting queued on a call that never sends audio
    /// costs no copy: each frame used to keep the capacity of all the audio
    /// after it, ~1.6 MB for 2 s at 8000 Hz, per call).
    #[test]
    fn audio_is_shared_until_played_and_stays_in_order() {
        let mut p = Playback::new(160);
        let greeting = pcm((0..16_030).map(|i| i as i16));
        p.push(pcm([1; 100]));
        p.push(greeting.clone());
        assert_eq!(Arc::strong_count(&greeting), 2, "queued, not copied");
        assert_eq!((p.queued_frames(), p.has_frames()), (101, true));
        let first = p.next_frame().unwrap();
        assert_eq!((first.len(), first[99], first[100], first[159]), (160, 1, 0, 59));
        let second = p.next_frame().unwrap();
        assert_eq!((second.len(), second[0], second[159]), (160, 60, 219));
        let mut played = 2;
        while p.next_frame().is_some() {
            played += 1;
        }
        assert_eq!((played, p.queued_frames(), p.has_frames()), (100, 1, false), "130 samples wait for more audio");
        p.seal();
        let last = p.next_frame().unwrap();
        assert_eq!((last[0], last[129], last[130]), (15_900, 16_029, 0));
        assert_eq!(Arc::strong_count(&greeting), 1, "released once played");
    }
}
