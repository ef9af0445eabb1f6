//! The receipt or estimate of an appointment's work, as a one-page PDF: the
//! business (name, address, phone), the client, the date, the service(s)
//! with their prices, the VAT contained in them and the total. Titled
//! "Ricevuta" once the appointment is completed and "Preventivo" while it
//! is booked; always marked "Documento non fiscale" (it is not an
//! electronic invoice). Served by `GET /api/appointments/{id}/receipt.pdf`
//! and attached to the e-mail the car workshop's client gets when the work
//! is done.
//!
//! Prices are euro cents and VAT-inclusive at [`VAT_RATE_PERCENT`]: the
//! taxable amount is `price / 1.22` rounded to the cent (half away from
//! zero) and the VAT the rest, so the two always add up to the price.

mod pdf;

use fluxion_core::booking::Id;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use pdf::{render_pdf, win_ansi};

/// The Italian standard VAT rate, in percent, contained in every price.
pub const VAT_RATE_PERCENT: i64 = 22;

/// Which document it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// "Ricevuta": the work was done (the appointment is completed).
    Receipt,
    /// "Preventivo": the work is booked, not done yet.
    Estimate,
}

impl DocumentKind {
    /// The Italian title.
    pub fn title(self) -> &'static str {
        match self {
            DocumentKind::Receipt => "Ricevuta",
            DocumentKind::Estimate => "Preventivo",
        }
    }

    /// The file name stem ("ricevuta-42.pdf").
    pub fn file_stem(self) -> &'static str {
        match self {
            DocumentKind::Receipt => "ricevuta",
            DocumentKind::Estimate => "preventivo",
        }
    }
}

/// One priced line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// What was (or will be) done: the service's name.
    pub description: String,
    /// Its price, VAT included, euro cents.
    pub price_cents: i64,
}

/// Everything the document shows. Also the payload of the receipt e-mail
/// in the outbox (the document as it was when the work was completed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Receipt or estimate.
    pub kind: DocumentKind,
    /// The appointment it is about (also the document's number).
    pub appointment_id: Id,
    /// Business name.
    pub business: String,
    /// Business street address.
    pub address: String,
    /// Business phone (E.164 as stored).
    pub business_phone: String,
    /// The client's name.
    pub client_name: String,
    /// When the appointment starts (UTC).
    pub start_utc: Timestamp,
    /// The business's IANA time zone (the date is shown there).
    pub timezone: String,
    /// The services, in order.
    pub lines: Vec<Line>,
}

impl Receipt {
    /// The sum of the lines, euro cents.
    pub fn total_cents(&self) -> i64 {
        self.lines.iter().map(|l| l.price_cents).sum()
    }

    /// `"ricevuta-42.pdf"`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.pdf", self.kind.file_stem(), self.appointment_id)
    }

    /// The appointment's local date and time, "11/03/2027 ore 15:00".
    pub fn local_when(&self) -> String {
        let tz = TimeZone::get(&self.timezone).unwrap_or(TimeZone::UTC);
        let z = self.start_utc.to_zoned(tz);
        format!("{} ore {}", z.strftime("%d/%m/%Y"), z.strftime("%H:%M"))
    }

    /// The PDF document.
    pub fn pdf(&self) -> Vec<u8> {
        render_pdf(self)
    }
}

/// Splits a VAT-inclusive price into `(taxable, vat)` euro cents at
/// [`VAT_RATE_PERCENT`]: taxable = price / 1.22 rounded to the cent (half
/// away from zero), VAT = price − taxable, so they add up to the price
/// exactly.
pub fn vat_split(gross_cents: i64) -> (i64, i64) {
    let divisor = 100 + VAT_RATE_PERCENT;
    let scaled = i128::from(gross_cents) * 100;
    let half = i128::from(divisor) / 2;
    let taxable = if scaled >= 0 { (scaled + half) / i128::from(divisor) } else { (scaled - half) / i128::from(divisor) };
    let taxable = i64::try_from(taxable).unwrap_or(i64::MAX);
    (taxable, gross_cents - taxable)
}

/// Euro cents in Italian format: `"€ 1.234,50"`, `"€ 0,05"`, `"-€ 3,00"`.
pub fn euro(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let (units, rest) = (abs / 100, abs % 100);
    let digits = units.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(d);
    }
    format!("{sign}€ {grouped},{rest:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_split_is_exact_to_the_cent() {
        assert_eq!(vat_split(12_200), (10_000, 2_200));
        assert_eq!(vat_split(2_500), (2_049, 451), "25,00 / 1,22 = 20,4918… → 20,49");
        assert_eq!(vat_split(123_450), (101_189, 22_261), "1.234,50 / 1,22 = 1.011,8852… → 1.011,89");
        assert_eq!(vat_split(1), (1, 0), "0,01 / 1,22 = 0,0082 → 0,01");
        assert_eq!(vat_split(0), (0, 0));
        assert_eq!(vat_split(61), (50, 11), "0,61 / 1,22 = 0,50 exactly");
        for gross in (0..50_000).step_by(7) {
            let (taxable, vat) = vat_split(gross);
            assert_eq!(taxable + vat, gross, "{gross}");
            // The taxable amount is the nearest cent to gross / 1.22.
            let exact = gross as f64 / 1.22;
            assert!((taxable as f64 - exact).abs() <= 0.5 + 1e-9, "{gross}: {taxable} vs {exact}");
        }
    }

    #[test]
    fn euro_is_italian() {
        assert_eq!(euro(123_450), "€ 1.234,50");
        assert_eq!(euro(5), "€ 0,05");
        assert_eq!(euro(100), "€ 1,00");
        assert_eq!(euro(123_456_789), "€ 1.234.567,89");
        assert_eq!(euro(-300), "-€ 3,00");
        assert_eq!(euro(99_900), "€ 999,00");
    }

    #[test]
    fn the_date_is_local() {
        let r = Receipt {
            kind: DocumentKind::Receipt,
            appointment_id: 42,
            business: "Officina".into(),
            address: String::new(),
            business_phone: String::new(),
            client_name: "Ada".into(),
            start_utc: "2027-03-11T14:00:00Z".parse().expect("instant"),
            timezone: "Europe/Rome".into(),
            lines: vec![],
        };
        assert_eq!(r.local_when(), "11/03/2027 ore 15:00");
        assert_eq!(r.file_name(), "ricevuta-42.pdf");
    }
}
