//! L0: a compiled set of patterns for the short, frequent turns (greeting,
//! yes/no, goodbye, asking for a human, opening hours, address, price).
//!
//! Patterns are anchored on the whole normalised turn for the one-word
//! answers ("sì", "no grazie") and searched anywhere for the questions
//! ("a che ora aprite?"), so a long booking sentence is never swallowed by a
//! "sì" at its start. One [`regex::RegexSet`] is matched per turn.

use regex::RegexSet;

use super::{Intent, Topic};

/// What L0 recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// Intent of the turn.
    pub intent: Intent,
    /// Fact asked about, for the questions the business answers from its data.
    pub topic: Option<Topic>,
}

/// The compiled L0 pattern set.
pub struct Patterns {
    set: RegexSet,
    rules: Vec<Match>,
}

const YES: &str = r"(si|sì|certo|certamente|esatto|esattamente|perfetto|va bene|va benissimo|benissimo|ok|okay|okei|d accordo|confermo|confermato|giusto|corretto|proprio cosi|assolutamente si|volentieri|sicuro|si grazie|si va bene|si perfetto|si confermo|si esatto|si certo|ottimo|affermativo|senz altro|sicuramente|certo che si|ma certo|come no|d accordissimo)";
const NO: &str = r"(no|no grazie|nono|no no|assolutamente no|per niente|non va bene|non mi va bene|non confermo|negativo|nessuno|nessuno dei due|neanche|non e giusto|sbagliato|non e corretto|no non va bene|no sbagliato|niente affatto|affatto|per nulla|macche|ma no|neanche per sogno|nemmeno per sogno)";

impl Patterns {
    /// Compiles the patterns. Panics only if the built-in patterns are invalid,
    /// which a unit test rules out.
    pub fn new() -> Self {
        let m = |intent, topic| Match { intent, topic };
        let table: Vec<(String, Match)> = vec![
            (format!(r"^{YES}( {YES})*( grazie)?$"), m(Intent::Confirm, None)),
            (format!(r"^{NO}( grazie)?$"), m(Intent::Deny, None)),
            (
                r"^(ciao|salve|buongiorno|buon giorno|buonasera|buona sera|buon pomeriggio|buondi|pronto|hey|ehi|ei)( (a tutti|a voi|a lei|anche a lei|buongiorno|buonasera|salve|pronto|signora|signore|signorina|dottore|dottoressa|scusi|mi scusi|scusi l ora|scusi il disturbo|scusate il disturbo|come va|come sta|tutto bene|sono io|c e qualcuno|c e nessuno|chi parla|con chi parlo|mi sente|mi sentite|ragazzi|ragazze))*$".into(),
                m(Intent::Greeting, None),
            ),
            (
                r"^((ok |va bene |perfetto |bene )?(grazie|grazie mille|ti ringrazio|la ringrazio)( (mille|tante|di tutto))?( (ciao|arrivederci|buona giornata|buona serata|a presto))?|arrivederci|arrivederla|ciao ciao|a presto|buona giornata|buona serata|addio|alla prossima|a posto cosi|e tutto|basta cosi|niente altro|nient altro)( (grazie|arrivederci|ciao|buona giornata|buona serata))*$".into(),
                m(Intent::Goodbye, None),
            ),
            (
                r"\b(parlare|parlarne|passare|passarmi|passami|mi passi|mi passa|voglio|vorrei|posso parlare) (con |a )?(un |una |l |il |la )?(operatore|operatrice|persona( vera| reale| fisica)?|essere umano|umano|titolare|responsabile|segretaria|receptionist|qualcuno)\b|\b(operatore|persona vera|essere umano) (per favore|grazie)\b|^(un )?operatore$|\b(mi|farmi|fatemi|potete|puo|potrebbe|potreste|vorrei|voglio|volevo) (far |fare |farmi )?(richiamare|richiamarmi)\b|\b(richiamatemi|mi richiami|mi richiamate|essere richiamat[oa])\b".into(),
                m(Intent::Human, None),
            ),
            (
                r"\b(orari(o)? di (apertura|chiusura)|a che ora (aprite|chiudete|apre|chiude|riaprite|riapre)|quando (aprite|chiudete|siete aperti|e aperto|siete chiusi|riaprite)|siete aperti|siete chiusi|giorno di chiusura|giorni di apertura|che ore fate)\b|^(che|quali) (orari|orario) (fate|avete|fa|osservate|seguite)( (oggi|domani|il sabato|di sabato|sabato|la domenica|di domenica|il lunedi|d estate|in agosto))?$|^(gli |i vostri )?orari( di oggi| di domani)?$".into(),
                m(Intent::OpeningHours, Some(Topic::OpeningHours)),
            ),
            (
                r"\b(dove (siete|vi trovate|si trova|e il (salone|centro|studio|negozio|officina))|qual e l indirizzo|(il )?vostro indirizzo|mi da l indirizzo|mi dai l indirizzo|in che via)\b".into(),
                m(Intent::Faq, Some(Topic::Address)),
            ),
            (
                r"^(quanto costa|quanto costano|quanto viene|quanto si spende|quanto spendo|quanto pago)$|\b(che prezzi (fate|avete)|quali sono i (vostri )?prezzi|i vostri prezzi|mi (dice|dica|puo dire) i prezzi|listino( prezzi)?|il listino)\b".into(),
                m(Intent::Price, Some(Topic::Price)),
            ),
        ];
        let set = RegexSet::new(table.iter().map(|(p, _)| p.as_str())).expect("L0 patterns compile");
        Patterns { set, rules: table.into_iter().map(|(_, m)| m).collect() }
    }

    /// Matches one normalised turn (see [`crate::text::normalize`]); the
    /// first matching rule in table order wins. `None` passes the turn to L1.
    pub fn matches(&self, normalized: &str) -> Option<Match> {
        self.set.matches(normalized).iter().next().map(|i| self.rules[i])
    }
}

impl Default for Patterns {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize;

    fn intent(p: &Patterns, s: &str) -> Option<Intent> {
        p.matches(&normalize(s)).map(|m| m.intent)
    }

    #[test]
    fn short_turns() {
        let p = Patterns::new();
        for s in ["Sì", "si grazie", "Va bene", "perfetto", "d'accordo", "Ok, confermo", "esatto"] {
            assert_eq!(intent(&p, s), Some(Intent::Confirm), "{s}");
        }
        for s in ["Senz'altro", "ma certo", "sicuramente"] {
            assert_eq!(intent(&p, s), Some(Intent::Confirm), "{s}");
        }
        for s in ["No", "no grazie", "non va bene", "nessuno dei due", "Macché", "per nulla", "neanche per sogno"] {
            assert_eq!(intent(&p, s), Some(Intent::Deny), "{s}");
        }
        for s in
            ["Buongiorno", "salve", "pronto?", "Ciao", "buongiorno signora, scusi il disturbo", "salve, come va?", "pronto, con chi parlo?"]
        {
            assert_eq!(intent(&p, s), Some(Intent::Greeting), "{s}");
        }
        for s in ["Grazie, arrivederci", "arrivederci", "grazie mille buona giornata", "a posto così"] {
            assert_eq!(intent(&p, s), Some(Intent::Goodbye), "{s}");
        }
        assert_eq!(intent(&p, "vorrei parlare con un operatore"), Some(Intent::Human));
        assert_eq!(intent(&p, "mi passi una persona vera per favore"), Some(Intent::Human));
        assert_eq!(intent(&p, "mi può far richiamare dalla responsabile?"), Some(Intent::Human));
        assert_eq!(intent(&p, "vorrei essere richiamata domani"), Some(Intent::Human));
        assert_eq!(intent(&p, "posso richiamare più tardi?"), None);
        assert_eq!(intent(&p, "A che ora aprite domani?"), Some(Intent::OpeningHours));
        assert_eq!(intent(&p, "Dove vi trovate?"), Some(Intent::Faq));
        assert_eq!(intent(&p, "quanto costa?"), Some(Intent::Price));
        assert_eq!(intent(&p, "quanto costa una pizza margherita"), None);
        assert_eq!(intent(&p, "che orari avete liberi giovedi"), None);
        assert_eq!(intent(&p, "ciao ciao"), Some(Intent::Goodbye));
    }

    #[test]
    fn long_turns_are_left_to_later_layers() {
        let p = Patterns::new();
        assert_eq!(intent(&p, "sì vorrei prenotare un taglio per domani"), None);
        assert_eq!(intent(&p, "no non voglio cancellare voglio spostarlo"), None);
    }
}
