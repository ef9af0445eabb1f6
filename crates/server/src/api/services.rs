//! The price list: `POST /api/services`, `PUT/DELETE /api/services/{id}`
//! (the list itself is `GET /api/services`, in [`super::read`]). Prices are
//! euro cents, durations minutes. Writes are the owner's and rebuild the
//! receptionist's engine: a new service is bookable and priced on the next
//! turn. `GET /api/services.csv` and `POST /api/services/import` exchange
//! the price list as CSV.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use fluxion_core::booking::{Id, Repository};

use super::csv_io::{ImportReport, SkippedRow};
use super::settings::invalid;
use super::{csv_io, reload, ApiError, IdAnswer};
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::NewService;

/// A service as the console sends it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ServiceBody {
    /// Name on the price list (1–120 characters).
    pub name: String,
    /// Other names callers use.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Duration in minutes (5–600).
    #[schema(minimum = 5, maximum = 600)]
    pub duration_min: u32,
    /// Price in euro cents (≥ 0), VAT included.
    #[schema(minimum = 0)]
    pub price_cents: i64,
    /// Ids of the operators who perform it (absent: every operator; on a
    /// change, absent: unchanged).
    #[serde(default)]
    pub operator_ids: Option<Vec<Id>>,
}

impl ServiceBody {
    fn validated(&self) -> Result<NewService, ApiError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(invalid("nome del servizio: obbligatorio (al massimo 120 caratteri)"));
        }
        if !(5..=600).contains(&self.duration_min) {
            return Err(invalid("durata: fra 5 e 600 minuti"));
        }
        if self.price_cents < 0 {
            return Err(invalid("il prezzo non può essere negativo"));
        }
        Ok(NewService {
            name: name.to_string(),
            synonyms: self.synonyms.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            duration_min: self.duration_min,
            price_cents: self.price_cents,
        })
    }
}

async fn operators_for(state: &AppState, p: &Principal, body: &ServiceBody) -> Result<Vec<Id>, ApiError> {
    match &body.operator_ids {
        Some(ids) => Ok(ids.clone()),
        None => Ok(p.tenant(state).operators().await?.iter().map(|o| o.id).collect()),
    }
}

/// `POST /api/services` → 201 `{"id"}`.
///
/// Errors: 403 staff; 422 bad values; 409 a service of that name exists.
pub async fn create(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<ServiceBody>, JsonRejection>,
) -> Result<(StatusCode, Json<IdAnswer>), ApiError> {
    p.require_owner()?;
    let Json(body) = body?;
    let new = body.validated()?;
    let t = p.tenant(&state);
    let id = t.add_service(&new).await.map_err(|e| {
        if e.message.to_lowercase().contains("unique") {
            ApiError::Conflict(format!("esiste già un servizio '{}'", new.name))
        } else {
            ApiError::from(e)
        }
    })?;
    t.set_service_operators(id, &operators_for(&state, &p, &body).await?).await?;
    reload(&state, &p).await?;
    Ok((StatusCode::CREATED, Json(IdAnswer { id })))
}

/// `PUT /api/services/{id}` → `{"id"}`; 404 when the business has none such.
pub async fn update(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<ServiceBody>, JsonRejection>,
) -> Result<Json<IdAnswer>, ApiError> {
    p.require_owner()?;
    let Json(body) = body?;
    let new = body.validated()?;
    let t = p.tenant(&state);
    if !t.update_service(id, &new).await? {
        return Err(ApiError::NotFound(format!("servizio {id} inesistente")));
    }
    if body.operator_ids.is_some() {
        t.set_service_operators(id, &operators_for(&state, &p, &body).await?).await?;
    }
    reload(&state, &p).await?;
    Ok(Json(IdAnswer { id }))
}

/// `DELETE /api/services/{id}` → 204: withdrawn from the price list (its
/// appointments stay).
pub async fn delete(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<StatusCode, ApiError> {
    p.require_owner()?;
    if !p.tenant(&state).set_service_active(id, false).await? {
        return Err(ApiError::NotFound(format!("servizio {id} inesistente")));
    }
    reload(&state, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/services.csv` → `text/csv`: `nome,durata_min,prezzo_euro,
/// sinonimi` (price with a decimal comma, synonyms separated by `|`).
pub async fn export_csv(State(state): State<Arc<AppState>>, p: Principal) -> Result<axum::response::Response, ApiError> {
    let list = p.tenant(&state).services().await?;
    let rows = list.iter().map(|s| {
        let euro = format!("{},{:02}", s.price_cents / 100, s.price_cents % 100);
        vec![s.name.clone(), s.duration_min.to_string(), euro, s.synonyms.join("|")]
    });
    csv_io::download("servizi.csv", &["nome", "durata_min", "prezzo_euro", "sinonimi"], rows)
}

/// `POST /api/services/import` (body `text/csv` with columns `nome`,
/// `durata` (minutes: "45", "45 min", "1h30", "1:30"), `prezzo` (euro:
/// "25", "25,50", "€ 1.200,00"), optionally `sinonimi` separated by `|`)
/// → `{"imported", "skipped": [{"line", "error"}]}`. A row naming a service
/// on the price list updates its duration and price (and its synonyms when
/// given); a new one is performed by every operator.
///
/// Errors: 403 staff; 400 no header with name, duration and price columns,
/// more than [`csv_io::MAX_IMPORT_ROWS`] rows.
pub async fn import_csv(State(state): State<Arc<AppState>>, p: Principal, body: axum::body::Bytes) -> Result<Json<ImportReport>, ApiError> {
    p.require_owner()?;
    let upload = csv_io::Upload::new(&body)?;
    let columns = (
        upload.column(&["nome", "servizio", "name", "service", "trattamento"]),
        upload.column(&["durata", "durata_min", "durata (min)", "minuti", "duration", "duration_min"]),
        upload.column(&["prezzo", "prezzo_euro", "prezzo (euro)", "prezzo (eur)", "costo", "price"]),
    );
    let (Some(name), Some(duration), Some(price)) = columns else {
        return Err(ApiError::bad("CSV: servono le colonne 'nome', 'durata' e 'prezzo' nella prima riga"));
    };
    let synonyms = upload.column(&["sinonimi", "synonyms", "altri nomi"]);
    let t = p.tenant(&state);
    let existing = t.services().await?;
    let everyone: Vec<Id> = t.operators().await?.iter().map(|o| o.id).collect();
    let (mut imported, mut skipped) = (0usize, Vec::new());
    for (line, row) in upload.records(&mut skipped)? {
        let cell = |i: usize| row.get(i).unwrap_or_default().trim();
        let (Some(duration_min), Some(price_cents)) = (minutes(cell(duration)), euro_cents(cell(price))) else {
            skipped.push(SkippedRow { line, error: format!("durata o prezzo non validi ('{}', '{}')", cell(duration), cell(price)) });
            continue;
        };
        let body = ServiceBody {
            name: cell(name).to_string(),
            synonyms: synonyms.map(|i| cell(i).split(['|', ';']).map(str::to_string).collect()).unwrap_or_default(),
            duration_min,
            price_cents,
            operator_ids: None,
        };
        let new = match body.validated() {
            Ok(new) => new,
            Err(e) => {
                skipped.push(SkippedRow { line, error: e.to_string() });
                continue;
            }
        };
        let key = fluxion_core::text::fold(&new.name);
        match existing.iter().find(|s| fluxion_core::text::fold(&s.name) == key) {
            Some(s) => {
                // The name keeps its spelling; no synonyms given: keep them.
                let synonyms = if new.synonyms.is_empty() { s.synonyms.clone() } else { new.synonyms };
                t.update_service(s.id, &NewService { name: s.name.clone(), synonyms, ..new }).await?;
            }
            None => {
                let id = t.add_service(&new).await?;
                t.set_service_operators(id, &everyone).await?;
            }
        }
        imported += 1;
    }
    if imported > 0 {
        reload(&state, &p).await?;
    }
    Ok(Json(ImportReport { imported, skipped }))
}

/// Minutes from "45", "45 min", "45'", "1h", "1h30", "1 ora e 30", "1:30".
fn minutes(s: &str) -> Option<u32> {
    let s = fluxion_core::text::fold(s);
    let nums: Vec<u32> = s.split(|c: char| !c.is_ascii_digit()).filter(|x| !x.is_empty()).map(str::parse).collect::<Result<_, _>>().ok()?;
    let hours = s.contains(':') || s.contains('h') || s.contains("or");
    match (nums.as_slice(), hours) {
        ([m], false) => Some(*m),
        ([h], true) => h.checked_mul(60),
        ([h, m], true) if *m < 60 => h.checked_mul(60)?.checked_add(*m),
        _ => None,
    }
}

/// Euro cents from "25", "25,5", "25,50", "25.50", "€ 1.200,00", "1,200.00 EUR".
fn euro_cents(s: &str) -> Option<i64> {
    let t: String = s.chars().filter(|c| c.is_ascii_digit() || matches!(c, ',' | '.')).collect();
    if t.is_empty() || s.chars().any(|c| c == '-') {
        return None;
    }
    // The last separator followed by one or two digits is the decimal one;
    // every other separator groups thousands.
    let (int, frac) = match t.rfind([',', '.']) {
        Some(i) if (1..=2).contains(&(t.len() - i - 1)) => (&t[..i], &t[i + 1..]),
        _ => (t.as_str(), ""),
    };
    let int: String = int.chars().filter(char::is_ascii_digit).collect();
    let euros: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    euros.checked_mul(100)?.checked_add(cents)
}

#[cfg(test)]
mod tests {
    use super::{euro_cents, minutes};

    #[test]
    fn prices_in_the_usual_spellings() {
        assert_eq!(euro_cents("25"), Some(2500));
        assert_eq!(euro_cents("25,5"), Some(2550));
        assert_eq!(euro_cents("€ 25,50"), Some(2550));
        assert_eq!(euro_cents("25.50"), Some(2550));
        assert_eq!(euro_cents("€ 1.200,00"), Some(120_000));
        assert_eq!(euro_cents("1,200.00 EUR"), Some(120_000));
        assert_eq!(euro_cents("1.200"), Some(120_000));
        assert_eq!(euro_cents("gratis"), None);
        assert_eq!(euro_cents("-5"), None);
    }

    #[test]
    fn durations_in_the_usual_spellings() {
        assert_eq!(minutes("45"), Some(45));
        assert_eq!(minutes("45 min"), Some(45));
        assert_eq!(minutes("1h"), Some(60));
        assert_eq!(minutes("1h30"), Some(90));
        assert_eq!(minutes("1:30"), Some(90));
        assert_eq!(minutes("1 ora e 30"), Some(90));
        assert_eq!(minutes("mezz'ora"), None);
        assert_eq!(minutes("1:75"), None);
    }
}
