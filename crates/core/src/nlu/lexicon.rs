//! Vocabulary of the intent classifier (L1) beyond the training file's own
//! words: chat shorthand spelled out ("x" → "per", "nn" → "non") and
//! semantic word classes, so a sentence that names a service, a day or a
//! verb of moving an appointment the training file never used still shares
//! features with the sentences that did.
//!
//! Classes match normalised words by prefix (a stem), e.g. `spost` covers
//! "spostare", "spostiamo", "spostà".

/// Chat and recogniser shorthand → the word it stands for (normalised text).
const SHORTHAND: &[(&str, &str)] = &[
    ("x", "per"),
    ("cmq", "comunque"),
    ("nn", "non"),
    ("grz", "grazie"),
    ("thx", "grazie"),
    ("qnt", "quanto"),
    ("qnto", "quanto"),
    ("xke", "perche"),
    ("xche", "perche"),
    ("pk", "perche"),
    ("xo", "pero"),
    ("pls", "per favore"),
    ("plz", "per favore"),
    ("tt", "tutto"),
    ("sn", "sono"),
    ("ke", "che"),
    ("k", "che"),
    ("cs", "cosa"),
    ("qlc", "qualche"),
    ("qlcs", "qualcosa"),
    ("cn", "con"),
    ("app", "appuntamento"),
    ("appt", "appuntamento"),
    ("pom", "pomeriggio"),
    ("sett", "settimana"),
    ("prox", "prossimo"),
    ("msg", "messaggio"),
    ("info", "informazioni"),
];

/// The word `w` stands for, when it is chat shorthand.
pub fn expand_shorthand(w: &str) -> Option<&'static str> {
    SHORTHAND.iter().find(|(s, _)| *s == w).map(|(_, full)| *full)
}

/// Spells out chat shorthand in a normalised sentence ("x domani nn posso"
/// → "per domani non posso"). Other words are kept as they are.
pub fn spell_out(normalized: &str) -> String {
    let mut out = String::with_capacity(normalized.len() + 8);
    for w in crate::text::words(normalized) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(expand_shorthand(w).unwrap_or(w));
    }
    out
}

/// A semantic class of words, a feature of the intent classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WordClass {
    /// A service of any vertical ("taglio", "massaggio", "tagliando", "visita").
    Service,
    /// A day or part of the day ("giovedì", "domani", "pomeriggio").
    When,
    /// A number, in digits or words.
    Number,
    /// Moving an appointment ("spostare", "rimandare", "anticipare").
    Move,
    /// Cancelling ("disdire", "annullare", "togliere").
    Cancel,
    /// Booking ("prenotare", "fissare", "appuntamento").
    Book,
    /// Personal data and consent ("dati", "consenso", "newsletter").
    Data,
    /// Dissatisfaction ("sporco", "rovinato", "pessimo", "reclamo").
    Bad,
    /// A person to talk to ("operatore", "titolare", "qualcuno").
    Person,
    /// Money ("costo", "prezzo", "spendere", "gratis").
    Money,
}

/// Word stems per class (normalised: lower case, no accents).
const CLASSES: &[(WordClass, &str)] = &[
    (
        WordClass::Service,
        "tagli piega pieg color tint meches balayage barb rasatur cheratin permanent acconciatur massagg linfodren \
         riflessolog pulizi trattament manicur pedicur ceret epilazion laminazion pressoterap spa visit elettrocardiogramm \
         ecocardiogramm ecografi eco pap prelie esam analis tagliand olio gomm pneumatic convergenz revision diagnos clima \
         sanificazion pastigli fren disch batteri cinghi frizion sedut ungh sopraccigli cigli semipermanent extension ecg \
         dentist cardiolog dermatolog oculist ortoped ginecolog nutrizion",
    ),
    (
        WordClass::When,
        "lunedi martedi mercoledi giovedi venerdi sabato domenica domani dopodomani oggi stasera stamattina stamani \
         mattina mattinata pomeriggio sera serata settimana weekend gennaio febbraio marzo aprile maggio giugno luglio \
         agosto settembre ottobre novembre dicembre natale pasqua",
    ),
    (WordClass::Move, "spost rimand posticip anticip slitt rinvi riprogramm cambiare cambiar cambia cambio"),
    (WordClass::Cancel, "disd annull cancell elimin togli tolg lev depenn rinunc"),
    (WordClass::Book, "prenot fiss appuntament segn agenda"),
    (WordClass::Data, "dati dato consens privacy gdpr archivi database newsletter pubblicit promozional oblio informazioni"),
    (
        WordClass::Bad,
        "sporc graff rigat rovin pessim scortes sgarbat delus scontent arrabbi lament reclam irritazion livid brufol \
         inaccettabil vergogn disserviz orribil malissim schif maleducat",
    ),
    (WordClass::Person, "operator persona umano titolar responsabil segretari receptionist qualcuno"),
    (WordClass::Money, "cost prezz spend cifra euro tariff gratis gratuit pagament"),
];

/// Time words that give [`WordClass::Number`] besides the cardinals of
/// [`super::numbers::parse_number`] ("le nove e mezza", "un quarto").
const TIME_NUMBER_WORDS: &[&str] = &["mezza", "quarto", "mezzogiorno"];

/// Whether the normalised word is a number: digits, a cardinal in words
/// ("quindici", "ventitre"; not the articles "un"/"una"), or a time word
/// like "mezza".
fn is_number_word(w: &str) -> bool {
    w.bytes().any(|b| b.is_ascii_digit())
        || TIME_NUMBER_WORDS.contains(&w)
        || (!matches!(w, "un" | "una") && super::numbers::parse_number(w).is_some())
}

/// Whether the normalised word names a day, a month or a part of the day
/// ([`WordClass::When`]).
pub fn is_time_word(w: &str) -> bool {
    let mut found = false;
    classes_of(w, |c| found |= c == WordClass::When);
    found
}

/// Whether `stem` covers `word`: a prefix of at least four letters, or a
/// shorter stem that leaves at most three letters of ending.
fn covers(stem: &str, word: &str) -> bool {
    word.starts_with(stem) && (stem.len() >= 4 || word.len() <= stem.len() + 3)
}

/// Calls `f` with every class of the normalised word `w` (a word may be in
/// several classes, or none).
pub fn classes_of(w: &str, mut f: impl FnMut(WordClass)) {
    if is_number_word(w) {
        f(WordClass::Number);
    }
    for (class, stems) in CLASSES {
        if stems.split_ascii_whitespace().any(|s| covers(s, w)) {
            f(*class);
        }
    }
}

/// Italian prepositions, simple and articulated (elided forms as
/// [`crate::text::normalize`] leaves them: "dell'" → "dell").
pub const PREPOSITIONS: &[&str] = &[
    "di", "a", "da", "in", "su", "per", "con", "tra", "fra", "al", "allo", "alla", "alle", "ai", "agli", "all", "dal", "dallo", "dalla",
    "dalle", "dai", "dagli", "dall", "del", "dello", "della", "delle", "dei", "degli", "dell", "nel", "nello", "nella", "nelle", "nei",
    "negli", "nell", "sul", "sullo", "sulla", "sulle", "sui", "sugli", "sull", "col", "coi",
];

/// Italian definite and indefinite articles ("l'" normalised to "l").
pub const ARTICLES: &[&str] = &["il", "lo", "la", "i", "gli", "le", "l", "un", "uno", "una"];

/// Conjunctions that join a clause to what follows (normalised, accents
/// folded: "però" → "pero", "perché" → "perche").
pub const CONJUNCTIONS: &[&str] =
    &["e", "ed", "o", "od", "oppure", "ma", "pero", "che", "se", "perche", "quindi", "anche", "come", "quando", "mentre", "poi"];

/// Whether the normalised word is a preposition ([`PREPOSITIONS`]).
pub fn is_preposition(w: &str) -> bool {
    PREPOSITIONS.contains(&w)
}

/// Whether the normalised word is an article ([`ARTICLES`]).
pub fn is_article(w: &str) -> bool {
    ARTICLES.contains(&w)
}

/// Whether the normalised word is a conjunction ([`CONJUNCTIONS`]).
pub fn is_conjunction(w: &str) -> bool {
    CONJUNCTIONS.contains(&w)
}

/// Words that negate what follows ("non voglio disdire").
pub fn is_negation(w: &str) -> bool {
    matches!(w, "non" | "mica" | "neanche" | "nemmeno" | "neppure")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(w: &str) -> Vec<WordClass> {
        let mut v = Vec::new();
        classes_of(w, |c| v.push(c));
        v
    }

    #[test]
    fn shorthand_is_spelled_out() {
        assert_eq!(spell_out("x domani nn posso grz"), "per domani non posso grazie");
        assert_eq!(spell_out("vorrei un taglio"), "vorrei un taglio");
        assert_eq!(spell_out(""), "");
    }

    #[test]
    fn words_fall_in_their_classes() {
        assert_eq!(classes("spostiamo"), vec![WordClass::Move]);
        assert_eq!(classes("disdire"), vec![WordClass::Cancel]);
        assert_eq!(classes("15:30"), vec![WordClass::Number]);
        assert_eq!(classes("quindici"), vec![WordClass::Number]);
        assert_eq!(classes("ventitre"), vec![WordClass::Number]);
        assert_eq!(classes("mezza"), vec![WordClass::Number]);
        assert!(classes("un").is_empty());
        assert!(classes("una").is_empty());
        assert!(is_time_word("sabato"));
        assert!(!is_time_word("pizza"));
        assert!(classes("massaggio").contains(&WordClass::Service));
        assert!(classes("giovedi").contains(&WordClass::When));
        assert!(classes("graffiata").contains(&WordClass::Bad));
        assert!(classes("sono").is_empty());
        // A short stem does not swallow a long unrelated word.
        assert!(!classes("levatrice").contains(&WordClass::Cancel));
        assert!(classes("eccellente").is_empty());
    }
}
