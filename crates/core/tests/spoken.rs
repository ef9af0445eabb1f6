//! Whisper-style transcripts through the public pipeline: every spoken or
//! recognised form of a booking turn ("15:30", "alle 15.30", "15 e 30",
//! "tre e mezza", "si" for "sì", "E'" for "È", lowercase names, fillers,
//! English punctuation) must parse exactly like its clean written form.

use fluxion_core::booking::{Operator, Service, Vertical};
use fluxion_core::nlu::{NluResult, Pipeline, PipelineConfig};

fn pipeline() -> Pipeline {
    let svc = |id, name: &str, syn: &[&str]| Service {
        id,
        name: name.into(),
        synonyms: syn.iter().map(|s| s.to_string()).collect(),
        duration_min: 30,
        price_cents: 2500,
        gender: None,
        category: None,
    };
    let services = vec![
        svc(1, "Taglio donna", &["taglio", "taglio capelli"]),
        svc(2, "Piega", &["messa in piega"]),
        svc(3, "Colore", &["tinta"]),
        svc(4, "Barba", &["rasatura"]),
    ];
    let op = |id, name: &str| Operator { id, name: name.into(), service_ids: vec![1, 2, 3, 4], hours: vec![], absences: vec![] };
    let operators = vec![op(1, "Giulia"), op(2, "Francesca"), op(3, "Marco")];
    Pipeline::new(Vertical::Salone, &services, &operators, &[], PipelineConfig::default()).expect("pipeline")
}

fn now() -> jiff::civil::DateTime {
    jiff::civil::datetime(2027, 3, 10, 10, 0, 0, 0)
}

/// What must not depend on the form: intent, every slot, and whether the
/// date and the time were given.
fn key(r: &NluResult) -> String {
    format!("{} {:?} date_given={} time_given={}", r.intent.as_str(), r.slots, r.slots.date_given, r.slots.time_given)
}

/// (clean written form, recognised/spoken variants).
const CASES: &[(&str, &[&str])] = &[
    (
        "Vorrei prenotare un taglio domani alle 15:30.",
        &[
            "vorrei prenotare un taglio domani alle 15.30",
            "vorrei prenotare un taglio domani alle 15 e 30",
            "ehm vorrei prenotare un taglio domani alle quindici e trenta",
            "Vorrei prenotare un taglio, domani, alle 15 30.",
            "allora vorrei prenotare un taglio domani alle tre e mezza del pomeriggio",
            "vorrei prenotare un taglio domani alle 3 e mezza di pomeriggio",
            "Vorrei prenotare un taglio domani alle 15h30",
            "vorrei ehm prenotare un taglio ehm domani alle 15,30",
            "Vorrei prenotare un taglio domani alle 15:30. Sottotitoli a cura di QTSS",
            "Vorrei prenotare un taglio domani alle 15:30… Grazie per la visione!",
            "senta, vorrei prenotare un taglio domani alle 15 30",
            "vorrei prenotare un taglio domani h 15:30",
        ],
    ),
    ("Sì, va bene.", &["si va bene", "Si, va bene", "sì va bene", "Sì. Va bene.", "ehm si va bene", "si si va bene"]),
    ("Sì", &["si", "Si.", "SI", "sì sì", "ehm sì"]),
    ("È giusto.", &["E' giusto", "e giusto", "è giusto", "E’ giusto.", "ehm è giusto"]),
    ("Perché no?", &["perche' no", "Perche no?", "perchè no"]),
    (
        "Sono Giulia Bianchi, vorrei una tinta sabato mattina.",
        &[
            "sono giulia bianchi vorrei una tinta sabato mattina",
            "Sono Giulia Bianchi. Vorrei una tinta sabato mattina.",
            "ehm sono giulia bianchi e vorrei una tinta sabato mattina",
            "sono Giulia Bianchi, vorrei una tinta sabato di mattina",
        ],
    ),
    (
        "Mi chiamo Mario Rossi.",
        &["mi chiamo mario rossi", "Mi chiamo MARIO ROSSI", "ehm mi chiamo mario rossi", "Mi chiamo Mario Rossi..."],
    ),
    (
        "Una piega con Francesca giovedì alle 10.",
        &[
            "una piega con francesca giovedì alle dieci",
            "una piega con francesca giovedi alle 10:00",
            "senta una piega con francesca giovedì alle 10",
            "Una piega con Francesca giovedì alle ore dieci.",
            "una piega con Francesca, giovedì, alle 10.00",
        ],
    ),
    (
        "Vorrei spostare l'appuntamento a venerdì alle 9:15.",
        &[
            "vorrei spostare l appuntamento a venerdi alle nove e un quarto",
            "vorrei spostare lappuntamento a venerdì alle 9 e 15",
            "cioè vorrei spostare l'appuntamento a venerdì alle 9.15",
            "ehm allora vorrei spostare l'appuntamento a venerdì alle nove e quindici",
        ],
    ),
    (
        "Devo cancellare l'appuntamento di sabato.",
        &[
            "devo cancellare l'appuntamento di sabato",
            "eh devo cancellare lappuntamento di sabato",
            "Devo cancellare l’appuntamento di Sabato.",
        ],
    ),
    (
        "Avete posto il 15 marzo alle 16:45?",
        &[
            "avete posto il quindici marzo alle sedici e quarantacinque",
            "avete posto il 15 marzo alle 16.45",
            "avete posto il 15 marzo alle cinque meno un quarto del pomeriggio",
            "Avete posto il 15 Marzo alle 16:45 ?",
        ],
    ),
    (
        "Vorrei la barba dopodomani alle 18.",
        &["vorrei la barba dopo domani alle 18", "vorrei la barba dopodomani alle sei di sera", "vorrei la barba dopodomani alle 18:00"],
    ),
];

#[test]
fn recognised_forms_parse_like_the_clean_form() {
    let p = pipeline();
    let mut failures = Vec::new();
    let mut total = 0;
    for (clean, variants) in CASES {
        let want = key(&p.parse(clean, now()));
        for v in *variants {
            total += 1;
            let got = key(&p.parse(v, now()));
            if got != want {
                failures.push(format!("{v:?}\n    got  {got}\n    want {want}  (from {clean:?})"));
            }
        }
    }
    eprintln!("spoken forms: {}/{total} parse like their clean form", total - failures.len());
    for f in &failures {
        eprintln!("  {f}");
    }
    assert!(failures.is_empty(), "{} of {total} spoken forms differ", failures.len());
}

#[test]
fn spoken_phone_numbers_fill_the_phone_slot_and_nothing_else() {
    let p = pipeline();
    for (text, want) in [
        ("il mio numero è tre quattro sette, cinque cinque cinque, uno due tre quattro", Some("+393475551234")),
        ("Il mio numero è trecentoquarantasette cinquecentocinquantacinque dodici trentaquattro.", Some("+393475551234")),
        ("ehm sì il numero è più trentanove 347 cinque cinque cinque 12 34", Some("+393475551234")),
        ("zero due, otto nove sette sei, cinque quattro tre due", Some("+390289765432")),
        ("il numero è tre quattro sette cinque cinque", None),
    ] {
        let r = p.parse(text, now());
        assert_eq!(r.slots.phone.as_deref(), want, "{text}");
        assert_eq!(r.slots.datetime, None, "{text}: a phone number is not a date");
    }
}
