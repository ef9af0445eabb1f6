//! Backchannels and fillers: "mhm", "ok", "ehm". A caller says them while
//! listening or thinking; they are not a turn and not an interruption.

use crate::text;

/// Sounds that carry no request at all: never a turn.
const FILLERS: &[&str] = &["mhm", "mh", "mm", "mmm", "hm", "hmm", "uhm", "um", "ehm", "eh", "ah", "oh", "uh", "ahm", "mmh", "mhmh"];

/// Short acknowledgements: not an interruption while the agent speaks.
const ACKNOWLEDGEMENTS: &[&str] = &[
    "ok",
    "okay",
    "okey",
    "oke",
    "si",
    "sì",
    "certo",
    "bene",
    "va",
    "vabbe",
    "vabbè",
    "capito",
    "giusto",
    "esatto",
    "perfetto",
    "ah",
    "ecco",
    "d'accordo",
    "daccordo",
];

/// Whether `transcript` is only filler sounds ("ehm", "mhm mhm"), or empty:
/// nothing the dialogue should answer.
pub fn is_filler(transcript: &str) -> bool {
    words(transcript).iter().all(|w| FILLERS.contains(&w.as_str()))
}

/// Whether `transcript` is only a backchannel: fillers and short
/// acknowledgements ("ok", "sì sì", "mhm certo", "va bene"), at most four
/// words. Said while the agent is speaking, it does not interrupt.
pub fn is_backchannel(transcript: &str) -> bool {
    let words = words(transcript);
    words.len() <= 4 && words.iter().all(|w| FILLERS.contains(&w.as_str()) || ACKNOWLEDGEMENTS.contains(&w.as_str()))
}

fn words(transcript: &str) -> Vec<String> {
    text::normalize(transcript)
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fillers_and_acknowledgements() {
        for t in ["mhm", "Ehm...", "mhm mhm", "", "  ", "uhm, eh"] {
            assert!(is_filler(t), "{t:?}");
            assert!(is_backchannel(t), "{t:?}");
        }
        for t in ["ok", "Sì, sì.", "va bene", "ok perfetto", "certo"] {
            assert!(!is_filler(t), "{t:?}");
            assert!(is_backchannel(t), "{t:?}");
        }
        for t in ["no, alle quattro", "vorrei prenotare", "ok ma domani non posso venire", "ehm vorrei disdire"] {
            assert!(!is_backchannel(t), "{t:?}");
        }
    }
}
