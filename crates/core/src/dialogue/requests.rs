//! Requests for the owner: a person to call back, a complaint, a privacy
//! request (erase my data, withdraw consent). The receptionist asks for what
//! is missing (name, number, the reason of a complaint), reads the request
//! back, records it and says so only when the write succeeded.

use super::*;

/// The request being put together.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Request {
    kind: RequestKind,
    /// The caller's words.
    reason: String,
}

/// A write without a domain result whose outcome the caller must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum Recording {
    Waitlist,
    Request(RequestKind),
    /// A callback recorded while the call is handed to a person.
    Transfer,
}

/// Words a bare complaint opens with; anything more is its reason.
const COMPLAINT_WORDS: &[&str] = &[
    "vorrei",
    "voglio",
    "volevo",
    "fare",
    "un",
    "una",
    "reclamo",
    "lamentela",
    "lamentarmi",
    "protestare",
    "segnalare",
    "segnalazione",
    "devo",
    "buongiorno",
    "buonasera",
    "salve",
    "senta",
    "allora",
    "ehm",
    "sporgere",
];

impl Dialogue {
    /// Starts a request for the owner from the turn `text`.
    pub(super) fn start_request(&mut self, kind: RequestKind, text: &str, out: &mut Vec<Action>) {
        self.reset_flow();
        // A caller whose number is a verified caller ID who asks for a
        // person is handed over at once; the callback is the fallback.
        if kind == RequestKind::Callback && self.caller_verified && self.client.phone.is_some() {
            out.push(self.request_action(kind, text.to_string()));
            self.recording = Some(Recording::Transfer);
            out.push(Action::Transfer);
            return;
        }
        self.flow = Flow::Request;
        self.request = Request { kind, reason: text.to_string() };
        if kind == RequestKind::Complaint && words(&normalize(text)).all(|w| COMPLAINT_WORDS.contains(&w)) {
            self.expect = Expect::Reason;
            self.say(out, replies::ASK_COMPLAINT_REASON);
            return;
        }
        self.advance_request(out);
    }

    /// Asks for the name, then the number, then reads the request back.
    pub(super) fn advance_request(&mut self, out: &mut Vec<Action>) {
        let name = self.known.as_ref().map(|c| c.name.clone()).or_else(|| self.client.name.clone());
        let Some(name) = name else {
            self.expect = Expect::Name;
            self.say(out, replies::ASK_NAME_FOR_REQUEST);
            return;
        };
        let Some(phone) = self.client.phone.clone() else {
            self.expect = Expect::Phone;
            self.say(out, replies::ASK_PHONE_FOR_REQUEST);
            return;
        };
        self.expect = Expect::ConfirmRequest;
        self.say(out, replies::request_read_back(self.request.kind, &name, &phone));
    }

    /// The answer to "Mi dice il motivo?" or to the request's read-back.
    pub(super) fn answer_request(&mut self, _norm: &str, nlu: &NluResult, out: &mut Vec<Action>) -> bool {
        if self.expect == Expect::Reason {
            self.request.reason = format!("{} — {}", self.request.reason, self.pending_text);
            self.advance_request(out);
            return true;
        }
        match nlu.intent {
            Intent::Confirm if nlu.slots.phone.is_none() && nlu.slots.name.is_none() => {
                let kind = self.request.kind;
                let reason = std::mem::take(&mut self.request.reason);
                out.push(self.request_action(kind, reason));
                self.recording = Some(Recording::Request(kind));
                self.reset_flow();
                true
            }
            Intent::Deny if nlu.slots.phone.is_none() && nlu.slots.name.is_none() => {
                self.reset_flow();
                self.say(out, replies::REQUEST_DROPPED);
                true
            }
            _ if nlu.slots.phone.is_some() || nlu.slots.name.is_some() => {
                if let Some(n) = &nlu.slots.name {
                    self.client.name = Some(n.clone());
                }
                self.advance_request(out);
                true
            }
            _ => {
                self.say(out, replies::CONFIRM_AGAIN);
                true
            }
        }
    }

    fn request_action(&self, kind: RequestKind, reason: String) -> Action {
        Action::RequestCallback {
            kind,
            client_id: self.client.id,
            name: if self.client.id.is_some() { None } else { self.client.name.clone() },
            phone: self.client.phone.clone(),
            reason,
        }
    }

    /// The outcome of a waitlist entry or a request write.
    pub(super) fn recorded(&mut self, result: Result<(), WriteFailure>, out: &mut Vec<Action>) {
        let what = self.recording.take();
        match (what, result) {
            (Some(Recording::Waitlist), Ok(())) => self.say(out, replies::WAITLISTED),
            (Some(Recording::Request(kind)), Ok(())) => {
                self.say(out, replies::request_recorded(kind));
                self.say(out, replies::ANYTHING_ELSE);
            }
            (Some(Recording::Transfer), Ok(())) => self.say(out, replies::HUMAN),
            (Some(Recording::Transfer), Err(_)) => self.say(out, replies::HUMAN_NOT_RECORDED),
            (_, Err(_)) => self.say(out, replies::NOT_RECORDED),
            (None, Ok(())) => {}
        }
    }

    /// The phone number was not understood again: after two failures the
    /// caller is offered a way out instead of the same question.
    pub(super) fn phone_not_understood(&mut self, out: &mut Vec<Action>) {
        self.phone_failures += 1;
        match self.phone_failures {
            1 => self.say(out, replies::ASK_PHONE_AGAIN),
            2 => self.say(out, replies::PHONE_WAY_OUT),
            _ => {
                self.phone_failures = 0;
                self.reset_flow();
                self.say(out, replies::PHONE_GIVE_UP);
                out.push(Action::Transfer);
            }
        }
    }
}
