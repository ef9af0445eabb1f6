//! L2: every service a turn names, in the order said ("tinta e piega", "un
//! tagliando e il cambio gomme"), and the mentions too vague to pick one
//! service ("una visita", "un massaggio", "un taglio" where taglio donna,
//! uomo and bambino exist). See [`Catalog::find_services`].

use std::collections::HashSet;

use tantivy::tokenizer::TextAnalyzer;

use super::analyzer;
use super::l2_slots::{fuzzy_similarity, Catalog, FUZZY};
use super::ServiceMention;
use crate::text::{normalize, words};

/// A stem of the turn with its byte span in the text.
struct Token {
    stem: String,
    from: usize,
    to: usize,
}

fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut stream = a.token_stream(text);
    while let Some(t) = stream.next() {
        out.push(Token { stem: analyzer::light_stem(&t.text).to_string(), from: t.offset_from, to: t.offset_to });
    }
    out
}

/// Words between two mentions that make them two requests ("tinta e
/// piega", "il tagliando, poi il cambio gomme", "taglio con barba").
const SEPARATORS: &[&str] = &["e", "ed", "piu", "poi", "anche", "oltre", "inoltre", "insieme", "pure", "con", "dopo", "prima"];

/// One service mention found at `start..end` (token positions).
#[derive(Debug, Clone)]
struct Found {
    start: usize,
    end: usize,
    /// Services meant (indices into the catalogue); one when named.
    among: Vec<usize>,
    named: bool,
    /// Stems covered.
    stems: Vec<String>,
}

/// Singular and plural of one noun share the stem ("massaggio"/"massaggi",
/// "visita"/"visite").
fn same_noun(a: &str, b: &str) -> bool {
    a == b || (a.len() > 3 && b.len() > 3 && a.trim_end_matches('i') == b.trim_end_matches('i'))
}

impl Catalog {
    /// Every service mentioned in `text` (raw or normalised), in the order
    /// said. A variant (name or synonym) matched word for word names one
    /// service, longer variants first; a synonym that is only the common
    /// part of two or more service names ("taglio"), or a bare first word of
    /// service names with no service of that exact name ("visita",
    /// "massaggio", "trattamento"), is a [`ServiceMention::Vague`] mention
    /// listing the candidates. Two mentions are two requests when words like
    /// "e", "poi", "con" or a comma stand between them, unless one service
    /// covers both ("piega con la piastra" is "Piega con ferro").
    pub fn find_services(&self, text: &str) -> Vec<ServiceMention> {
        let toks = tokens(&mut self.analyzer.clone(), text);
        if toks.is_empty() {
            return Vec::new();
        }
        let stems: Vec<&str> = toks.iter().map(|t| t.stem.as_str()).collect();
        let bag: HashSet<&str> = stems.iter().copied().collect();
        // Word-for-word matches of every variant, best first.
        let mut hits: Vec<(usize, usize, u32, usize, usize)> = Vec::new(); // (len, start, sim‰, overlap, service)
        for (si, s) in self.services.iter().enumerate() {
            let overlap = bag.iter().filter(|t| s.bag.contains(**t)).count();
            for v in &s.variants {
                if v.is_empty() || v.len() > stems.len() {
                    continue;
                }
                for start in 0..=stems.len() - v.len() {
                    let sims: Vec<f64> = stems[start..start + v.len()]
                        .iter()
                        .zip(v)
                        .map(|(w, t)| if w == t { 1.0 } else { fuzzy_similarity(w, t) })
                        .collect();
                    if sims.iter().all(|x| *x >= FUZZY) {
                        let mean = sims.iter().sum::<f64>() / sims.len() as f64;
                        hits.push((v.len(), start, (mean * 1000.0) as u32, overlap, si));
                    }
                }
            }
        }
        hits.sort_by(|a, b| (b.0, b.2, b.3).cmp(&(a.0, a.2, a.3)).then(a.1.cmp(&b.1)).then(a.4.cmp(&b.4)));
        let mut covered = vec![false; stems.len()];
        let mut found: Vec<Found> = Vec::new();
        for (len, start, _, _, si) in hits {
            if covered[start..start + len].iter().any(|c| *c) {
                continue;
            }
            covered[start..start + len].iter_mut().for_each(|c| *c = true);
            let said: Vec<String> = stems[start..start + len].iter().map(|s| s.to_string()).collect();
            let mut among = self.vague_among(&said, si);
            if among.len() == 1 {
                if let Some(category) = self.category_among(&said, si) {
                    among = category;
                }
            }
            found.push(Found { start, end: start + len, named: among.len() == 1, among, stems: said });
        }
        // Bare first words of several service names ("una visita").
        for (i, w) in stems.iter().enumerate() {
            if covered[i] {
                continue;
            }
            let among: Vec<usize> = (0..self.services.len())
                .filter(|&si| {
                    let n = &self.services[si].name_stems;
                    n.len() > 1 && same_noun(&n[0], w)
                })
                .collect();
            if !among.is_empty() && !self.qualified_otherwise(text, &toks, i, &among) {
                found.push(Found { start: i, end: i + 1, among, named: false, stems: vec![w.to_string()] });
            }
        }
        found.sort_by_key(|f| f.start);
        // Adjacent mentions without a separator are one request.
        let lower = text.to_lowercase();
        let mut merged: Vec<Found> = Vec::new();
        for f in found {
            let Some(prev) = merged.last_mut() else {
                merged.push(f);
                continue;
            };
            let covering = self.services.iter().position(|s| prev.stems.iter().chain(&f.stems).all(|t| s.bag.contains(t)));
            let between = lower.get(toks[prev.end - 1].to..toks[f.start].from).unwrap_or("");
            let separated = between.contains([',', ';', '+', '&']) || words(&normalize(between)).any(|w| SEPARATORS.contains(&w));
            match covering {
                Some(si) => {
                    prev.end = f.end;
                    prev.stems.extend(f.stems);
                    prev.among = vec![si];
                    prev.named = true;
                }
                None if separated => merged.push(f),
                None => {
                    // One request: a named service beats a vague mention.
                    if !prev.named && f.named {
                        *prev = f;
                    }
                }
            }
        }
        let named: HashSet<usize> = merged.iter().filter(|f| f.named).map(|f| f.among[0]).collect();
        let mut out: Vec<ServiceMention> = Vec::new();
        for f in merged {
            // "un massaggio, il decontratturante": the vague one is settled.
            if !f.named && f.among.iter().any(|si| named.contains(si)) {
                continue;
            }
            let m = if f.named {
                ServiceMention::Named { service: self.services[f.among[0]].name.clone() }
            } else {
                let from = toks[f.start].from;
                let to = toks[f.end - 1].to;
                ServiceMention::Vague {
                    said: normalize(lower.get(from..to).unwrap_or("")),
                    among: f.among.iter().map(|si| self.services[*si].name.clone()).collect(),
                }
            };
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// "Una pulizia dei denti" where the only "pulizia" is "Pulizia viso":
    /// the bare word at token `i` is qualified ("di/del/alla …" and a
    /// word) by something none of the candidates has, so it is another
    /// thing, not a vague mention of them.
    fn qualified_otherwise(&self, text: &str, toks: &[Token], i: usize, among: &[usize]) -> bool {
        const OF: &[&str] =
            &["di", "del", "dei", "della", "delle", "degli", "dello", "dell", "al", "alla", "alle", "ai", "agli", "allo", "all", "a"];
        let Some(next) = toks.get(i + 1) else { return false };
        let between = text.get(toks[i].to..next.from).unwrap_or("");
        let ws: Vec<String> = words(&normalize(between)).map(str::to_string).collect();
        if ws.is_empty() || !ws.iter().all(|w| OF.contains(&w.as_str())) {
            return false;
        }
        if crate::nlu::lexicon::is_time_word(&normalize(text.get(next.from..next.to).unwrap_or(""))) {
            return false;
        }
        !among.iter().any(|&si| self.services[si].bag.iter().any(|b| same_noun(b, &next.stem)))
    }

    /// A synonym that only names a category: the first word of service
    /// names plus words that two or more service names share ("trattamento
    /// viso" where "Pulizia viso" and "Trattamento viso antietà" exist) may
    /// mean any of those services, whichever the synonym was written for.
    /// `None` when the words name one service (or are its name).
    fn category_among(&self, said: &[String], si: usize) -> Option<Vec<usize>> {
        let (head, rest) = said.split_first()?;
        if rest.is_empty() || self.services[si].name_stems == said {
            return None;
        }
        let is_head = self.services.iter().any(|s| s.name_stems.first().is_some_and(|f| same_noun(f, head)));
        if !is_head {
            return None;
        }
        let among: Vec<usize> = (0..self.services.len())
            .filter(|&i| rest.iter().all(|w| self.services[i].name_stems.iter().any(|x| same_noun(x, w))))
            .collect();
        (among.len() >= 2 && among.contains(&si)).then_some(among)
    }

    /// The services a matched variant may mean: the service it belongs to,
    /// or, when the words are only what two or more service names share and
    /// no service has exactly that name ("taglio"), all of those services.
    fn vague_among(&self, said: &[String], si: usize) -> Vec<usize> {
        let exact_name = self.services.iter().any(|s| s.name_stems == said);
        if exact_name {
            return vec![si];
        }
        let sharing: Vec<usize> = (0..self.services.len())
            .filter(|&i| {
                let n = &self.services[i].name_stems;
                n.len() > said.len() && said.iter().all(|w| n.iter().any(|x| same_noun(x, w)))
            })
            .collect();
        if sharing.len() >= 2 {
            sharing
        } else {
            vec![si]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{Operator, Service};

    fn catalog(names: &[(&str, &[&str])]) -> Catalog {
        let services: Vec<Service> = names
            .iter()
            .enumerate()
            .map(|(i, (n, syn))| Service {
                id: i as i64 + 1,
                name: n.to_string(),
                synonyms: syn.iter().map(|s| s.to_string()).collect(),
                duration_min: 30,
                price_cents: 2000,
                gender: None,
                category: None,
            })
            .collect();
        let ops = [Operator { id: 1, name: "Giulia".into(), service_ids: vec![1], hours: vec![], absences: vec![] }];
        Catalog::new(&services, &ops)
    }

    fn salone() -> Catalog {
        catalog(&[
            ("Taglio donna", &["taglio", "taglio capelli"]),
            ("Taglio uomo", &["taglio da uomo", "taglio maschile"]),
            ("Taglio bambino", &["taglio bimbo"]),
            ("Piega", &["messa in piega"]),
            ("Piega con ferro", &["piastra"]),
            ("Colore", &["tinta"]),
            ("Barba", &["barba e baffi"]),
            ("Trattamento cheratina", &["cheratina"]),
            ("Trattamento ristrutturante", &["ristrutturante"]),
        ])
    }

    fn named(s: &str) -> ServiceMention {
        ServiceMention::Named { service: s.into() }
    }

    fn vague(said: &str, among: &[&str]) -> ServiceMention {
        ServiceMention::Vague { said: said.into(), among: among.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn several_services_in_one_request() {
        let c = salone();
        assert_eq!(c.find_services("vorrei fare tinta e piega venerdì"), vec![named("Colore"), named("Piega")]);
        assert_eq!(c.find_services("un taglio uomo e la barba"), vec![named("Taglio uomo"), named("Barba")]);
        assert_eq!(c.find_services("una piega con la piastra"), vec![named("Piega con ferro")]);
        assert_eq!(c.find_services("barba e baffi"), vec![named("Barba")]);
        assert_eq!(c.find_services("la tinta, poi il taglio donna"), vec![named("Colore"), named("Taglio donna")]);
        let auto = catalog(&[("Tagliando", &[]), ("Cambio gomme", &["gomme invernali"]), ("Cambio olio", &[])]);
        assert_eq!(auto.find_services("un tagliando e il cambio gomme"), vec![named("Tagliando"), named("Cambio gomme")]);
        let spa = catalog(&[("Manicure", &[]), ("Manicure semipermanente", &[]), ("Pedicure", &[])]);
        assert_eq!(spa.find_services("manicure e pedicure"), vec![named("Manicure"), named("Pedicure")]);
    }

    #[test]
    fn vague_mentions_list_the_candidates() {
        let c = salone();
        let tagli = ["Taglio donna", "Taglio uomo", "Taglio bambino"];
        assert_eq!(c.find_services("vorrei un taglio domani"), vec![vague("taglio", &tagli)]);
        assert_eq!(c.find_services("taglio e barba"), vec![vague("taglio", &tagli), named("Barba")]);
        assert_eq!(c.find_services("un trattamento"), vec![vague("trattamento", &["Trattamento cheratina", "Trattamento ristrutturante"])]);
        assert_eq!(c.find_services("una piega"), vec![named("Piega")]);
        let med = catalog(&[
            ("Visita cardiologica", &["cardiologo"]),
            ("Visita ortopedica", &["ortopedico"]),
            ("Ecografia addominale", &[]),
            ("Ecografia tiroidea", &[]),
        ]);
        assert_eq!(med.find_services("vorrei prenotare una visita"), vec![vague("visita", &["Visita cardiologica", "Visita ortopedica"])]);
        assert_eq!(med.find_services("un'ecografia"), vec![vague("ecografia", &["Ecografia addominale", "Ecografia tiroidea"])]);
        assert_eq!(med.find_services("una visita ortopedica"), vec![named("Visita ortopedica")]);
        assert_eq!(med.find_services("una visita, dal cardiologo"), vec![named("Visita cardiologica")]);
        let spa =
            catalog(&[("Trattamento viso antietà", &["antirughe"]), ("Massaggio rilassante", &[]), ("Massaggio decontratturante", &[])]);
        assert_eq!(spa.find_services("un trattamento"), vec![vague("trattamento", &["Trattamento viso antietà"])]);
        let face = catalog(&[("Pulizia viso", &["pulizia del viso"]), ("Trattamento viso antietà", &["antirughe", "trattamento viso"])]);
        let both = ["Pulizia viso", "Trattamento viso antietà"];
        assert_eq!(face.find_services("un trattamento per il viso venerdì"), vec![vague("trattamento per il viso", &both)]);
        assert_eq!(face.find_services("un trattamento antirughe"), vec![named("Trattamento viso antietà")]);
        assert_eq!(face.find_services("la pulizia del viso"), vec![named("Pulizia viso")]);
        assert_eq!(spa.find_services("dei massaggi"), vec![vague("massaggi", &["Massaggio rilassante", "Massaggio decontratturante"])]);
        assert!(spa.find_services("laminazione ciglia").is_empty());
        let face = catalog(&[
            ("Pulizia viso", &["pulizia del viso"]),
            ("Massaggio rilassante", &[]),
            ("Massaggio decontratturante", &["massaggio schiena"]),
        ]);
        assert!(face.find_services("devo prenotare una pulizia dei denti").is_empty());
        assert_eq!(face.find_services("una pulizia domani"), vec![vague("pulizia", &["Pulizia viso"])]);
        assert_eq!(face.find_services("un massaggio alla schiena"), vec![named("Massaggio decontratturante")]);
    }
}
