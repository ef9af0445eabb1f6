//! Draws a [`Receipt`] on one A4 page with pdf-writer, in the standard
//! Helvetica fonts (no font file embedded). Text is written in the fonts'
//! declared `WinAnsiEncoding` — each character converted to its one
//! Windows-1252 byte by [`win_ansi`] — so "è", "à" and "€" come out as
//! themselves in every viewer and text extractor (writing UTF-8 bytes into
//! such a font is what garbles accents in some PDF crates).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use super::{euro, vat_split, Receipt, VAT_RATE_PERCENT};

/// A4 in PDF points.
const PAGE: (f32, f32) = (595.0, 842.0);
/// Left and right margins, points.
const MARGIN: f32 = 56.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// `s` in Windows-1252 (the PDF's `WinAnsiEncoding`): Latin-1 letters as
/// themselves, "€" as 0x80, typographic quotes and dashes at their places;
/// a character the encoding lacks becomes "?" and a control character a
/// space.
pub fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8a,
            '‹' => 0x8b,
            'Œ' => 0x8c,
            'Ž' => 0x8e,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9a,
            '›' => 0x9b,
            'œ' => 0x9c,
            'ž' => 0x9e,
            'Ÿ' => 0x9f,
            c if c.is_control() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Width of `text` in Helvetica at `size` points, for the characters
/// amounts are made of (digits, separators, "€", "-"); others count as a
/// digit.
fn amount_width(text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| {
            if matches!(c, '.' | ',' | ' ') {
                278
            } else if c == '-' {
                333
            } else {
                556
            }
        })
        .sum();
    units as f32 * size / 1000.0
}

/// A page being drawn, top to bottom.
struct Page {
    content: Content,
    y: f32,
}

impl Page {
    fn text(&mut self, x: f32, font: Name<'_>, size: f32, text: &str) {
        let bytes = win_ansi(text);
        self.content.begin_text().set_font(font, size).next_line(x, self.y).show(Str(&bytes)).end_text();
    }

    /// An amount right-aligned at the right margin on the current line.
    fn amount(&mut self, font: Name<'_>, size: f32, cents: i64) {
        let text = euro(cents);
        let x = PAGE.0 - MARGIN - amount_width(&text, size);
        self.text(x, font, size, &text);
    }

    /// Writes a line at the current height and moves down by `lead`.
    fn line(&mut self, font: Name<'_>, size: f32, text: &str, lead: f32) {
        if !text.is_empty() {
            self.text(MARGIN, font, size, text);
        }
        self.y -= lead;
    }

    /// A label with its amount, then down by `lead`.
    fn row(&mut self, font: Name<'_>, size: f32, label: &str, cents: i64, lead: f32) {
        self.text(MARGIN, font, size, label);
        self.amount(font, size, cents);
        self.y -= lead;
    }

    fn rule(&mut self, lead: f32) {
        self.content.set_line_width(0.6).move_to(MARGIN, self.y).line_to(PAGE.0 - MARGIN, self.y).stroke();
        self.y -= lead;
    }
}

/// The receipt as a one-page PDF (A4).
pub fn render_pdf(r: &Receipt) -> Vec<u8> {
    let (catalog, tree, page_id, regular, bold, content_id, info) =
        (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5), Ref::new(6), Ref::new(7));
    let title = format!("{} n. {}", r.kind.title(), r.appointment_id);
    let mut p = Page { content: Content::new(), y: PAGE.1 - MARGIN - 8.0 };

    p.line(BOLD, 16.0, &r.business, 18.0);
    p.line(REGULAR, 10.0, &r.address, 13.0);
    if !r.business_phone.is_empty() {
        p.line(REGULAR, 10.0, &format!("Tel. {}", r.business_phone), 13.0);
    }
    p.y -= 24.0;
    p.line(BOLD, 20.0, &title, 26.0);
    p.line(REGULAR, 11.0, &format!("Cliente: {}", r.client_name), 15.0);
    p.line(REGULAR, 11.0, &format!("Data: {}", r.local_when()), 28.0);

    p.text(MARGIN, BOLD, 11.0, "Descrizione");
    let head = "Importo";
    p.text(PAGE.0 - MARGIN - 40.0, BOLD, 11.0, head);
    p.y -= 8.0;
    p.rule(16.0);
    for l in &r.lines {
        p.row(REGULAR, 11.0, &l.description, l.price_cents, 16.0);
    }
    p.y += 8.0;
    p.rule(18.0);
    let total = r.total_cents();
    let (taxable, vat) = vat_split(total);
    p.row(REGULAR, 11.0, "Imponibile", taxable, 15.0);
    p.row(REGULAR, 11.0, &format!("IVA {VAT_RATE_PERCENT}%"), vat, 18.0);
    p.row(BOLD, 13.0, "Totale", total, 30.0);
    p.line(REGULAR, 9.0, &format!("Prezzi IVA inclusa ({VAT_RATE_PERCENT}%)."), 13.0);
    p.line(BOLD, 10.0, "Documento non fiscale", 13.0);
    if r.kind == super::DocumentKind::Estimate {
        p.line(REGULAR, 9.0, "Il preventivo può variare in base al lavoro effettivamente svolto.", 13.0);
    }

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1)).parent(tree).contents(content_id);
    page.resources().fonts().pair(REGULAR, regular).pair(BOLD, bold);
    page.finish();
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.stream(content_id, &p.content.finish());
    pdf.document_info(info).title(TextStr(&format!("{title} - {}", r.business))).producer(TextStr("Fluxion"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::{DocumentKind, Line};

    #[test]
    fn italian_letters_and_the_euro_are_one_win_ansi_byte_each() {
        assert_eq!(win_ansi("è à ù ò ì é €"), vec![0xe8, b' ', 0xe0, b' ', 0xf9, b' ', 0xf2, b' ', 0xec, b' ', 0xe9, b' ', 0x80]);
        assert_eq!(win_ansi("L’auto – ok\n✓"), vec![b'L', 0x92, b'a', b'u', b't', b'o', b' ', 0x96, b' ', b'o', b'k', b' ', b'?']);
    }

    #[test]
    fn the_pdf_is_one_page_with_the_encoded_text() {
        let r = Receipt {
            kind: DocumentKind::Estimate,
            appointment_id: 9,
            business: "Officina Società".into(),
            address: "Via Roma 1".into(),
            business_phone: "+390212345678".into(),
            client_name: "Niccolò".into(),
            start_utc: "2027-03-11T08:00:00Z".parse().expect("instant"),
            timezone: "Europe/Rome".into(),
            lines: vec![Line { description: "Tagliando è completo".into(), price_cents: 123_450 }],
        };
        let bytes = r.pdf();
        assert!(bytes.starts_with(b"%PDF-"));
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        // pdf-writer writes a string with bytes above 0x7f in hex.
        let hex = |s: &[u8]| format!("<{}>", s.iter().map(|b| format!("{b:02X}")).collect::<String>()).into_bytes();
        assert!(has(b"/WinAnsiEncoding") && has(b"/Helvetica-Bold"));
        assert!(has(b"(Preventivo n. 9)"));
        assert!(has(&hex(b"Tagliando \xe8 completo")), "è as one byte");
        assert!(has(&hex(b"\x80 1.234,50")), "€ as 0x80");
        assert!(has(b"(Documento non fiscale)"));
    }
}
