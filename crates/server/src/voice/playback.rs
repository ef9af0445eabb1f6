//! Outgoing audio of a call: a queue of 20 ms frames at the call's rate,
//! released one per incoming frame, that barge-in can pause (and resume
//! after a false interruption) or drop.

use std::collections::VecDeque;

/// The agent's queued voice.
#[derive(Debug, Default)]
pub struct Playback {
    frame_len: usize,
    frames: VecDeque<Vec<i16>>,
    partial: Vec<i16>,
    paused: bool,
}

impl Playback {
    /// An empty queue releasing frames of `frame_len` samples.
    pub fn new(frame_len: usize) -> Self {
        Playback { frame_len: frame_len.max(1), ..Playback::default() }
    }

    /// Appends PCM; whole frames become playable at once, the rest waits
    /// for more (or for [`Playback::seal`]).
    pub fn push(&mut self, pcm: &[i16]) {
        self.partial.extend_from_slice(pcm);
        while self.partial.len() >= self.frame_len {
            let rest = self.partial.split_off(self.frame_len);
            self.frames.push_back(std::mem::replace(&mut self.partial, rest));
        }
    }

    /// Pads the pending partial frame with silence so it plays too (end of a
    /// sentence).
    pub fn seal(&mut self) {
        if !self.partial.is_empty() {
            let mut last = std::mem::take(&mut self.partial);
            last.resize(self.frame_len, 0);
            self.frames.push_back(last);
        }
    }

    /// The next frame to send, unless paused or empty.
    pub fn next_frame(&mut self) -> Option<Vec<i16>> {
        if self.paused {
            return None;
        }
        self.frames.pop_front()
    }

    /// Whether audio is waiting (paused or not).
    pub fn has_audio(&self) -> bool {
        !self.frames.is_empty() || !self.partial.is_empty()
    }

    /// Whether whole frames are waiting (paused or not); a partial frame
    /// alone waits for more audio.
    pub fn has_frames(&self) -> bool {
        !self.frames.is_empty()
    }

    /// Queued audio, in frames.
    pub fn queued_frames(&self) -> usize {
        self.frames.len() + usize::from(!self.partial.is_empty())
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
        self.frames.clear();
        self.partial.clear();
        self.paused = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_pause_resume_and_clear() {
        let mut p = Playback::new(160);
        p.push(&[1; 400]);
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
        p.push(&[1; 1600]);
        p.clear();
        assert!(!p.has_audio());
    }
}
