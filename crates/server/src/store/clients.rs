//! A business's clients beyond what the dialogue needs: search by name or
//! number, updates from the owner (name, email, consents), and the waitlist and callback requests the
//! conversations left behind.

use fluxion_core::booking::{Client, Id, StoreError};
use fluxion_core::history::{CallbackRequest, RequestKind, WaitlistEntry};
use fluxion_core::text::fold;
use jiff::Timestamp;

use super::rows::{ClientRow, CLIENT_COLS};
use super::{parse_ts, store_error, ts_text, Tenant};

/// What the owner may change on a client; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientUpdate {
    /// Full name.
    pub name: Option<String>,
    /// Email; `Some(None)` removes it.
    pub email: Option<Option<String>>,
    /// Consent to reminders and marketing.
    pub consent_marketing: Option<bool>,
    /// Consent to call recording.
    pub consent_recording: Option<bool>,
}

/// A stored waitlist entry.
pub type StoredWaitlistEntry = (Id, WaitlistEntry);
/// A stored callback request and whether it is still open.
pub type StoredCallbackRequest = (Id, CallbackRequest, bool);

impl Tenant {
    /// Clients whose name (accent- and case-insensitive) or phone number
    /// contains `query`, by name, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn search_clients(&self, query: &str, limit: u32) -> Result<Vec<Client>, StoreError> {
        let q = query.trim().replace(['%', '_'], "");
        let name = format!("%{}%", fold(&q));
        let digits: String = q.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        let phone = if digits.is_empty() { String::new() } else { format!("%{digits}%") };
        let rows: Vec<ClientRow> = sqlx::query_as(&format!(
            "SELECT {CLIENT_COLS} FROM clients WHERE business_id = $1 AND anonymous = 0 AND (name_folded LIKE $2 OR ($3 <> '' AND phone LIKE $3)) \
             ORDER BY name, id LIMIT $4"
        ))
        .bind(self.id())
        .bind(name)
        .bind(phone)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(rows.into_iter().map(Client::from).collect())
    }

    /// Changes a client; `None` when the business has no such client.
    ///
    /// # Errors
    /// Database errors.
    pub async fn update_client(&self, id: Id, update: &ClientUpdate) -> Result<Option<Client>, StoreError> {
        let row: Option<ClientRow> = sqlx::query_as(&format!(
            "UPDATE clients SET name = COALESCE($3, name), name_folded = COALESCE($4, name_folded), \
             email = CASE WHEN $5 = 1 THEN $6 ELSE email END, \
             consent_marketing = COALESCE($7, consent_marketing), consent_recording = COALESCE($8, consent_recording), updated_at = $9 \
             WHERE id = $1 AND business_id = $2 AND anonymous = 0 RETURNING {CLIENT_COLS}"
        ))
        .bind(id)
        .bind(self.id())
        .bind(update.name.as_deref())
        .bind(update.name.as_deref().map(fold))
        .bind(i64::from(update.email.is_some()))
        .bind(update.email.clone().flatten())
        .bind(update.consent_marketing.map(i64::from))
        .bind(update.consent_recording.map(i64::from))
        .bind(ts_text(Timestamp::now()))
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        Ok(row.map(Client::from))
    }

    /// The waitlist, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn waitlist(&self) -> Result<Vec<StoredWaitlistEntry>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            client_id: Option<i64>,
            service_id: i64,
            operator_id: Option<i64>,
            preference: String,
            created_at: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, client_id, service_id, operator_id, preference, created_at FROM waitlist WHERE business_id = $1 ORDER BY id",
        )
        .bind(self.id())
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                let entry = WaitlistEntry {
                    client_id: r.client_id,
                    service_id: r.service_id,
                    operator_id: r.operator_id,
                    preference: r.preference,
                    created_at: parse_ts(&r.created_at)?,
                };
                Ok((r.id, entry))
            })
            .collect()
    }

    /// Callback requests, oldest first; only the open ones when `open_only`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn callback_requests(&self, open_only: bool) -> Result<Vec<StoredCallbackRequest>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            client_id: Option<i64>,
            phone: Option<String>,
            session_id: String,
            reason: String,
            status: String,
            created_at: String,
            kind: String,
            name: Option<String>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, client_id, phone, session_id, reason, status, created_at, kind, name FROM callback_requests \
             WHERE business_id = $1 AND ($2 = 0 OR status = 'open') ORDER BY id",
        )
        .bind(self.id())
        .bind(i64::from(open_only))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                let open = r.status == "open";
                let request = CallbackRequest {
                    kind: RequestKind::parse(&r.kind).unwrap_or_default(),
                    name: r.name,
                    client_id: r.client_id,
                    phone: r.phone,
                    session_id: r.session_id,
                    reason: r.reason,
                    created_at: parse_ts(&r.created_at)?,
                };
                Ok((r.id, request, open))
            })
            .collect()
    }

    /// Marks a callback request done; `false` when the business has no such
    /// request.
    ///
    /// # Errors
    /// Database errors.
    pub async fn close_callback_request(&self, id: Id) -> Result<bool, StoreError> {
        self.change_row("UPDATE callback_requests SET status = 'done' WHERE id = $1 AND business_id = $2", id).await
    }
}
