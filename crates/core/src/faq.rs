//! FAQ entries as the business defines them.

use serde::{Deserialize, Serialize};

use crate::booking::Id;

/// One FAQ entry: several ways of asking, one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Faq {
    /// Row id.
    pub id: Id,
    /// Category within the vertical ("pagamenti", "parcheggio", "preparazione esami").
    pub category: String,
    /// Question variants, in Italian.
    pub questions: Vec<String>,
    /// Answer spoken or written to the caller, in Italian.
    pub answer: String,
}
