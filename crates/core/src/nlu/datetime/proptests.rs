//! Property tests of the resolver: it never panics, and offsets, clock
//! times and dates without a year keep their shape for any "now".

use super::*;
use jiff::civil::date;
use proptest::prelude::*;

/// Any civil date-time in a sane range.
fn any_now() -> impl Strategy<Value = DateTime> {
    (1950i16..2150, 1i8..=12, 1i8..=28, 0i8..24, 0i8..60).prop_map(|(y, m, d, h, mi)| date(y, m, d).at(h, mi, 0, 0))
}

/// Words that exercise the matchers, for random sentences.
const VOCAB: &[&str] = &[
    "domani",
    "oggi",
    "il",
    "l'",
    "15",
    "3",
    "31",
    "32",
    "0",
    "24",
    "25",
    "marzo",
    "feb",
    "alle",
    "all'",
    "ore",
    "h",
    "e",
    "mezza",
    "meno",
    "un",
    "quarto",
    "tre",
    "quarti",
    "una",
    "tra",
    "fra",
    "le",
    "dalle",
    "giorni",
    "mesi",
    "ore",
    "minuti",
    "settimana",
    "prossima",
    "prossimo",
    "questo",
    "lunedì",
    "sabato",
    "pomeriggio",
    "sera",
    "notte",
    "mattina",
    "mezzogiorno",
    "mezzanotte",
    "9:30",
    "99:99",
    "15/03/2027",
    "3/4",
    "2027",
    "99999999999",
    "primo",
    "del",
    "mese",
    "fine",
    "weekend",
    "buona",
    "verso",
    "per",
    "di",
    ",",
    "?",
    "ventuno",
    "cento",
    "non",
    "ma",
    "anzi",
    "a",
    "al",
    "da",
    "dal",
    "18/03",
    "18-3",
    "domai",
    "spostare",
];

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,60}", now in any_now()) {
        let _ = resolve(&text, now);
    }

    #[test]
    fn never_panics_on_random_phrases(
        picks in proptest::collection::vec(0..VOCAB.len(), 0..10),
        now in any_now(),
    ) {
        let text: Vec<&str> = picks.iter().map(|&i| VOCAB[i]).collect();
        let text = text.join(" ");
        let all = resolve_all(&text, now);
        prop_assert_eq!(resolve(&text, now).is_some(), !all.is_empty(), "{}", text);
        if let Some(r) = resolve(&text, now) {
            // A date-only result is always at midnight, day grain.
            if r.date_given && !r.time_given {
                match r.slot {
                    DateTimeSlot::Instant { value, grain } => {
                        prop_assert_eq!(value.time(), Time::midnight(), "{}", text);
                        prop_assert_eq!(grain, Grain::Day);
                    }
                    DateTimeSlot::Range { start, end, grain, .. } => {
                        prop_assert_eq!(start.time(), Time::midnight(), "{}", text);
                        prop_assert_eq!(end.time(), Time::midnight(), "{}", text);
                        prop_assert_eq!(grain, Grain::Day);
                    }
                }
            }
        }
    }

    #[test]
    fn tra_n_giorni_adds_n_days(now in any_now(), n in 0i64..365, fra in any::<bool>()) {
        let text = format!("{} {n} giorni", if fra { "fra" } else { "tra" });
        let r = resolve(&text, now).unwrap();
        let want = now.date().checked_add(Span::new().days(n)).unwrap();
        prop_assert_eq!(r.slot, DateTimeSlot::Instant { value: want.at(0, 0, 0, 0), grain: Grain::Day });
        prop_assert!(r.date_given && !r.time_given);
    }

    #[test]
    fn alle_hh_mm_gives_that_time(now in any_now(), h in 0i8..24, m in 0i8..60, with_minutes in any::<bool>()) {
        // A two-digit (zero-padded) hour is literal; unpadded hours
        // 0 and 8..=23 are too (1..=7 are read as the afternoon).
        let m = if with_minutes { m } else { 0 };
        let mut texts = vec![if with_minutes { format!("alle {h:02}:{m:02}") } else { format!("alle {h:02}") }];
        if h == 0 || h >= 8 {
            texts.push(if with_minutes { format!("alle {h}:{m:02}") } else { format!("alle {h}") });
        }
        for text in texts {
            let r = resolve(&text, now).unwrap();
            let DateTimeSlot::Instant { value, grain } = r.slot else {
                return Err(TestCaseError::fail(format!("{text}: not an instant")));
            };
            prop_assert_eq!((value.hour(), value.minute()), (h, m), "{}", text);
            prop_assert_eq!(grain, if m == 0 { Grain::Hour } else { Grain::Minute });
            prop_assert!(value > now);
            prop_assert!(value.date() == now.date() || Some(value.date()) == now.date().tomorrow().ok());
            prop_assert!(!r.date_given && r.time_given);
        }
    }

    #[test]
    fn date_only_is_midnight(now in any_now(), d in 1i8..=28, m in 1i8..=12) {
        let text = format!("il {d}/{m}");
        let r = resolve(&text, now).unwrap();
        let DateTimeSlot::Instant { value, grain } = r.slot else {
            return Err(TestCaseError::fail("not an instant"));
        };
        prop_assert_eq!(value.time(), Time::midnight());
        prop_assert_eq!(grain, Grain::Day);
        prop_assert!(value.date() >= now.date());
    }
}
