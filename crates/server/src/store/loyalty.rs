//! Loyalty and receipts: a business's loyalty rule (chosen by its owner),
//! marking an appointment completed — which, in one transaction, records
//! its price, gives the client their points, queues the reward notice when
//! the points reach the threshold, the receipt e-mail for a car workshop
//! and the `booking.completed` event — and the facts of an appointment's
//! receipt or estimate ([`crate::receipt`]).
//!
//! Points: `points_per_visit` for each completed appointment plus
//! `points_per_euro` for each whole euro of its price (VAT included). A
//! reward is due each time the client's points reach a new multiple of
//! `reward_threshold` (10, 20, 30… with a threshold of 10); points are never
//! taken away here. Every notice of a completion is keyed by the
//! appointment, and an appointment is completed once (a second attempt is
//! refused before anything changes), so a retried request never counts or
//! sends twice.

use fluxion_core::booking::{Appointment, AppointmentStatus, Id, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use super::outbox::{appointment_facts, insert, Event, NewNotice, NoticeKind, NotifyChannel};
use super::rows::{AppointmentRow, APPOINTMENT_COLS};
use super::{parse_ts, store_error, ts_text, Dialect, Tenant};
use crate::events::{Action, Kind};
use crate::receipt::{DocumentKind, Line, Receipt};

/// Largest number accepted in a rule (points or threshold).
pub const RULE_MAX: i64 = 1_000_000;
/// Longest reward text accepted, in characters.
pub const REWARD_TEXT_MAX_CHARS: usize = 200;

/// A business's loyalty rule; all zero (the default): no points.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoyaltyRule {
    /// Points for each completed appointment.
    pub points_per_visit: i64,
    /// Points for each whole euro of a completed appointment's price.
    pub points_per_euro: i64,
    /// A reward each time the points reach a multiple of this; 0: no rewards.
    pub reward_threshold: i64,
    /// What the reward is ("una piega in omaggio"), told to the client.
    pub reward_text: String,
}

/// Why a rule was refused (Italian, for the owner).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoyaltyError {
    /// A number below zero.
    #[error("{0}: il valore non può essere negativo")]
    Negative(&'static str),
    /// A number over [`RULE_MAX`].
    #[error("{0}: il valore può essere al massimo {RULE_MAX}")]
    TooLarge(&'static str),
    /// A threshold without the reward's text.
    #[error("indicare il premio che il cliente riceve al raggiungimento della soglia")]
    RewardTextMissing,
    /// A reward text over [`REWARD_TEXT_MAX_CHARS`].
    #[error("il testo del premio è troppo lungo (al massimo {REWARD_TEXT_MAX_CHARS} caratteri)")]
    RewardTextTooLong,
}

impl LoyaltyRule {
    /// The rule with its text trimmed, checked.
    ///
    /// # Errors
    /// [`LoyaltyError`] for a negative or too large number, a threshold
    /// without a reward text, or a text over [`REWARD_TEXT_MAX_CHARS`].
    pub fn normalized(self) -> Result<Self, LoyaltyError> {
        for (value, name) in [
            (self.points_per_visit, "punti per visita"),
            (self.points_per_euro, "punti per euro"),
            (self.reward_threshold, "soglia del premio"),
        ] {
            if value < 0 {
                return Err(LoyaltyError::Negative(name));
            }
            if value > RULE_MAX {
                return Err(LoyaltyError::TooLarge(name));
            }
        }
        let reward_text = self.reward_text.split_whitespace().collect::<Vec<_>>().join(" ");
        if reward_text.chars().count() > REWARD_TEXT_MAX_CHARS {
            return Err(LoyaltyError::RewardTextTooLong);
        }
        if self.reward_threshold > 0 && reward_text.is_empty() {
            return Err(LoyaltyError::RewardTextMissing);
        }
        Ok(LoyaltyRule { reward_text, ..self })
    }

    /// Points for a completed appointment of `price_cents`.
    pub fn points_for(&self, price_cents: i64) -> i64 {
        self.points_per_visit + price_cents.max(0) / 100 * self.points_per_euro
    }

    /// Whether going from `before` to `after` points reaches a new multiple
    /// of the threshold.
    pub fn reward_due(&self, before: i64, after: i64) -> bool {
        self.reward_threshold > 0 && after > before && before.max(0) / self.reward_threshold < after / self.reward_threshold
    }
}

/// What completing an appointment did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// The appointment, now completed.
    pub appointment: Appointment,
    /// Its price (VAT included), euro cents.
    pub price_cents: i64,
    /// Points given.
    pub points_earned: i64,
    /// The client's points now.
    pub points: i64,
    /// The points reached a new multiple of the threshold.
    pub reward: bool,
    /// The reward notice was queued (the client consented to a channel).
    pub reward_notice: bool,
    /// The receipt e-mail was queued (car workshop, client consented to e-mail).
    pub receipt_email: bool,
}

/// Why an appointment could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum CompletionError {
    /// The business has no such appointment.
    #[error("appointment {0} not found")]
    NotFound(Id),
    /// It is not booked (already completed, cancelled, no-show).
    #[error("appointment {0} is {1:?}")]
    NotBooked(Id, AppointmentStatus),
    /// It has not started yet.
    #[error("appointment {0} has not started")]
    NotStarted(Id),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    points_per_visit: i64,
    points_per_euro: i64,
    reward_threshold: i64,
    reward_text: String,
}

#[derive(sqlx::FromRow)]
struct ReceiptRow {
    status: String,
    start_utc: String,
    price_cents: Option<i64>,
    service: String,
    service_price: i64,
    client: Option<String>,
    business: String,
    address: String,
    business_phone: String,
    timezone: String,
}

/// The rule of business `business_id` on `conn` (all zero when never set).
async fn rule_on(conn: &mut AnyConnection, business_id: Id) -> Result<LoyaltyRule, StoreError> {
    let row: Option<RuleRow> =
        sqlx::query_as("SELECT points_per_visit, points_per_euro, reward_threshold, reward_text FROM loyalty_rules WHERE business_id = $1")
            .bind(business_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
    Ok(row.map_or_else(LoyaltyRule::default, |r| LoyaltyRule {
        points_per_visit: r.points_per_visit,
        points_per_euro: r.points_per_euro,
        reward_threshold: r.reward_threshold,
        reward_text: r.reward_text,
    }))
}

/// The receipt (completed) or estimate (booked) of appointment `id`, with
/// its status; the price is the one recorded at completion, else the
/// service's current one.
async fn receipt_on(conn: &mut AnyConnection, business_id: Id, id: Id) -> Result<Option<(AppointmentStatus, Receipt)>, StoreError> {
    let row: Option<ReceiptRow> = sqlx::query_as(
        "SELECT a.status, a.start_utc, a.price_cents, s.name AS service, s.price_cents AS service_price, c.name AS client, \
         b.name AS business, b.address, b.phone AS business_phone, b.timezone FROM appointments a \
         JOIN services s ON s.id = a.service_id JOIN business b ON b.id = a.business_id \
         LEFT JOIN clients c ON c.id = a.client_id AND c.business_id = a.business_id WHERE a.id = $1 AND a.business_id = $2",
    )
    .bind(id)
    .bind(business_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?;
    let Some(r) = row else { return Ok(None) };
    let status = AppointmentStatus::parse(&r.status).ok_or_else(|| StoreError::fatal(format!("bad status {}", r.status)))?;
    let kind = if status == AppointmentStatus::Completed { DocumentKind::Receipt } else { DocumentKind::Estimate };
    let receipt = Receipt {
        kind,
        appointment_id: id,
        business: r.business,
        address: r.address,
        business_phone: r.business_phone,
        client_name: r.client.unwrap_or_default(),
        start_utc: parse_ts(&r.start_utc)?,
        timezone: r.timezone,
        lines: vec![Line { description: r.service, price_cents: r.price_cents.unwrap_or(r.service_price) }],
    };
    Ok(Some((status, receipt)))
}

impl Tenant {
    /// The business's loyalty rule (all zero when never set).
    ///
    /// # Errors
    /// Database errors.
    pub async fn loyalty_rule(&self) -> Result<LoyaltyRule, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        rule_on(&mut conn, self.id()).await
    }

    /// Replaces the business's loyalty rule (already
    /// [`LoyaltyRule::normalized`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_loyalty_rule(&self, r: &LoyaltyRule, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO loyalty_rules (business_id, points_per_visit, points_per_euro, reward_threshold, reward_text, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (business_id) DO UPDATE SET points_per_visit = $2, points_per_euro = $3, \
             reward_threshold = $4, reward_text = $5, updated_at = $6",
        )
        .bind(self.id())
        .bind(r.points_per_visit)
        .bind(r.points_per_euro)
        .bind(r.reward_threshold)
        .bind(r.reward_text.clone())
        .bind(ts_text(at))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// The receipt (completed appointment) or estimate (any other state)
    /// of appointment `id` with its status; `None` when the business has no
    /// such appointment.
    ///
    /// # Errors
    /// Database errors.
    pub async fn receipt(&self, id: Id) -> Result<Option<(AppointmentStatus, Receipt)>, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        receipt_on(&mut conn, self.id(), id).await
    }

    /// Marks booked appointment `id` completed at `now`, in one
    /// transaction: its price is recorded, the client gets the rule's
    /// points, and — when a notice policy is set — the reward notice is
    /// queued to the client when the points reach a new multiple of the
    /// threshold (first consented channel), the receipt e-mail with its PDF
    /// for a car workshop (`auto`; only by e-mail, with consent), and the
    /// `booking.completed` event for the webhooks. Each is keyed by the
    /// appointment.
    ///
    /// # Errors
    /// [`CompletionError::NotFound`], [`CompletionError::NotBooked`] (also
    /// when a concurrent request completed it first),
    /// [`CompletionError::NotStarted`] when it starts after `now`, or a
    /// database error; nothing changes then.
    pub async fn complete(&self, id: Id, now: Timestamp) -> Result<Completion, CompletionError> {
        let business_id = self.id();
        let mut tx = self.store().begin_write().await?;
        let lock = match self.store().dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE OF a",
        };
        let current: Option<(String, String, i64, String)> = sqlx::query_as(&format!(
            "SELECT a.status, a.start_utc, s.price_cents, b.vertical FROM appointments a JOIN services s ON s.id = a.service_id \
             JOIN business b ON b.id = a.business_id WHERE a.id = $1 AND a.business_id = $2{lock}"
        ))
        .bind(id)
        .bind(business_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let Some((status, start, price_cents, vertical)) = current else { return Err(CompletionError::NotFound(id)) };
        let status = AppointmentStatus::parse(&status).ok_or_else(|| StoreError::fatal(format!("bad status {status}")))?;
        if status != AppointmentStatus::Booked {
            return Err(CompletionError::NotBooked(id, status));
        }
        if parse_ts(&start)? > now {
            return Err(CompletionError::NotStarted(id));
        }
        let now_s = ts_text(now);
        let row: Option<AppointmentRow> = sqlx::query_as(&format!(
            "UPDATE appointments SET status = 'completed', price_cents = $3, completed_at = $4, updated_at = $4 \
             WHERE id = $1 AND business_id = $2 AND status = 'booked' RETURNING {APPOINTMENT_COLS}"
        ))
        .bind(id)
        .bind(business_id)
        .bind(price_cents)
        .bind(&now_s)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let Some(row) = row else { return Err(CompletionError::NotBooked(id, AppointmentStatus::Completed)) };
        let appointment = Appointment::try_from(row)?;

        let rule = rule_on(&mut tx, business_id).await?;
        let earned = rule.points_for(price_cents);
        let points: Option<i64> = sqlx::query_scalar(
            "UPDATE clients SET loyalty_points = loyalty_points + $3, updated_at = $4 WHERE id = $1 AND business_id = $2 \
             RETURNING loyalty_points",
        )
        .bind(appointment.client_id)
        .bind(business_id)
        .bind(earned)
        .bind(&now_s)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let points = points.unwrap_or(0);
        let reward = rule.reward_due(points - earned, points);

        let mut done =
            Completion { appointment, price_cents, points_earned: earned, points, reward, reward_notice: false, receipt_email: false };
        if let Some(policy) = self.store().notice_policy() {
            if let Some((client, facts)) = appointment_facts(&mut tx, business_id, id).await? {
                let mut data = facts.clone();
                data["client_id"] = json!(client.id);
                data["client_phone"] = json!(client.phone);
                data["price_cents"] = json!(price_cents);
                data["points_earned"] = json!(earned);
                data["points"] = json!(points);
                self.queue_event(&mut tx, Some(client.id), Event::BookingCompleted, &id.to_string(), data).await?;
                if reward {
                    if let Some((channel, recipient)) = client.route(&policy.order) {
                        let mut payload = facts.clone();
                        payload["reward_text"] = json!(rule.reward_text);
                        payload["points"] = json!(points);
                        payload["reward_threshold"] = json!(rule.reward_threshold);
                        let notice = NewNotice {
                            client_id: Some(client.id),
                            recipient,
                            channel,
                            kind: NoticeKind::LoyaltyReward,
                            payload,
                            key: format!("loyalty:{id}"),
                            not_before: now,
                        };
                        done.reward_notice = insert(&mut tx, business_id, &notice, Timestamp::now()).await?;
                    }
                }
                let email_only: Vec<NotifyChannel> = policy.order.iter().copied().filter(|c| *c == NotifyChannel::Email).collect();
                if vertical == "auto" {
                    if let (Some((channel, recipient)), Some((_, receipt))) =
                        (client.route(&email_only), receipt_on(&mut tx, business_id, id).await?)
                    {
                        let payload = serde_json::to_value(&receipt).map_err(|e| StoreError::fatal(format!("receipt payload: {e}")))?;
                        let notice = NewNotice {
                            client_id: Some(client.id),
                            recipient,
                            channel,
                            kind: NoticeKind::Receipt,
                            payload,
                            key: format!("receipt:{id}"),
                            not_before: now,
                        };
                        done.receipt_email = insert(&mut tx, business_id, &notice, Timestamp::now()).await?;
                    }
                }
            }
        }
        tx.commit().await.map_err(store_error)?;
        self.announce(Kind::Appointment, id, Action::Completed);
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(visit: i64, euro: i64, threshold: i64, text: &str) -> LoyaltyRule {
        LoyaltyRule { points_per_visit: visit, points_per_euro: euro, reward_threshold: threshold, reward_text: text.into() }
    }

    #[test]
    fn points_per_visit_and_per_whole_euro() {
        assert_eq!(rule(0, 0, 0, "").points_for(2_500), 0, "off by default");
        assert_eq!(rule(1, 0, 0, "").points_for(2_500), 1);
        assert_eq!(rule(2, 1, 0, "").points_for(2_599), 27, "25 whole euro + 2");
        assert_eq!(rule(0, 3, 0, "").points_for(99), 0);
    }

    #[test]
    fn a_reward_at_each_new_multiple_of_the_threshold() {
        let r = rule(5, 0, 10, "una piega in omaggio");
        assert!(!r.reward_due(0, 5));
        assert!(r.reward_due(5, 10));
        assert!(!r.reward_due(10, 15));
        assert!(r.reward_due(15, 20));
        assert!(r.reward_due(8, 31), "one notice even when a jump passes several multiples");
        assert!(!rule(5, 0, 0, "").reward_due(0, 100), "no threshold, no reward");
        assert!(!r.reward_due(10, 10), "no points, no reward");
    }

    #[test]
    fn rules_are_checked_in_italian() {
        assert_eq!(rule(-1, 0, 0, "").normalized(), Err(LoyaltyError::Negative("punti per visita")));
        assert_eq!(
            rule(0, 0, -5, "x").normalized().map_err(|e| e.to_string()),
            Err("soglia del premio: il valore non può essere negativo".into())
        );
        assert_eq!(rule(0, RULE_MAX + 1, 0, "").normalized(), Err(LoyaltyError::TooLarge("punti per euro")));
        assert_eq!(rule(1, 0, 10, "  ").normalized(), Err(LoyaltyError::RewardTextMissing));
        assert_eq!(rule(1, 0, 10, &"x".repeat(REWARD_TEXT_MAX_CHARS + 1)).normalized(), Err(LoyaltyError::RewardTextTooLong));
        assert_eq!(rule(1, 0, 10, "  una   piega ").normalized().map(|r| r.reward_text), Ok("una piega".into()));
    }
}
