//! The scenario suite: scripted caller conversations per vertical, read from
//! `tests/scenarios/<vertical>.toml`, run over `POST /api/voice/query`
//! against a fresh seeded database on the fixed test clock, and judged by
//! what is in the database afterwards (and by the replies where nothing may
//! be booked).
//!
//! A scenario has opening `turns` and `answers` keyed by what the
//! receptionist asks (name, phone, confirmation, choice among offered times,
//! service, day, yes/no offers, the reason of a complaint): after the scripted turns the runner reads
//! each reply, classifies the question and gives the scripted answer, until
//! the receptionist asks nothing it has an answer for. Every scenario runs
//! twice: as written, and in spoken style (lower case, no punctuation,
//! numbers in words, "si" without accent). The pass counts are printed; a
//! vertical fails under the floor written at the top of its file.

use std::collections::HashMap;

use fluxion_core::booking::{Channel, NewAppointment, Repository, Vertical};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::TestApp;

/// Longest conversation, in caller turns.
const MAX_TURNS: usize = 16;
/// Scenarios run at the same time (each on its own server and database).
const PARALLEL: usize = 4;

#[derive(Debug, Deserialize)]
struct Suite {
    /// Minimum passing scenarios, as written.
    floor_written: usize,
    /// Minimum passing scenarios, in spoken style.
    floor_spoken: usize,
    scenario: Vec<Scenario>,
}

#[derive(Debug, Clone, Deserialize)]
struct Scenario {
    id: String,
    /// The verified caller ID sent as `phone`, when the call has one.
    #[serde(default)]
    phone: Option<String>,
    /// Appointments in the database before the call.
    #[serde(default)]
    setup: Vec<Existing>,
    /// What the caller says first, in order.
    turns: Vec<String>,
    /// Answers keyed by what the receptionist asks.
    #[serde(default)]
    answers: HashMap<String, Answer>,
    /// A second caller racing for the same slot: both reach the read-back,
    /// then the first confirms, then the second.
    #[serde(default)]
    rival: Option<Box<Scenario>>,
    expect: Expect,
}

/// One answer, or successive answers when the question comes again.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Answer {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
struct Existing {
    client: String,
    phone: String,
    service: String,
    operator: String,
    /// Local start, `YYYY-MM-DDTHH:MM`.
    start: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct Expect {
    /// Exactly these appointments are `booked` afterwards (setup included).
    #[serde(default)]
    booked: Option<Vec<Booked>>,
    /// Number of cancelled appointments.
    #[serde(default)]
    cancelled: Option<usize>,
    /// Callback requests recorded (any kind).
    #[serde(default)]
    callbacks: Option<usize>,
    /// Each recorded callback request's reason contains this (lower case).
    #[serde(default)]
    callback_reason: Option<String>,
    /// Each recorded callback request has this phone (E.164).
    #[serde(default)]
    callback_phone: Option<String>,
    /// Each recorded callback request has this kind.
    #[serde(default)]
    callback_kind: Option<String>,
    /// Waitlist entries recorded.
    #[serde(default)]
    waitlist: Option<usize>,
    /// Clients that must exist with exactly this name.
    #[serde(default)]
    clients: Vec<ClientRow>,
    /// Some reply contains each of these (lower case, accents as written).
    #[serde(default)]
    reply_contains: Vec<String>,
    /// No reply contains any of these.
    #[serde(default)]
    reply_lacks: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct Booked {
    service: String,
    /// The local start, `YYYY-MM-DDTHH:MM`, or a prefix of it (a day
    /// `YYYY-MM-DD`).
    #[serde(default)]
    start: Option<String>,
    /// The local start is at or after this (`YYYY-MM-DDTHH:MM`).
    #[serde(default)]
    not_before: Option<String>,
    /// The local start is strictly before this (`YYYY-MM-DDTHH:MM`).
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    operator: Option<String>,
    #[serde(default)]
    client: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct ClientRow {
    phone: String,
    name: String,
}

/// What the receptionist's reply asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Confirm,
    Choice,
    Service,
    Name,
    Phone,
    When,
    Offer,
    Waitlist,
    Appointment,
    Reason,
    Anything,
    Nothing,
}

impl Ask {
    fn key(self) -> &'static str {
        match self {
            Ask::Confirm => "confirm",
            Ask::Choice => "choice",
            Ask::Service => "service",
            Ask::Name => "name",
            Ask::Phone => "phone",
            Ask::When => "when",
            Ask::Offer => "offer",
            Ask::Waitlist => "waitlist",
            Ask::Appointment => "appointment",
            Ask::Reason => "reason",
            Ask::Anything => "anything_else",
            Ask::Nothing => "nothing",
        }
    }
}

/// Classifies the question at the end of a reply: by its last question
/// sentence, or by the whole reply when that sentence alone says nothing
/// ("Non ho capito il numero. Può ripeterlo, cifra per cifra?").
fn classify(reply: &str) -> Ask {
    let r = reply.to_lowercase();
    if !r.contains('?') {
        return Ask::Nothing;
    }
    let last = r.rsplit(['.', '!']).find(|s| s.contains('?')).unwrap_or(&r);
    match classify_question(last) {
        Ask::Nothing => classify_question(&r),
        ask => ask,
    }
}

fn classify_question(last: &str) -> Ask {
    let has = |s: &str| last.contains(s);
    if has("confermo") || has("conferma") || has("sì o no") {
        Ask::Confirm
    } else if has("cosa è successo") || has("il motivo") {
        Ask::Reason
    } else if has("lista d'attesa") {
        Ask::Waitlist
    } else if has("numero") || has("telefono") {
        Ask::Phone
    } else if has("nome") {
        Ask::Name
    } else if has("quale appuntamento") || has("quale vuole cancellare") || has("quale vuole spostare") {
        Ask::Appointment
    } else if has("servizio") || has("quale desidera") || has("quale tra") || has("quale intende") {
        Ask::Service
    } else if has("quale preferisce") || has("la prima") {
        Ask::Choice
    } else if has("le va bene") || has("vuole prenotare") || has("desidera prenotare") || has("preferisce un altro") {
        Ask::Offer
    } else if has("giorno") || has("quando") || has("orario") || has("ora preferisce") {
        Ask::When
    } else if has("qualcos'altro") || has("in altro modo") || has("come posso aiutarla") {
        Ask::Anything
    } else {
        Ask::Nothing
    }
}

/// Spoken style: lower case, no punctuation, numbers in words, "si" for "sì".
fn spoken(text: &str) -> String {
    let lower = text.to_lowercase().replace("sì", "si").replace("+39", " ");
    // Times first: "15:30", "9.30" → "quindici e trenta".
    let mut out = String::new();
    let cleaned: String = lower.chars().map(|c| if ",;!?\"()".contains(c) { ' ' } else { c }).collect();
    let tokens: Vec<&str> = cleaned.split_whitespace().collect();
    // Digit groups adding up to a phone number are read digit by digit.
    let digit_run: usize = tokens.iter().filter(|t| t.chars().all(|c| c.is_ascii_digit())).map(|t| t.len()).sum();
    for t in tokens {
        let t = t.trim_end_matches('.');
        let word = if let Some((h, m)) = t.split_once([':', '.']).filter(|(h, m)| is_num(h) && is_num(m) && m.len() == 2) {
            let (h, m): (i64, i64) = (h.parse().unwrap_or(0), m.parse().unwrap_or(0));
            match m {
                0 => fluxion_core::speak::number(h),
                15 => format!("{} e un quarto", fluxion_core::speak::number(h)),
                30 => format!("{} e mezza", fluxion_core::speak::number(h)),
                _ => format!("{} e {}", fluxion_core::speak::number(h), fluxion_core::speak::number(m)),
            }
        } else if is_num(t) && (t.len() >= 5 || digit_run >= 9) {
            t.chars().map(|c| fluxion_core::speak::number(c.to_digit(10).unwrap_or(0) as i64)).collect::<Vec<_>>().join(" ")
        } else if is_num(t) {
            fluxion_core::speak::number(t.parse().unwrap_or(0))
        } else {
            t.replace('.', " ")
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// One caller's conversation in progress.
struct Caller<'a> {
    sc: &'a Scenario,
    session: String,
    spoken: bool,
    next_turn: usize,
    asked: HashMap<&'static str, usize>,
    last_reply: String,
    replies: Vec<String>,
    turns: usize,
    first: bool,
}

impl<'a> Caller<'a> {
    fn new(sc: &'a Scenario, session: String, spoken: bool) -> Self {
        Caller {
            sc,
            session,
            spoken,
            next_turn: 0,
            asked: HashMap::new(),
            last_reply: String::new(),
            replies: Vec::new(),
            turns: 0,
            first: true,
        }
    }

    /// The next thing to say, and what it answers; `None` when done.
    fn next(&mut self) -> Option<(String, Ask)> {
        if self.turns >= MAX_TURNS {
            return None;
        }
        if let Some(t) = self.sc.turns.get(self.next_turn) {
            return Some((t.clone(), Ask::Nothing));
        }
        let ask = classify(&self.last_reply);
        let answer = self.sc.answers.get(ask.key())?;
        let n = self.asked.get(ask.key()).copied().unwrap_or(0);
        let text = match answer {
            Answer::One(s) => s.clone(),
            Answer::Many(v) => v.get(n).or(v.last())?.clone(),
        };
        if text.is_empty() {
            return None;
        }
        Some((text, ask))
    }

    async fn say(&mut self, app: &TestApp, text: String, ask: Ask) -> Result<(), String> {
        if self.next_turn < self.sc.turns.len() {
            self.next_turn += 1;
        } else {
            *self.asked.entry(ask.key()).or_default() += 1;
        }
        self.turns += 1;
        let text = if self.spoken { spoken(&text) } else { text };
        let phone = if self.first { self.sc.phone.clone() } else { None };
        self.first = false;
        let mut body = json!({ "session_id": self.session, "text": text });
        if let Some(p) = phone {
            body["phone"] = json!(p);
        }
        let r = app.client.post(app.url("/api/voice/query")).json(&body).send().await.map_err(|e| e.to_string())?;
        if r.status() != 200 {
            return Err(format!("'{text}' → HTTP {}", r.status()));
        }
        let v: Value = r.json().await.map_err(|e| e.to_string())?;
        self.last_reply = v["reply"].as_str().unwrap_or_default().to_string();
        self.replies.push(format!("> {text}\n< {}", self.last_reply));
        Ok(())
    }

    /// Talks until done, or (with `stop_at_confirm`) until the next answer
    /// would be a booking confirmation.
    async fn run(&mut self, app: &TestApp, stop_at_confirm: bool) -> Result<(), String> {
        while let Some((text, ask)) = self.next() {
            if stop_at_confirm && ask == Ask::Confirm {
                return Ok(());
            }
            self.say(app, text, ask).await?;
        }
        Ok(())
    }
}

async fn setup(app: &TestApp, existing: &[Existing]) -> Result<(), String> {
    let tz = jiff::tz::TimeZone::get("Europe/Rome").map_err(|e| e.to_string())?;
    for e in existing {
        let client = app.tenant.upsert_client(&e.client, &e.phone, None).await.map_err(|e| e.to_string())?;
        let (service_id, duration): (i64, i64) = sqlx::query_as("SELECT id, duration_min FROM services WHERE name = $1")
            .bind(&e.service)
            .fetch_one(app.store.pool_for_tests())
            .await
            .map_err(|x| format!("service {}: {x}", e.service))?;
        let operator_id: i64 = sqlx::query_scalar("SELECT id FROM operators WHERE name = $1")
            .bind(&e.operator)
            .fetch_one(app.store.pool_for_tests())
            .await
            .map_err(|x| format!("operator {}: {x}", e.operator))?;
        let local: jiff::civil::DateTime = e.start.parse().map_err(|x| format!("{}: {x}", e.start))?;
        let start = local.to_zoned(tz.clone()).map_err(|x| x.to_string())?.timestamp();
        let end = start + jiff::SignedDuration::from_mins(duration);
        let new = NewAppointment { client_id: client.id, operator_id, service_id, start, end, channel: Channel::Staff };
        app.tenant.book(new, 0).await.map_err(|x| format!("setup booking: {x}"))?;
    }
    Ok(())
}

/// Checks the database and the replies against the expectations.
async fn judge(app: &TestApp, expect: &Expect, replies: &[String]) -> Result<(), String> {
    let pool = app.store.pool_for_tests();
    let tz = jiff::tz::TimeZone::get("Europe/Rome").map_err(|e| e.to_string())?;
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT s.name, a.start_utc, o.name, c.name, a.status FROM appointments a \
         JOIN services s ON s.id = a.service_id JOIN operators o ON o.id = a.operator_id \
         JOIN clients c ON c.id = a.client_id ORDER BY a.start_utc",
    )
    .fetch_all(pool)
    .await
    .map_err(|e| e.to_string())?;
    let local = |utc: &str| -> String {
        utc.parse::<jiff::Timestamp>().map(|t| t.to_zoned(tz.clone()).datetime().strftime("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
    };
    let booked: Vec<(String, String, String, String)> =
        rows.iter().filter(|r| r.4 == "booked").map(|r| (r.0.clone(), local(&r.1), r.2.clone(), r.3.clone())).collect();
    let mut problems = Vec::new();
    if let Some(want) = &expect.booked {
        let mut left = booked.clone();
        for w in want {
            let hit = left.iter().position(|(s, start, op, client)| {
                s == &w.service
                    && w.start.as_ref().is_none_or(|x| start.starts_with(x.as_str()))
                    && w.not_before.as_ref().is_none_or(|x| start.as_str() >= x.as_str())
                    && w.before.as_ref().is_none_or(|x| start.as_str() < x.as_str())
                    && w.operator.as_ref().is_none_or(|x| x == op)
                    && w.client.as_ref().is_none_or(|x| x == client)
            });
            match hit {
                Some(i) => {
                    left.remove(i);
                }
                None => problems.push(format!("missing booking {} {:?} {:?} {:?}", w.service, w.start, w.operator, w.client)),
            }
        }
        for extra in left {
            problems.push(format!("unexpected booking {extra:?}"));
        }
    }
    if let Some(n) = expect.cancelled {
        let got = rows.iter().filter(|r| r.4 == "cancelled").count();
        if got != n {
            problems.push(format!("cancelled {got}, expected {n}"));
        }
    }
    let callbacks: Vec<(Option<String>, String, String)> =
        sqlx::query_as("SELECT phone, reason, kind FROM callback_requests").fetch_all(pool).await.map_err(|e| e.to_string())?;
    if let Some(n) = expect.callbacks {
        if callbacks.len() != n {
            problems.push(format!("callbacks {}, expected {n}", callbacks.len()));
        }
    }
    for (phone, reason, kind) in &callbacks {
        if let Some(r) = &expect.callback_reason {
            if !reason.to_lowercase().contains(r.as_str()) {
                problems.push(format!("callback reason '{reason}' lacks '{r}'"));
            }
        }
        if let Some(p) = &expect.callback_phone {
            if phone.as_deref() != Some(p.as_str()) {
                problems.push(format!("callback phone {phone:?}, expected {p}"));
            }
        }
        if let Some(k) = &expect.callback_kind {
            if kind != k {
                problems.push(format!("callback kind {kind}, expected {k}"));
            }
        }
    }
    if let Some(n) = expect.waitlist {
        let got: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM waitlist").fetch_one(pool).await.map_err(|e| e.to_string())?;
        if got as usize != n {
            problems.push(format!("waitlist {got}, expected {n}"));
        }
    }
    for c in &expect.clients {
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM clients WHERE phone = $1")
            .bind(&c.phone)
            .fetch_all(pool)
            .await
            .map_err(|e| e.to_string())?;
        if names != [c.name.clone()] {
            problems.push(format!("client {} is {names:?}, expected {}", c.phone, c.name));
        }
    }
    let all = replies.join("\n").to_lowercase();
    let bot: String = replies.iter().filter_map(|r| r.split_once("\n< ").map(|x| x.1.to_lowercase())).collect::<Vec<_>>().join("\n");
    for s in &expect.reply_contains {
        if !bot.contains(&s.to_lowercase()) {
            problems.push(format!("no reply contains '{s}'"));
        }
    }
    for s in &expect.reply_lacks {
        if bot.contains(&s.to_lowercase()) {
            problems.push(format!("a reply contains '{s}'"));
        }
    }
    // One question per turn, and it is the last thing said: the caller
    // knows what to answer and that it is their turn.
    for r in replies.iter().filter_map(|r| r.split_once("\n< ").map(|x| x.1)) {
        let questions = r.matches('?').count();
        if questions > 1 || (questions == 1 && !r.trim_end().ends_with('?')) {
            problems.push(format!("not one question, last: '{r}'"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{all}", problems.join("; ")))
    }
}

async fn run_one(vertical: Vertical, sc: Scenario, spoken_style: bool) -> Result<(), String> {
    let app = TestApp::spawn_with(vertical).await;
    setup(&app, &sc.setup).await?;
    let style = if spoken_style { "spoken" } else { "written" };
    let mut a = Caller::new(&sc, format!("{}-{style}", sc.id), spoken_style);
    let mut replies = Vec::new();
    match &sc.rival {
        None => a.run(&app, false).await?,
        Some(rival) => {
            let mut b = Caller::new(rival, format!("{}-{style}-rival", sc.id), spoken_style);
            a.run(&app, true).await?;
            b.run(&app, true).await?;
            a.run(&app, false).await?;
            b.run(&app, false).await?;
            replies.append(&mut b.replies);
        }
    }
    replies.splice(0..0, a.replies.drain(..));
    judge(&app, &sc.expect, &replies).await
}

async fn run_suite(vertical: Vertical) {
    let path = format!("{}/tests/scenarios/{}.toml", env!("CARGO_MANIFEST_DIR"), vertical.as_str());
    let text = std::fs::read_to_string(&path).expect("scenario file");
    let suite: Suite = toml::from_str(&text).expect("scenario file parses");
    let mut ids = std::collections::HashSet::new();
    for sc in &suite.scenario {
        assert!(ids.insert(sc.id.clone()), "duplicate scenario id {}", sc.id);
    }
    let jobs = suite.scenario.iter().flat_map(|sc| [(sc.clone(), false), (sc.clone(), true)]);
    let results: Vec<(String, bool, Result<(), String>)> = futures::stream::iter(jobs)
        .map(|(sc, spoken_style)| async move {
            let id = sc.id.clone();
            (id, spoken_style, run_one(vertical, sc, spoken_style).await)
        })
        .buffered(PARALLEL)
        .collect()
        .await;
    let (mut written, mut spoken_ok) = (0, 0);
    for (id, spoken_style, r) in &results {
        match r {
            Ok(()) if *spoken_style => spoken_ok += 1,
            Ok(()) => written += 1,
            Err(e) => eprintln!("FAIL {} [{}] {e}\n", id, if *spoken_style { "spoken" } else { "written" }),
        }
    }
    let n = suite.scenario.len();
    println!("scenarios {}: written {written}/{n}, spoken {spoken_ok}/{n}", vertical.as_str());
    eprintln!("scenarios {}: written {written}/{n}, spoken {spoken_ok}/{n}", vertical.as_str());
    assert!(
        written >= suite.floor_written && spoken_ok >= suite.floor_spoken,
        "{}: written {written} (floor {}), spoken {spoken_ok} (floor {})",
        vertical.as_str(),
        suite.floor_written,
        suite.floor_spoken
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_salone() {
    run_suite(Vertical::Salone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_wellness() {
    run_suite(Vertical::Wellness).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_medical() {
    run_suite(Vertical::Medical).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_auto() {
    run_suite(Vertical::Auto).await;
}

#[test]
fn spoken_style_reads_numbers_as_words() {
    assert_eq!(spoken("Sì, alle 15:30."), "si alle quindici e mezza");
    assert_eq!(spoken("347 111 2233"), "tre quattro sette uno uno uno due due tre tre");
    assert_eq!(spoken("Il 12 marzo, va bene!"), "il dodici marzo va bene");
}

#[test]
fn questions_are_classified() {
    assert_eq!(classify("Ricapitolo: piega domani alle dieci con Giulia. Confermo la prenotazione?"), Ask::Confirm);
    assert_eq!(classify("Posso proporle domani alle nove o alle dieci. Quale preferisce?"), Ask::Choice);
    assert_eq!(classify("Mi dice il suo nome e cognome, per favore?"), Ask::Name);
    assert_eq!(classify("Mi lascia un numero di telefono?"), Ask::Phone);
    assert_eq!(classify("Perfetto, ho prenotato. Posso aiutarla in qualcos'altro?"), Ask::Anything);
    assert_eq!(classify("Mi dispiace. Mi dice in breve che cosa è successo?"), Ask::Reason);
    assert_eq!(classify("Non ho capito il numero. Può ripeterlo, cifra per cifra?"), Ask::Phone);
}
