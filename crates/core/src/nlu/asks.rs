//! Questions *about* a service rather than requests *for* it: its price
//! ("quanto mi verrebbe la frizione?", "vorrei avere un'idea della spesa",
//! "che cifra chiedete per la piega?") or its duration ("quanto ci vuole
//! per il tagliando?", "quanto dura il massaggio?").
//!
//! It also finds the thing a caller asks for or asks whether the business
//! does ("fate pizze da asporto?", "vorrei ordinare una pizza", "avete la
//! laminazione?"), so a request for something the business does not offer
//! gets the list of what it does.
//!
//! The functions take a normalised turn ([`crate::text::normalize`]:
//! lower case, accents folded, punctuation as spaces), are pure and never
//! panic. They say nothing about which service is meant: L2 finds that.

use std::sync::OnceLock;

use regex::Regex;

use super::lexicon;

fn price_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)
            \b(?:
                # quanto (mi|ci|si|le|vi)? costa / viene / verrebbe / pago / spendo / chiedete / fate pagare / e
                (?:a\ )?quanto\ (?:mi\ |ci\ |si\ |le\ |gli\ |vi\ |me\ lo\ |me\ la\ )?
                    (?:cost\w*|vien\w*|veng\w*|verr\w*|pag\w*|spend\w*|chied\w*|prend\w*|fate\ pagare|fa\ pagare|e|sarebbe|sta|stanno)
              | quant\ e
              | cost(?:a|ano|erebbe|erebbero|era|eranno|o|i)
              | prezz[oi]
              | tariff[ae]
              | listino
              | spesa
              | preventiv[oi]
              | che\ cifra
              | (?:si\ )?spende(?:rei|re)?
              | gratis
              | gratuit[oaie]
            )\b",
        )
        .expect("price regex")
    })
}

fn duration_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?x)
            \b(?:
                quanto\ (?:tempo\ )?(?:ci\ |si\ )?(?:vuole|vogliono|vorra|vorrebbe|mett\w*|impieg\w*|dura\w*|resta|rimane)
              | quanto\ tempo
              | in\ quanto\ tempo
              | durat[ae]
              | dura\ (?:il|la|lo|l|un|una)
              | quante\ ore
              | quanti\ minuti
            )\b",
        )
        .expect("duration regex")
    })
}

/// "Quanto tempo prima devo arrivare?", "quanto tempo di attesa c'è?": a
/// question about arriving early or waiting, not about how long a service
/// lasts.
fn not_duration(normalized: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\b(?:quanto (?:tempo )?(?:prima|in anticipo)|attesa|aspett\w*|preavviso)\b").expect("not duration regex")
    })
    .is_match(normalized)
}

/// "Quanto è alto il Monte Bianco?", "quanto sono lontani?": "quanto" with
/// a measure that is not a price.
fn not_price(normalized: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"quant[oaie] (?:e|sono|era|sarebbe) (?:alt|lung|lontan|grand|profond|distant|vecch|larg|pesant|bass|pien)\w*")
            .expect("not price regex")
    })
    .is_match(normalized)
}

/// Whether the normalised turn asks what something costs.
pub fn asks_price(normalized: &str) -> bool {
    price_regex().is_match(normalized) && !not_price(normalized)
}

/// Whether "quanto" in the normalised turn asks a measure that is not a
/// price ("quanto è alto il Monte Bianco?").
pub fn asks_a_measure(normalized: &str) -> bool {
    not_price(normalized)
}

/// Whether the normalised turn asks how long something takes.
pub fn asks_duration(normalized: &str) -> bool {
    duration_regex().is_match(normalized) && !not_duration(normalized)
}

fn when_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\b(?:quando|dispon\w*|posto|potete|potreste|riuscite|riuscireste|venire|passare|portar\w*|appuntament\w*|prenot\w*|fissa\w*)\b",
        )
        .expect("when regex")
    })
}

/// Whether the normalised turn asks when the caller can come or have
/// something done ("quando potete darci un'occhiata?", "avete posto?").
pub fn asks_when(normalized: &str) -> bool {
    when_regex().is_match(normalized)
}

/// Verbs of a "do you do X?" question.
const OFFER_VERBS: &[&str] = &[
    "fate",
    "fa",
    "fanno",
    "avete",
    "offrite",
    "eseguite",
    "praticate",
    "trattate",
    "proponete",
    "vendete",
    "si fa",
    "si fanno",
    "si puo fare",
    "e possibile fare",
    "potete fare",
    "posso fare",
    "possibile fare",
];

/// Verbs of a request ("vorrei una pizza"); the thing asked for must follow
/// with an article, so "vorrei prenotare per mia figlia" asks for nothing.
const REQUEST_VERBS: &[&str] = &[
    "vorrei",
    "volevo",
    "vorremmo",
    "voglio",
    "mi serve",
    "mi servirebbe",
    "ci serve",
    "cerco",
    "cercavo",
    "ho bisogno di",
    "avrei bisogno di",
    "posso avere",
    "si puo avere",
    // A price question names the thing priced: "quanto costano le
    // sigarette?".
    "quanto costa",
    "quanto costano",
    "quanto viene",
    "quanto vengono",
    "quanto verrebbe",
    "quanto verrebbero",
];

/// Verbs between a request verb and the thing asked for ("vorrei
/// *ordinare* una pizza").
const THEN_VERBS: &[&str] =
    &["ordinare", "prenotare", "fare", "avere", "comprare", "prendere", "acquistare", "fissare", "chiedere", "richiedere"];

/// What may stand between the verb and the thing asked for: an article,
/// a partitive ("dei", "della") or "qualche".
fn is_determiner(w: &str) -> bool {
    lexicon::is_article(w) || matches!(w, "dei" | "degli" | "delle" | "del" | "della" | "dello" | "qualche")
}

/// Words that are not a thing the business might offer ("avete posto?",
/// "fate sconti?", "vorrei un appuntamento").
const NOT_SERVICES: &[&str] = &[
    "posto",
    "posti",
    "disponibilita",
    "orari",
    "orario",
    "aperto",
    "aperti",
    "aperta",
    "chiuso",
    "chiusi",
    "sconti",
    "sconto",
    "parcheggio",
    "pagamento",
    "pagamenti",
    "bancomat",
    "carta",
    "carte",
    "pagare",
    "prezzi",
    "prezzo",
    "tempo",
    "buco",
    "appuntamenti",
    "appuntamento",
    "prenotazione",
    "prenotazioni",
    "fattura",
    "fatture",
    "ricevute",
    "numero",
    "ricevuta",
    "wifi",
    "bagno",
    "ascensore",
    "convenzioni",
    "convenzione",
    "promozioni",
    "offerte",
    "pacchetti",
    "regalo",
    "buoni",
    "male",
    "domani",
    "oggi",
    "sabato",
    "domenica",
    "informazione",
    "informazioni",
    "consiglio",
    "chiarimento",
    "favore",
    "preventivo",
    "conferma",
    "operatore",
    "persona",
    "richiamata",
    "cambio",
    "modifica",
    "rimborso",
    "reclamo",
    "qualcosa",
    "niente",
    "nulla",
    "momento",
];

/// Conjunctions and pronouns that are never the thing asked for; with the
/// prepositions ([`lexicon::PREPOSITIONS`]: "fate il gel *sulle* unghie?").
const FUNCTION_WORDS: &[&str] = &[
    "e", "o", "ed", "che", "mi", "ti", "ci", "vi", "si", "lo", "la", "le", "li", "ne", "me", "te", "se", "mio", "mia", "miei", "mie",
    "suo", "sua", "non",
];

/// Words that never name the thing asked for.
const FILLER: &[&str] = &[
    "anche", "voi", "pure", "caso", "mica", "ancora", "quello", "quella", "quelli", "quelle", "questo", "questa", "qui", "ecco", "grazie",
    "prego", "favore", "cortesia", "magari", "solo", "soltanto", "tipo",
];

/// The words naming what the turn asks for or asks whether the business
/// does, when it asks for a thing: "fate pizze da asporto?" → "pizze
/// asporto", "vorrei ordinare una pizza margherita" → "pizza margherita".
/// `None` when the turn asks for nothing of the sort ("avete posto
/// domani?", "vorrei prenotare per mia figlia").
pub fn requested_object(normalized: &str) -> Option<String> {
    let ws: Vec<&str> = crate::text::words(normalized).collect();
    let starts_with = |i: usize, phrase: &str| {
        let p: Vec<&str> = phrase.split(' ').collect();
        ws.get(i..i + p.len()).is_some_and(|w| w == p.as_slice())
    };
    for i in 0..ws.len() {
        let (verb, offer) = match OFFER_VERBS.iter().find(|v| starts_with(i, v)) {
            Some(v) => (v, true),
            None => match REQUEST_VERBS.iter().find(|v| starts_with(i, v)) {
                Some(v) => (v, false),
                None => continue,
            },
        };
        let mut j = i + verb.split(' ').count();
        while ws.get(j).is_some_and(|w| FILLER.contains(w) || (!offer && THEN_VERBS.contains(w))) {
            j += 1;
        }
        let article = ws.get(j).is_some_and(|w| is_determiner(w));
        if article {
            j += 1;
        } else if !offer {
            continue;
        }
        let content: Vec<&str> = ws[j.min(ws.len())..]
            .iter()
            .take(4)
            .copied()
            .filter(|w| {
                w.len() > 2
                    && !FUNCTION_WORDS.contains(w)
                    && !lexicon::is_preposition(w)
                    && !is_determiner(w)
                    && !FILLER.contains(w)
                    && !THEN_VERBS.contains(w)
                    && !w.bytes().any(|b| b.is_ascii_digit())
            })
            .collect();
        let Some(head) = content.first() else { continue };
        if content.iter().any(|w| NOT_SERVICES.contains(w)) || lexicon::is_time_word(head) {
            return None;
        }
        return Some(content.iter().take(2).copied().collect::<Vec<_>>().join(" "));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    #[test]
    fn price_questions() {
        for s in [
            "quanto costa il taglio bambino?",
            "quanto mi costa cambiare la cinghia?",
            "vorrei avere un'idea della spesa per la frizione",
            "quanto verrebbe una pulizia del viso?",
            "a quanto viene la piega?",
            "quant'è la revisione?",
            "che prezzo fate per il balayage",
            "mi fa un preventivo per i freni?",
            "che cifra chiedete per la ricarica del clima",
            "quanto si spende per un massaggio di coppia",
            "il controllo è gratuito?",
            "quanto pago per il tagliando",
        ] {
            assert!(asks_price(&normalize(s)), "{s}");
        }
        for s in ["vorrei prenotare un taglio domani", "quanto prima possibile", "a che ora aprite", "quanto tempo ci vuole"] {
            assert!(!asks_price(&normalize(s)), "{s}");
        }
    }

    #[test]
    fn duration_questions() {
        for s in [
            "quanto dura il massaggio rilassante?",
            "quanto ci vuole per il tagliando?",
            "quanto tempo ci mettete a cambiare la frizione?",
            "quante ore servono per la cinghia",
            "che durata ha la pulizia del viso",
        ] {
            assert!(asks_duration(&normalize(s)), "{s}");
        }
        for s in [
            "quanto tempo prima devo arrivare?",
            "quanto tempo di attesa c'è per una visita?",
            "quanto costa la piega",
            "vorrei un massaggio domani",
        ] {
            assert!(!asks_duration(&normalize(s)), "{s}");
        }
    }

    #[test]
    fn things_asked_for() {
        let obj = |s: &str| requested_object(&normalize(s));
        assert_eq!(obj("buongiorno, fate pizze da asporto?").as_deref(), Some("pizze asporto"));
        assert_eq!(obj("vorrei ordinare una pizza margherita").as_deref(), Some("pizza margherita"));
        assert_eq!(obj("fate anche la laminazione ciglia?").as_deref(), Some("laminazione ciglia"));
        assert_eq!(obj("vorrei un tavolo per due").as_deref(), Some("tavolo due"));
        assert_eq!(obj("fate il gel sulle unghie?").as_deref(), Some("gel unghie"));
        assert_eq!(obj("quanto costano le sigarette?").as_deref(), Some("sigarette"));
        assert_eq!(obj("quanto costa un biglietto del treno per roma").as_deref(), Some("biglietto treno"));
        for s in [
            "avete posto domani?",
            "vorrei prenotare per mia figlia",
            "vorrei un appuntamento",
            "fate sconti agli studenti?",
            "vorrei sapere se siete aperti",
            "buongiorno",
            "avete qualcosa sabato mattina?",
            "quanto costa cambiare la cinghia?",
        ] {
            assert_eq!(obj(s), None, "{s}");
        }
    }
}
