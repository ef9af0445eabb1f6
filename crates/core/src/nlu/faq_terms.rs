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
    ("sconto", &["sconti", "riduzioni", "riduzione", "scontato", "scontati", "promozione", "promozioni", "offerte", "offerta"]),
    ("regalo", &["regalare", "regali", "regalarlo"]),
    ("gravidanza", &["incinta", "gravida", "prenatale"]),
    ("carrozzina", &["disabili", "disabile", "rotelle", "barriere"]),
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
];

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
            (Aspect::Duration, re(r"\b(quanto (dura|durano|tiene|tengono|resta|restano|ci vuole|ci mette|tempo)|durata|in quanto tempo|quanto a lungo)\b")),
            (
                Aspect::Price,
                re(r"\b(quanto (costa|costano|viene|vengono|si paga|pago|spendo|si spende|costerebbe)|costo|costi|prezzo|prezzi|tariff\w*|gratuit\w*|gratis|si paga|a pagamento)\b"),
            ),
            (Aspect::Description, re(r"\b(cos e|che cos e|cosa e|in cosa consiste|cosa comprende|cosa include|come funziona|cosa c e nel|che differenza)\b")),
            (Aspect::Preparation, re(r"\b(prima (del|della|dell|di)|come mi preparo|preparazione|devo portare|cosa porto|cosa devo portare)\b")),
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
        assert_eq!(canonical("prendete il bancomat"), "prendete il carta");
    }

    #[test]
    fn aspects() {
        assert_eq!(aspect("quanto costa la cheratina?"), Some(Aspect::Price));
        assert_eq!(aspect("quanto dura la cheratina?"), Some(Aspect::Duration));
        assert_eq!(aspect("in cosa consiste la cheratina"), Some(Aspect::Description));
        assert_eq!(aspect("il preventivo è gratuito?"), Some(Aspect::Price));
        assert_eq!(aspect("come mi preparo all'ecografia"), Some(Aspect::Preparation));
        assert_eq!(aspect("avete il parcheggio"), None);
    }
}
