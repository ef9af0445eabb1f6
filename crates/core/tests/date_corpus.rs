//! The date corpus: Italian temporal expressions (written, phone-speech and
//! chat style; lower case, no accents, numbers in words) with the value the
//! resolver must give against a fixed "now" (Wednesday 2027-03-10 10:00).
//!
//! The data is `tests/data/date_corpus.tsv`. About a fifth of it is held
//! out: a line is held out when FNV-1a-64 of its text is a multiple of 5 —
//! a rule fixed before development, checked here so the labels cannot drift.
//! Development looks only at the dev failures (printed); the held-out part is
//! reported as counts. The test fails under the floors below.

use fluxion_core::nlu::datetime::resolve;
use fluxion_core::nlu::{DateTimeSlot, Grain, OpenEnd};
use jiff::civil::{date, DateTime};

/// Minimum share of dev lines that must resolve exactly (per mille); the
/// floors are figures measured on this corpus (rounded down).
const DEV_FLOOR_PERMILLE: usize = 1000;
/// Minimum share of held-out lines that must resolve exactly (per mille).
const HELD_FLOOR_PERMILLE: usize = 1000;
/// Most lines that may resolve to a value other than the expected one (a
/// silently wrong date is the worst failure; `None` is only a miss).
const MAX_SILENTLY_WRONG: usize = 0;

struct Case {
    held: bool,
    text: String,
    want: Option<DateTimeSlot>,
}

fn fnv1a64(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn parse_dt(s: &str) -> DateTime {
    let full = if s.len() == 16 { format!("{s}:00") } else { s.to_string() };
    full.parse().unwrap_or_else(|e| panic!("bad date-time {s}: {e}"))
}

fn parse_expected(e: &str) -> Option<DateTimeSlot> {
    if e == "none" {
        return None;
    }
    let (kind, rest) = e.split_once(':').unwrap_or_else(|| panic!("bad expected {e}"));
    Some(match kind {
        "D" => {
            let d: jiff::civil::Date = rest.parse().unwrap_or_else(|err| panic!("bad date {rest}: {err}"));
            DateTimeSlot::Instant { value: d.to_datetime(jiff::civil::Time::midnight()), grain: Grain::Day }
        }
        "T" => {
            let value = parse_dt(rest);
            DateTimeSlot::Instant { value, grain: if value.minute() == 0 { Grain::Hour } else { Grain::Minute } }
        }
        "R" => {
            let (span, open) = match rest.split_once(";open=") {
                Some((span, "start")) => (span, Some(OpenEnd::Start)),
                Some((span, "end")) => (span, Some(OpenEnd::End)),
                Some((_, other)) => panic!("bad open end {other}"),
                None => (rest, None),
            };
            let (s, t) = span.split_once('/').unwrap_or_else(|| panic!("bad range {span}"));
            DateTimeSlot::Range { start: parse_dt(s), end: parse_dt(t), grain: Grain::Hour, open }
        }
        other => panic!("bad kind {other}"),
    })
}

fn load() -> Vec<Case> {
    let text = include_str!("data/date_corpus.tsv");
    let mut cases = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "bad line: {line}");
        let held = cols[0] == "held";
        assert_eq!(held, fnv1a64(cols[1]) % 5 == 0, "split label does not follow the rule: {line}");
        cases.push(Case { held, text: cols[1].to_string(), want: parse_expected(cols[2]) });
    }
    cases
}

/// Same value, ignoring the grain of ranges (hour or minute bounds).
fn same(got: Option<DateTimeSlot>, want: Option<DateTimeSlot>) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(DateTimeSlot::Range { start, end, open, .. }), Some(DateTimeSlot::Range { start: s, end: e, open: o, .. })) => {
            start == s && end == e && open == o
        }
        (Some(DateTimeSlot::Instant { value, grain }), Some(DateTimeSlot::Instant { value: v, grain: g })) => {
            value == v && (grain == Grain::Day) == (g == Grain::Day)
        }
        _ => false,
    }
}

#[test]
fn date_corpus_pass_counts() {
    let now = date(2027, 3, 10).at(10, 0, 0, 0);
    let cases = load();
    assert!(cases.len() >= 600, "the corpus needs at least 600 lines, has {}", cases.len());
    let (mut dev, mut dev_ok, mut held, mut held_ok) = (0usize, 0usize, 0usize, 0usize);
    let mut silently_wrong = 0usize;
    for c in &cases {
        let got = resolve(&c.text, now).map(|r| r.slot);
        let ok = same(got, c.want);
        if !ok && got.is_some() {
            silently_wrong += 1;
        }
        if c.held {
            held += 1;
            held_ok += usize::from(ok);
        } else {
            dev += 1;
            dev_ok += usize::from(ok);
            if !ok {
                println!("dev FAIL {:?}: got {:?}, want {:?}", c.text, got, c.want);
            }
        }
    }
    println!("date corpus: dev {dev_ok}/{dev}, held-out {held_ok}/{held}, wrong (not none) {silently_wrong}");
    assert!(dev_ok * 1000 >= dev * DEV_FLOOR_PERMILLE, "dev {dev_ok}/{dev} under the floor");
    assert!(held_ok * 1000 >= held * HELD_FLOOR_PERMILLE, "held-out {held_ok}/{held} under the floor");
    assert!(silently_wrong <= MAX_SILENTLY_WRONG, "{silently_wrong} lines resolved to a wrong value");
}
