//! A conversation's state between turns as one versioned, serialisable
//! value, so a conversation can be stored after a turn and resumed by any
//! process for the next one: [`Dialogue::state`] takes it out,
//! [`Dialogue::resume`] puts it back over the business facts (which are not
//! part of it: they are rebuilt from the database by whoever resumes).
//!
//! The JSON form ([`DialogueState::to_json`], [`DialogueState::from_json`])
//! carries a `version`; a state of another version or one that does not
//! parse is a [`StateError`], on which the caller starts a new conversation.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{requests, BusinessInfo, ClientDetails, Dialogue, Draft, Expect, Flow};
use crate::booking::{Appointment, Client, Id, Slot};
use crate::history::Role;
use crate::nlu::{Intent, Layer};

/// Version of [`DialogueState`]'s JSON this build writes and reads. Bump it
/// when a field changes meaning or a field without a default is added.
pub const STATE_VERSION: u32 = 1;

/// Everything a [`Dialogue`] needs between turns, without the business
/// facts. Its JSON form is an object with `version` ([`STATE_VERSION`]) and
/// one member per field; instants are RFC 3339 strings, ids integers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialogueState {
    version: u32,
    flow: Flow,
    expect: Expect,
    draft: Draft,
    client: ClientDetails,
    known: Option<Client>,
    upcoming: Vec<Appointment>,
    target: Option<Appointment>,
    misunderstood: u32,
    guided: bool,
    greeted: bool,
    ended: bool,
    last_intent: Option<Intent>,
    last_layer: Option<Layer>,
    last_booking: Option<Appointment>,
    now: Timestamp,
    pending_text: String,
    cached_faq: Option<String>,
    l4_active: bool,
    history: Vec<(Role, String)>,
    phone_failures: u32,
    candidate: Option<Client>,
    request: requests::Request,
    recording: Option<requests::Recording>,
    caller_verified: bool,
    queue: Vec<(Id, Slot)>,
    done: Vec<Appointment>,
}

/// Why a stored state cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Written by a build with another [`STATE_VERSION`].
    #[error("dialogue state of version {found}, this build reads version {expected}", expected = STATE_VERSION)]
    Version {
        /// The version found.
        found: u32,
    },
    /// Not JSON, or not the shape of this version.
    #[error("dialogue state does not parse: {0}")]
    Corrupt(String),
}

impl DialogueState {
    /// The JSON form (an object, see [`DialogueState`]).
    ///
    /// # Errors
    /// [`StateError::Corrupt`] if serialisation fails (it does not for the
    /// types held; the error keeps the call paths free of panics).
    pub fn to_json(&self) -> Result<String, StateError> {
        serde_json::to_string(self).map_err(|e| StateError::Corrupt(e.to_string()))
    }

    /// Parses the JSON form.
    ///
    /// # Errors
    /// [`StateError::Version`] for a state of another version (checked
    /// before the rest is read), [`StateError::Corrupt`] for anything that
    /// does not parse.
    pub fn from_json(json: &str) -> Result<Self, StateError> {
        #[derive(Deserialize)]
        struct Header {
            version: u32,
        }
        let header: Header = serde_json::from_str(json).map_err(|e| StateError::Corrupt(e.to_string()))?;
        if header.version != STATE_VERSION {
            return Err(StateError::Version { found: header.version });
        }
        serde_json::from_str(json).map_err(|e| StateError::Corrupt(e.to_string()))
    }

    /// The state's version (what [`DialogueState::from_json`] checked).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The known client's id, once the caller is identified.
    pub fn client_id(&self) -> Option<Id> {
        self.known.as_ref().map(|c| c.id).or(self.client.id)
    }
}

impl Dialogue {
    /// The conversation's state, to be stored between turns.
    pub fn state(&self) -> DialogueState {
        // Destructured in full: a field added to `Dialogue` and forgotten here does not compile.
        let Dialogue {
            info: _,
            flow,
            expect,
            draft,
            client,
            known,
            upcoming,
            target,
            misunderstood,
            guided,
            greeted,
            ended,
            last_intent,
            last_layer,
            last_booking,
            now,
            pending_text,
            cached_faq,
            l4_active,
            history,
            phone_failures,
            candidate,
            request,
            recording,
            caller_verified,
            queue,
            done,
        } = self.clone();
        DialogueState {
            version: STATE_VERSION,
            flow,
            expect,
            draft,
            client,
            known,
            upcoming,
            target,
            misunderstood,
            guided,
            greeted,
            ended,
            last_intent,
            last_layer,
            last_booking,
            now,
            pending_text,
            cached_faq,
            l4_active,
            history,
            phone_failures,
            candidate,
            request,
            recording,
            caller_verified,
            queue,
            done,
        }
    }

    /// The conversation of `state` resumed over business `info`.
    pub fn resume(info: Arc<BusinessInfo>, state: DialogueState) -> Dialogue {
        let DialogueState {
            version: _,
            flow,
            expect,
            draft,
            client,
            known,
            upcoming,
            target,
            misunderstood,
            guided,
            greeted,
            ended,
            last_intent,
            last_layer,
            last_booking,
            now,
            pending_text,
            cached_faq,
            l4_active,
            history,
            phone_failures,
            candidate,
            request,
            recording,
            caller_verified,
            queue,
            done,
        } = state;
        Dialogue {
            info,
            flow,
            expect,
            draft,
            client,
            known,
            upcoming,
            target,
            misunderstood,
            guided,
            greeted,
            ended,
            last_intent,
            last_layer,
            last_booking,
            now,
            pending_text,
            cached_faq,
            l4_active,
            history,
            phone_failures,
            candidate,
            request,
            recording,
            caller_verified,
            queue,
            done,
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::datetime;

    use super::super::tests::{harness, said, Harness};
    use super::super::{Action, Outcome, Wanted};
    use super::*;

    /// A booking in five turns (the day first, then the time, name, phone
    /// and the confirmation), slot searches answered as a calendar with 9:00
    /// and 15:00 free on Thursday would, and `between` applied to the
    /// harness after every turn. Returns every turn's actions.
    fn book(mut between: impl FnMut(&mut Harness)) -> Vec<Vec<Action>> {
        let mut h = harness();
        let nine = h.slot(datetime(2027, 3, 11, 9, 0, 0, 0), 1, 45);
        let three = h.slot(datetime(2027, 3, 11, 15, 0, 0, 0), 1, 45);
        let mut all = Vec::new();
        for text in ["vorrei un taglio giovedì", "alle 15", "Mario Rossi", "333 123 4567", "sì"] {
            let mut actions = h.say(text);
            between(&mut h);
            while let Some(Action::FindSlots { wanted, .. }) = actions.iter().find(|a| matches!(a, Action::FindSlots { .. })).cloned() {
                all.push(actions);
                let exact = matches!(wanted, Wanted::At(t) if t.hour() == 15);
                let slots = if exact { vec![three] } else { vec![nine, three] };
                actions = h.feed(Outcome::Slots { slots, exact, reason: None });
                between(&mut h);
            }
            all.push(actions);
        }
        all
    }

    #[test]
    fn a_conversation_resumed_from_json_between_every_turn_books_the_same() {
        let straight = book(|_| {});
        let resumed = book(|h| {
            let json = h.dialogue.state().to_json().expect("json");
            let state = DialogueState::from_json(&json).expect("parses");
            assert_eq!(state, h.dialogue.state());
            h.dialogue = Dialogue::resume(h.info.clone(), state);
        });
        assert_eq!(straight, resumed);
        let last = straight.last().expect("turns");
        assert!(matches!(last.as_slice(), [Action::Book { service_id: 1, .. }]), "{last:?}");
        assert!(straight.iter().any(|a| said(a).contains("ricapitolo")), "{straight:?}");
    }

    #[test]
    fn mid_booking_state_keeps_what_was_given() {
        let mut h = harness();
        h.say("vorrei un taglio giovedì");
        let json = h.dialogue.state().to_json().expect("json");
        let value: serde_json::Value = serde_json::from_str(&json).expect("object");
        assert_eq!(value["version"], STATE_VERSION);
        assert_eq!(value["draft"]["service_id"], 1);
        assert_eq!(value["draft"]["date"], "2027-03-11");
    }

    #[test]
    fn other_versions_and_garbage_are_errors() {
        let h = harness();
        let json = h.dialogue.state().to_json().expect("json");
        let old = json.replacen(&format!("\"version\":{STATE_VERSION}"), "\"version\":0", 1);
        assert_eq!(DialogueState::from_json(&old), Err(StateError::Version { found: 0 }));
        assert!(matches!(DialogueState::from_json("{\"version\":1,\"flow\":\"Nowhere\"}"), Err(StateError::Corrupt(_))));
        assert!(matches!(DialogueState::from_json("not json"), Err(StateError::Corrupt(_))));
        assert!(matches!(DialogueState::from_json(""), Err(StateError::Corrupt(_))));
    }
}
