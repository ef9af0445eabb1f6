//! The console's HTML templates (minijinja, embedded in the binary, HTML
//! auto-escaping on) and Italian date wording for them.

use std::sync::OnceLock;

use jiff::civil::{Date, Weekday};
use minijinja::Environment;

/// Every template, by name.
static TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("bare.html", include_str!("templates/bare.html")),
    ("errore.html", include_str!("templates/errore.html")),
    ("login.html", include_str!("templates/login.html")),
    ("setup.html", include_str!("templates/setup.html")),
    ("oggi.html", include_str!("templates/oggi.html")),
    ("calendario.html", include_str!("templates/calendario.html")),
    ("clienti.html", include_str!("templates/clienti.html")),
    ("chiamate.html", include_str!("templates/chiamate.html")),
    ("chiamata.html", include_str!("templates/chiamata.html")),
    ("servizi.html", include_str!("templates/servizi.html")),
    ("operatori.html", include_str!("templates/operatori.html")),
    ("orari.html", include_str!("templates/orari.html")),
    ("faq.html", include_str!("templates/faq.html")),
    ("impostazioni.html", include_str!("templates/impostazioni.html")),
    ("statistiche.html", include_str!("templates/statistiche.html")),
    ("stato.html", include_str!("templates/stato.html")),
];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(error = %e, template = name, "console template does not parse");
            }
        }
        env
    })
}

/// Whether template `name` exists and parses (the page tests' check).
#[cfg(test)]
pub fn has_template(name: &str) -> bool {
    env().get_template(name).is_ok()
}

/// Renders template `name` with `ctx`.
///
/// # Errors
/// Unknown template or a rendering error.
pub fn render(name: &str, ctx: minijinja::Value) -> Result<String, minijinja::Error> {
    env().get_template(name)?.render(ctx)
}

/// `date` in Italian words: "mercoledì 10 marzo 2027".
pub fn italian_date(date: Date) -> String {
    const MONTHS: [&str; 12] =
        ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"];
    let weekday = match date.weekday() {
        Weekday::Monday => "lunedì",
        Weekday::Tuesday => "martedì",
        Weekday::Wednesday => "mercoledì",
        Weekday::Thursday => "giovedì",
        Weekday::Friday => "venerdì",
        Weekday::Saturday => "sabato",
        Weekday::Sunday => "domenica",
    };
    let month = MONTHS[usize::try_from(date.month() - 1).unwrap_or(0)];
    format!("{weekday} {} {month} {}", date.day(), date.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            assert!(has_template(name), "{name}");
        }
    }

    #[test]
    fn dates_in_italian() {
        assert_eq!(italian_date(jiff::civil::date(2027, 3, 10)), "mercoledì 10 marzo 2027");
        assert_eq!(italian_date(jiff::civil::date(2026, 12, 6)), "domenica 6 dicembre 2026");
    }

    #[test]
    fn values_are_escaped() {
        let html =
            render("errore.html", minijinja::context! { title => "Errore", message => "<script>x</script>", asset_v => "1", nonce => "n" })
                .unwrap_or_default();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>x"), "{html}");
    }
}
