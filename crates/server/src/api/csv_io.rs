//! CSV for the console's imports and exports (the usual exchange format of
//! salon software): a header row, `,` or `;` as separator (whichever the
//! header uses more), columns found by any of their usual names regardless
//! of case and accents, and a downloadable `text/csv` answer.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::ApiError;

/// A row an import left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedRow {
    /// Line of the file (the header is line 1).
    pub line: usize,
    /// Why, in Italian.
    pub error: String,
}

/// What an import did: `{"imported", "skipped": [{"line", "error"}]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Rows added or updated.
    pub imported: usize,
    /// Rows left out.
    pub skipped: Vec<SkippedRow>,
}

/// Most rows one import takes.
pub const MAX_IMPORT_ROWS: usize = 5_000;

/// An uploaded CSV file: its header row and its records.
pub struct Upload {
    headers: csv::StringRecord,
    reader: csv::Reader<std::io::Cursor<Vec<u8>>>,
}

impl Upload {
    /// Reads the header row of `body` (UTF-8; invalid bytes replaced).
    ///
    /// # Errors
    /// 400 when there is no readable header row.
    pub fn new(body: &[u8]) -> Result<Self, ApiError> {
        let text = String::from_utf8_lossy(body).into_owned();
        let first = text.lines().next().unwrap_or_default();
        let delimiter = if first.matches(';').count() > first.matches(',').count() { b';' } else { b',' };
        let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(std::io::Cursor::new(text.into_bytes()));
        let headers = reader.headers().map_err(|e| ApiError::bad(format!("CSV: {e}")))?.clone();
        Ok(Upload { headers, reader })
    }

    /// Index of the first column whose header is one of `names` (folded:
    /// lower case, no accents).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.headers.iter().position(|h| names.iter().any(|n| fluxion_core::text::fold(h.trim()) == *n))
    }

    /// The records with their line numbers (the header is line 1); a record
    /// that cannot be read is added to `skipped` as `{"line", "error"}`.
    ///
    /// # Errors
    /// 400 when the file has more than [`MAX_IMPORT_ROWS`] records (checked
    /// before any is returned, so an import is never half done for that).
    pub fn records(mut self, skipped: &mut Vec<SkippedRow>) -> Result<Vec<(usize, csv::StringRecord)>, ApiError> {
        let mut out = Vec::new();
        for (i, row) in self.reader.records().enumerate() {
            if i >= MAX_IMPORT_ROWS {
                return Err(ApiError::bad(format!("CSV: al massimo {MAX_IMPORT_ROWS} righe per importazione")));
            }
            match row {
                Ok(row) => out.push((i + 2, row)),
                Err(e) => skipped.push(SkippedRow { line: i + 2, error: e.to_string() }),
            }
        }
        Ok(out)
    }
}

/// A `text/csv` download named `filename` with `header` and `rows`.
///
/// # Errors
/// 503 when the CSV cannot be written (never for valid UTF-8 text).
pub fn download(filename: &str, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<Response, ApiError> {
    let failed = |e: csv::Error| ApiError::Unavailable(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(failed)?;
    for row in rows {
        w.write_record(&row).map_err(failed)?;
    }
    let body = w.into_inner().map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let disposition = format!("attachment; filename=\"{filename}\"");
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}
