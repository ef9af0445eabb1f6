//! The state of HTTP and WhatsApp conversations between turns (table
//! `dialogue_sessions`), so consecutive turns of one conversation may land
//! on different instances over one database.
//!
//! A turn *claims* its conversation ([`Tenant::claim_dialogue`]): it takes
//! a lease (a token of its own and an expiry) on the row, created on the
//! first turn, and gets the stored state. While the lease holds, another
//! turn of the same conversation, on any instance, gets
//! [`Claim::Busy`] and waits. The turn ends by saving the new state and
//! dropping the lease in one statement ([`Tenant::save_dialogue`]), which
//! succeeds only while the lease is still its own, or by just dropping the
//! lease ([`Tenant::release_dialogue`]) when the turn failed. The lease
//! needs no open transaction or connection while the turn runs (a turn
//! writes bookings on other connections, and SQLite has one writer), and is
//! written the same way on both databases. A lease left by a crashed
//! instance lapses at its expiry.
//!
//! Instants here are the instances' wall clocks (UTC text, seconds), not the
//! business clock: leases and idle times are about real time passing.

use fluxion_core::booking::{Id, StoreError};
use jiff::Timestamp;

use super::{parse_ts, store_error, ts_text, Store, Tenant};

/// A conversation held by one turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDialogue {
    /// What the conversation is found by.
    pub key: String,
    /// The lease's token (the turn's own).
    pub token: String,
    /// The stored state (the dialogue's versioned JSON); `None` for a
    /// conversation no turn has saved yet.
    pub state: Option<String>,
    /// Turns saved so far.
    pub revision: i64,
    /// When the last turn was saved (or the row made).
    pub updated_at: Timestamp,
}

/// Result of [`Tenant::claim_dialogue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The turn holds the conversation until it saves or releases it (or the
    /// lease lapses).
    Held(ClaimedDialogue),
    /// Another turn holds it; try again shortly.
    Busy,
}

/// A claim's details (see [`Tenant::claim_dialogue`]).
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    /// What the conversation is found by.
    pub key: &'a str,
    /// Its id in the chat history.
    pub session_id: &'a str,
    /// The turn's lease token (unique across instances).
    pub token: &'a str,
    /// Now (wall clock).
    pub now: Timestamp,
    /// When the lease lapses.
    pub until: Timestamp,
}

impl Tenant {
    /// Claims conversation `r.key` for one turn: creates its row when there
    /// is none, takes the lease when nobody holds it or the holder's lapsed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn claim_dialogue(&self, r: ClaimRequest<'_>) -> Result<Claim, StoreError> {
        let (now, until) = (ts_text(r.now), ts_text(r.until));
        let row: Option<(Option<String>, i64, String)> = sqlx::query_as(
            "UPDATE dialogue_sessions SET lease_token = $3, lease_until = $4 \
             WHERE business_id = $1 AND session_key = $2 AND (lease_until IS NULL OR lease_until < $5) \
             RETURNING state, revision, updated_at",
        )
        .bind(self.id())
        .bind(r.key)
        .bind(r.token)
        .bind(&until)
        .bind(&now)
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        if let Some((state, revision, updated_at)) = row {
            let updated_at = parse_ts(&updated_at)?;
            return Ok(Claim::Held(ClaimedDialogue { key: r.key.to_string(), token: r.token.to_string(), state, revision, updated_at }));
        }
        let made = sqlx::query(
            "INSERT INTO dialogue_sessions (business_id, session_key, session_id, revision, lease_token, lease_until, updated_at) \
             VALUES ($1, $2, $3, 0, $4, $5, $6) ON CONFLICT (business_id, session_key) DO NOTHING",
        )
        .bind(self.id())
        .bind(r.key)
        .bind(r.session_id)
        .bind(r.token)
        .bind(&until)
        .bind(&now)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        if made.rows_affected() == 1 {
            Ok(Claim::Held(ClaimedDialogue {
                key: r.key.to_string(),
                token: r.token.to_string(),
                state: None,
                revision: 0,
                updated_at: r.now,
            }))
        } else {
            Ok(Claim::Busy)
        }
    }

    /// Saves `state` as the conversation's state after the turn holding
    /// `claim`, records the client it identified, and drops the lease.
    /// Returns the new revision, or `None` when the lease is no longer the
    /// turn's (it lapsed and another turn took it, or the conversation was
    /// erased): nothing is saved then.
    ///
    /// # Errors
    /// Database errors (nothing is saved then).
    pub async fn save_dialogue(
        &self,
        claim: &ClaimedDialogue,
        state: &str,
        client_id: Option<Id>,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "UPDATE dialogue_sessions SET state = $4, client_id = COALESCE($5, client_id), revision = revision + 1, \
             lease_token = NULL, lease_until = NULL, updated_at = $6 \
             WHERE business_id = $1 AND session_key = $2 AND lease_token = $3 RETURNING revision",
        )
        .bind(self.id())
        .bind(&claim.key)
        .bind(&claim.token)
        .bind(state)
        .bind(client_id)
        .bind(ts_text(now))
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)
    }

    /// Drops `claim`'s lease without saving (the turn failed); nothing
    /// happens when the lease is no longer the turn's.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_dialogue(&self, claim: &ClaimedDialogue) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE dialogue_sessions SET lease_token = NULL, lease_until = NULL \
             WHERE business_id = $1 AND session_key = $2 AND lease_token = $3",
        )
        .bind(self.id())
        .bind(&claim.key)
        .bind(&claim.token)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// The stored state and revision of conversation `key`, if any (for
    /// tests and diagnostics; turns use [`Tenant::claim_dialogue`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn stored_dialogue(&self, key: &str) -> Result<Option<(Option<String>, i64)>, StoreError> {
        sqlx::query_as("SELECT state, revision FROM dialogue_sessions WHERE business_id = $1 AND session_key = $2")
            .bind(self.id())
            .bind(key)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)
    }
}

impl Store {
    /// Deletes, in every business, the conversations whose last turn was
    /// saved before `cutoff` and that no turn holds now (`now`). Returns how
    /// many.
    ///
    /// # Errors
    /// Database errors.
    pub async fn purge_idle_dialogues(&self, cutoff: Timestamp, now: Timestamp) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM dialogue_sessions WHERE updated_at < $1 AND (lease_until IS NULL OR lease_until < $2)")
            .bind(ts_text(cutoff))
            .bind(ts_text(now))
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(store_error)
    }
}
