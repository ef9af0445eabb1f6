//! Console accounts, API tokens and browser sessions. Passwords arrive here
//! already hashed (Argon2id PHC strings) and tokens and session ids as
//! SHA-256 hex digests (see `crate::auth::secret`): the store never sees a
//! working credential. Look-ups by credential are database-wide (a user or
//! token says which business it belongs to); everything else is a
//! [`Tenant`]'s.

use fluxion_core::booking::{Id, StoreError};
use jiff::Timestamp;
use serde::Serialize;

use super::{store_error, ts_text, Store, Tenant};

/// What an account may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, settings and secrets included.
    Owner,
    /// Calendar and clients, not settings or secrets.
    Staff,
}

impl Role {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Role::parse(s).ok_or_else(|| format!("unknown role '{s}' (owner or staff)"))
    }
}

/// A console account as stored.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// Account id.
    pub id: Id,
    /// The business it belongs to.
    pub business_id: Id,
    /// Login name (unique in the database).
    pub username: String,
    /// What it may do.
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// A live API token as stored (its digest aside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// Token id.
    pub id: Id,
    /// The business it belongs to.
    pub business_id: Id,
    /// What the owner called it.
    pub name: String,
    /// Whether a `phone` it sends is the caller's verified identity.
    pub trusted: bool,
    /// When it was made (UTC, RFC 3339).
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// A live browser session with its account.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// The business.
    pub business_id: Id,
    /// The account.
    pub user_id: Id,
    /// Its login name.
    pub username: String,
    /// Its role.
    pub role: Role,
    /// The session's CSRF token (sent back in `X-CSRF-Token`).
    pub csrf_token: String,
}

type UserRow = (i64, i64, String, String, String);
type TokenRow = (i64, i64, String, i64, String, Option<String>);

fn user(r: UserRow) -> Result<UserRecord, StoreError> {
    let role = Role::parse(&r.3).ok_or_else(|| StoreError::fatal(format!("bad role '{}' in database", r.3)))?;
    Ok(UserRecord { id: r.0, business_id: r.1, username: r.2, role, password_hash: r.4 })
}

fn token(r: TokenRow) -> TokenRecord {
    TokenRecord { id: r.0, business_id: r.1, name: r.2, trusted: r.3 != 0, created_at: r.4, revoked_at: r.5 }
}

const TOKEN_COLS: &str = "id, business_id, name, trusted, created_at, revoked_at";

impl Store {
    /// The account with this login name.
    ///
    /// # Errors
    /// Database errors.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as("SELECT id, business_id, username, role, password_hash FROM users WHERE username = $1")
            .bind(username.trim())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.map(user).transpose()
    }

    /// The live (not revoked) token with this digest.
    ///
    /// # Errors
    /// Database errors.
    pub async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRow> =
            sqlx::query_as(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"))
                .bind(digest)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
        Ok(row.map(token))
    }

    /// The unexpired session with this digest, at `now`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn session_by_digest(&self, digest: &str, now: Timestamp) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT s.business_id, s.user_id, u.username, u.role, s.csrf_token FROM user_sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(digest)
        .bind(ts_text(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(store_error)?;
        row.map(|(business_id, user_id, username, role, csrf_token)| {
            let role = Role::parse(&role).ok_or_else(|| StoreError::fatal(format!("bad role '{role}' in database")))?;
            Ok(SessionRecord { business_id, user_id, username, role, csrf_token })
        })
        .transpose()
    }

    /// Ends the session with this digest (nothing when there is none).
    ///
    /// # Errors
    /// Database errors.
    pub async fn delete_session(&self, digest: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM user_sessions WHERE token_hash = $1").bind(digest).execute(&self.pool).await.map_err(store_error)?;
        Ok(())
    }

    /// Forgets sessions that expired before `now`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn purge_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM user_sessions WHERE expires_at <= $1")
            .bind(ts_text(now))
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }

    /// Number of console accounts in the database.
    ///
    /// # Errors
    /// Database errors.
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await.map_err(store_error)
    }
}

impl Tenant {
    /// Adds a console account; returns its id.
    ///
    /// # Errors
    /// The login name is taken (in any business), or a database error.
    pub async fn add_user(&self, username: &str, password_hash: &str, role: Role) -> Result<Id, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO users (business_id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(self.id())
        .bind(username.trim())
        .bind(password_hash)
        .bind(role.as_str())
        .bind(ts_text(Timestamp::now()))
        .fetch_one(self.pool())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::fatal(format!("user '{}' already exists", username.trim()))
            }
            _ => store_error(e),
        })
    }

    /// The business's accounts: `(id, username, role)`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn users(&self) -> Result<Vec<(Id, String, Role)>, StoreError> {
        let rows: Vec<UserRow> =
            sqlx::query_as("SELECT id, business_id, username, role, password_hash FROM users WHERE business_id = $1 ORDER BY id")
                .bind(self.id())
                .fetch_all(self.pool())
                .await
                .map_err(store_error)?;
        rows.into_iter().map(|r| user(r).map(|u| (u.id, u.username, u.role))).collect()
    }

    /// Stores a new API token by its digest; returns its id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_token(&self, name: &str, digest: &str, trusted: bool) -> Result<Id, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (business_id, name, token_hash, trusted, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(self.id())
        .bind(name)
        .bind(digest)
        .bind(i64::from(trusted))
        .bind(ts_text(Timestamp::now()))
        .fetch_one(self.pool())
        .await
        .map_err(store_error)
    }

    /// The business's tokens, revoked ones included, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE business_id = $1 ORDER BY id"))
            .bind(self.id())
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        Ok(rows.into_iter().map(token).collect())
    }

    /// Revokes a token; `false` when the business has no such live token.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_token(&self, id: Id) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND business_id = $2 AND revoked_at IS NULL")
            .bind(id)
            .bind(self.id())
            .bind(ts_text(Timestamp::now()))
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    /// Opens a browser session for account `user_id` of this business,
    /// stored by the digest of its id, valid until `expires`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_session(&self, user_id: Id, digest: &str, csrf_token: &str, expires: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO user_sessions (business_id, user_id, token_hash, csrf_token, created_at, expires_at) \
             SELECT $1, id, $3, $4, $5, $6 FROM users WHERE id = $2 AND business_id = $1",
        )
        .bind(self.id())
        .bind(user_id)
        .bind(digest)
        .bind(csrf_token)
        .bind(ts_text(Timestamp::now()))
        .bind(ts_text(expires))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }
}
