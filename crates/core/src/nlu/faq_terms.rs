//! Vocabulary helpers of L3 (FAQ retrieval): Italian synonyms folded to one
//! word before analysis, and the *aspect* of a question (price, duration,
//! description, preparation), so "quanto costa la cheratina?" and "quanto
//! dura la cheratina?" reach different answers.

use std::sync::OnceLock;

use regex::Regex;

use crate::text::{normalize, words};

/// What a question asks about a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    /// How much it costs, whether it is free.
    Price,
    /// How long it takes or lasts.
    Duration,
    /// What it is, what it includes, how it works.
    Description,
    /// What to do or bring before.
    Preparation,
}

/// Phrases rewritten to one word before the word synonyms apply
/// (normalised text, whole words).
const PHRASES: &[(&str, &str)] = &[
    ("sedia a rotelle", "carrozzina"),
    ("aspetto un bambino", "gravidanza"),
    // "carta" alone is a payment card: other cards first.
    ("carta fedelta", "tessera fedelta"),
    ("carta regalo", "buono regalo"),
    ("carta d identita", "documento"),
    ("carta di identita", "documento"),
    ("carta di credito", "carta"),
    ("carte di credito", "carta"),
    ("gift card", "regalo"),
    ("posto auto", "parcheggio"),
    ("posti auto", "parcheggio"),
    ("medico di base", "medico"),
    ("servizio sanitario nazionale", "servizio sanitario"),
    ("gomme da neve", "gomme invernali"),
    ("a rotelle", "carrozzina"),
    ("senza mangiare", "digiuno"),
    ("un po alla volta", "rate"),
    ("lasciare la macchina", "parcheggio"),
    ("lascio la macchina", "parcheggio"),
    ("lasciare l auto", "parcheggio"),
    ("lascio l auto", "parcheggio"),
    ("a piedi", "soccorso"),
    ("due persone", "coppia"),
    ("over 65", "anziani"),
    ("su internet", "online"),
    ("da internet", "online"),
    ("via internet", "online"),
    ("sito internet", "online"),
    ("stomaco vuoto", "digiuno"),
    ("cerco lavoro", "curriculum"),
    ("cercando lavoro", "curriculum"),
    ("cerca lavoro", "curriculum"),
    ("metto la macchina", "parcheggio"),
    ("mettere la macchina", "parcheggio"),
    ("metto l auto", "parcheggio"),
    ("usa e getta", "monouso"),
    ("costa meno", "sconto"),
    ("costano meno", "sconto"),
    ("spendo meno", "sconto"),
    ("spendere meno", "sconto"),
    ("uomini e donne", "mista"),
    // Notice before not coming, never a deposit paid in advance.
    ("con quanto anticipo", "quanto prima"),
    ("se non vengo", "disdire"),
    ("se non posso venire", "disdire"),
    ("se non riesco a venire", "disdire"),
    ("donne e uomini", "mista"),
];

/// Word → canonical word (normalised). Both the FAQs and the caller's turn
/// go through it, so any member of a group matches any other.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("macchina", &["auto", "automobile", "vettura", "macchine"]),
    ("carta", &["pos", "bancomat", "carte", "contactless"]),
    ("parcheggio", &["parcheggiare", "posteggio", "parcheggi", "posteggiare", "parcheggiarla", "parcheggiarmi"]),
    ("cane", &["cani", "cagnolino", "cagnolina", "animali", "animale", "gatto"]),
    ("bambino", &["bambini", "bimbi", "bimbo", "bimba", "bambina", "bambine", "figlio", "figlia", "figli", "pediatriche", "pediatrica"]),
    ("prenotare", &["prenotazione", "appuntamento", "prenoto", "prenotarsi", "prenotando"]),
    ("disdire", &["disdetta", "disdico", "annullare", "annullo", "cancellare", "annullamento"]),
    ("ritardo", &["tardi", "ritardi"]),
    ("referto", &["referti", "risultati", "risultato", "esiti", "esito"]),
    ("analisi", &["esami", "esame"]),
    ("gomme", &["pneumatici", "gomma", "pneumatico"]),
    ("wifi", &["internet", "connessione", "wi", "fi"]),
    (
        "sconto",
        &[
            "sconti",
            "risparmio",
            "risparmiare",
            "riduzioni",
            "riduzione",
            "scontato",
            "scontati",
            "promozione",
            "promozioni",
            "offerte",
            "offerta",
        ],
    ),
    ("regalo", &["regalare", "regali", "regalarlo"]),
    ("gravidanza", &["incinta", "gravida", "prenatale"]),
    ("carrozzina", &["disabili", "disabile", "rotelle", "barriere", "deambulatore", "stampelle"]),
    ("prescrizione", &["ricetta", "impegnativa"]),
    ("medico", &["dottore", "dottoressa", "dottor", "medici", "dottori"]),
    ("metro", &["metropolitana"]),
    ("mezzi", &["autobus", "bus", "tram", "treno"]),
    ("rate", &["rateizzare", "rata", "rateale", "finanziamento", "finanziamenti"]),
    ("fattura", &["ricevuta", "scontrino", "fatturare"]),
    ("curriculum", &["assumendo", "assumete", "assunzioni", "personale", "apprendisti"]),
    ("massaggio", &["massaggiare", "massaggiata", "massaggiato", "massaggi"]),
    ("colore", &["tinta", "tinte", "tingere", "tingermi", "tingersi", "colorazione"]),
    ("moto", &["motociclette", "motocicletta", "scooter", "motorino"]),
    ("detrarre", &["detrazione", "detraibili", "detraibile", "scaricare", "730", "tasse"]),
    ("assicurazione", &["assicurazioni", "sinistro", "assicurativa"]),
    ("ricambi", &["pezzi", "ricambio"]),
    ("elettrica", &["elettriche", "ibride", "ibrida", "elettrico"]),
    ("dente", &["denti", "dentale", "dentali"]),
    ("gratuito", &["gratis", "gratuita", "gratuite", "gratuiti"]),
    ("inglese", &["english"]),
    ("studenti", &["studentessa", "studente", "studentesse", "universitari", "universitaria", "universitario"]),
    ("anziani", &["pensionati", "pensionato", "pensionata", "anziano", "anziana"]),
    ("scade", &["scadenza", "vale", "valido", "validita", "scadono"]),
    ("dura", &["tiene", "resta", "durano", "tengono", "restano", "durata"]),
    ("coppia", &["coppie", "anniversario", "romantico", "romantica"]),
    ("armadietti", &["armadietto", "borsa", "borse", "cose", "oggetti"]),
    ("digiuno", &["digiuna", "digiuni"]),
    ("certificato", &["giustificazione", "giustificare", "attestato", "certificati"]),
    ("pronta", &["finita", "pronto", "finito", "pronte"]),
    ("sostitutiva", &["cortesia", "prestate", "prestito", "sostitutive"]),
    ("soccorso", &["carro", "attrezzi", "guasto", "panne"]),
    ("foratura", &["forature", "forato", "forata", "bucata", "bucato"]),
    ("lavaggio", &["lavate", "lavata", "autolavaggio"]),
    ("ricaricare", &["caricare", "ricarica", "colonnina", "presa", "prese"]),
    ("accettate", &["prendete", "accettano", "accetta", "accettare", "prendono"]),
    ("urgente", &["urgenti", "urgenza", "emergenza", "emergenze"]),
    ("gruppo", &["gruppi", "amiche", "amici", "comitiva"]),
    ("online", &["web", "sito", "app", "telematico"]),
    ("elettrocardiogramma", &["ecg", "elettro"]),
    ("messaggio", &["sms", "messaggino", "whatsapp", "messaggi"]),
    ("ecografia", &["eco", "ecografie"]),
];

/// Stem → canonical stem (Snowball Italian stems), applied after stemming
/// so every inflection of a word is covered ("avvisate", "avvisarmi",
/// "avviso" → "avvis" → "chiam").
const STEM_SYNONYMS: &[(&str, &[&str])] = &[
    ("chiam", &["telefon", "avvis", "contatt", "richiam"]),
    ("mand", &["invi", "sped"]),
    ("email", &["mail", "e-mail"]),
    ("ripar", &["aggiust", "sistem"]),
    ("sostitu", &["camb"]),
    ("aspett", &["attes", "attend"]),
    ("rest", &["riman", "ferm"]),
    ("lasc", &["deposit"]),
    ("mang", &["pranz", "colazion", "cen"]),
    ("allerg", &["reazion"]),
    ("sensibil", &["delic"]),
    ("ragazz", &["giovan", "minorenn"]),
    ("cellul", &["telef", "smartphon"]),
    ("fot", &["fotograf"]),
    ("spos", &["matrimon", "nozz"]),
    ("acconciatur", &["pettin", "pettinatur"]),
    ("scal", &["gradin"]),
    ("rad", &["ras"]),
];

/// Every stem folded to `canonical` (itself first): the raw stems to look
/// up in an index built without the folding.
pub fn stem_group(canonical: &str) -> impl Iterator<Item = &str> {
    let others = STEM_SYNONYMS.iter().find(|(c, _)| *c == canonical).map(|(_, s)| *s).unwrap_or(&[]);
    std::iter::once(canonical).chain(others.iter().copied())
}

/// The canonical stem of a Snowball stem (itself when it has no synonym).
pub fn canonical_stem(stem: &str) -> &str {
    static MAP: OnceLock<std::collections::HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| STEM_SYNONYMS.iter().flat_map(|(canon, stems)| stems.iter().map(move |s| (*s, *canon))).collect())
        .get(stem)
        .copied()
        .unwrap_or(stem)
}

fn synonym_of(word: &str) -> Option<&'static str> {
    static MAP: OnceLock<std::collections::HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| SYNONYMS.iter().flat_map(|(canon, words)| words.iter().map(move |w| (*w, *canon))).collect()).get(word).copied()
}

/// The text with phrases and synonyms folded to their canonical words
/// (normalised: lowercase, no accents, no punctuation).
pub fn canonical(text: &str) -> String {
    let mut s = format!(" {} ", normalize(text));
    for (phrase, canon) in PHRASES {
        if s.contains(phrase) {
            s = s.replace(&format!(" {phrase} "), &format!(" {canon} "));
        }
    }
    words(&s).map(|w| synonym_of(w).unwrap_or(w)).collect::<Vec<_>>().join(" ")
}

fn aspect_regexes() -> &'static [(Aspect, Regex); 4] {
    static RE: OnceLock<[(Aspect, Regex); 4]> = OnceLock::new();
    RE.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("aspect regex");
        [
            (
                Aspect::Duration,
                re(r"\b(quanto (dura|durano|tiene|tengono|resta|restano|ci vuole|ci mette|tempo)|durata|in quanto tempo|quanto a lungo|quant[ei] (ore|mesi|settimane|giorni) (dura|durano|tiene|tengono|resta|ci vuole|ci vogliono|ci mette)|per quanto tempo)\b"),
            ),
            (
                Aspect::Price,
                re(r"\b(quanto (costa|costano|viene|vengono|si paga|pago|spendo|si spende|costerebbe|mi viene|mi costa|mi fate)|costo|costi|prezzo|prezzi|tariff\w*|gratuit\w*|gratis|si paga|a pagamento|che cifra|a quanto (sta|viene|lo fate|la fate))\b"),
            ),
            (Aspect::Description, re(r"\b(cos e|che cos e|cosa e|in cosa consiste|cosa comprende|cosa include|come funziona|cosa c e nel|che differenza)\b")),
            (
                Aspect::Preparation,
                re(r"\b(prima (del|della|dell|di)|come mi preparo|come mi devo preparare|preparazione|devo portare|cosa porto|cosa devo portare|cosa mi devo portare|cosa mi porto)\b"),
            ),
        ]
    })
}

/// The aspect a question asks about, if it names one (first match in the
/// order duration, price, description, preparation).
pub fn aspect(text: &str) -> Option<Aspect> {
    let n = normalize(text);
    aspect_regexes().iter().find(|(_, re)| re.is_match(&n)).map(|(a, _)| *a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_fold_to_one_word() {
        assert_eq!(canonical("Si può pagare con il POS?"), "si puo pagare con il carta");
        assert_eq!(canonical("sono in sedia a rotelle"), "sono in carrozzina");
        assert_eq!(canonical("dove lascio l'auto"), "dove parcheggio");
        assert_eq!(canonical("prendete il bancomat"), "accettate il carta");
        assert_eq!(canonical("il referto lo vedo su internet"), "il referto lo vedo online");
        assert_eq!(canonical("c è internet"), "c e wifi");
    }

    #[test]
    fn stems_fold_to_one_stem() {
        assert_eq!(canonical_stem("avvis"), "chiam");
        assert_eq!(canonical_stem("chiam"), "chiam");
        assert_eq!(canonical_stem("tagl"), "tagl");
        assert_eq!(stem_group("chiam").collect::<Vec<_>>(), vec!["chiam", "telefon", "avvis", "contatt", "richiam"]);
        assert_eq!(stem_group("tagl").collect::<Vec<_>>(), vec!["tagl"]);
    }

    #[test]
    fn aspects() {
        assert_eq!(aspect("quanto costa la cheratina?"), Some(Aspect::Price));
        assert_eq!(aspect("quanto dura la cheratina?"), Some(Aspect::Duration));
        assert_eq!(aspect("in cosa consiste la cheratina"), Some(Aspect::Description));
        assert_eq!(aspect("il preventivo è gratuito?"), Some(Aspect::Price));
        assert_eq!(aspect("come mi preparo all'ecografia"), Some(Aspect::Preparation));
        assert_eq!(aspect("avete il parcheggio"), None);
        assert_eq!(aspect("quante settimane tiene lo smalto semipermanente"), Some(Aspect::Duration));
        assert_eq!(aspect("la piega a quanto la fate"), Some(Aspect::Price));
        assert_eq!(aspect("come mi devo preparare per la ceretta"), Some(Aspect::Preparation));
    }
}
