//! The tool registry: booking operations a language model (L4) or an MCP
//! client may call, each a thin wrapper over the [`FrontDesk`] with the same
//! validation as the dialogue. One registry serves both, so their rules
//! cannot drift apart.
//!
//! Dates are never computed by the model: every `quando` argument is Italian
//! text ("giovedì alle 15", "domani pomeriggio") or an ISO 8601 local date /
//! date-time, resolved here by L2's deterministic resolver in the business's
//! time zone.
//!
//! A [`Scope::Caller`] (a phone or chat caller talking to the model) may only
//! see and change the caller's own appointments, and may only write after the
//! caller confirmed the read-back in their own words; [`Scope::Staff`] (an
//! MCP client on the business's machine) may do everything.
//!
//! `send_sms`, `send_whatsapp` and `send_email` (seed 004) queue a written
//! message in the store's notification outbox ([`Repository::queue_message`]):
//! a caller writes only to their own number or address, after confirming
//! the text; staff write only to clients who consented to the channel.

use jiff::civil::{Date, DateTime};
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::booking::desk::{ClientDetails, FrontDesk, Wanted, WriteFailure};
use crate::booking::{Appointment, AppointmentStatus, Repository, Service, Slot};
use crate::history::{CallbackRequest, MessageChannel, MessageQueued, MessageRequest};
use crate::nlu::{datetime, l2_slots, DateTimeSlot, Pipeline};
use crate::text::{fold, normalize};

/// Who is calling the tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A caller talking to the model: limited to their own data.
    Caller {
        /// The caller's phone (E.164), when known.
        phone: Option<String>,
        /// Whether the caller's last turn confirmed ("sì", "confermo") the
        /// model's read-back; writes need it.
        confirmed: bool,
    },
    /// The business's staff (MCP on the local machine): unrestricted.
    Staff,
}

/// The context of one tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolContext {
    /// Current instant.
    pub now: Timestamp,
    /// Who is calling.
    pub scope: Scope,
    /// Conversation id, for callback requests.
    pub session_id: String,
}

/// A tool's name, description and JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Tool name (seed 000 names: `get_disponibilita`, `create_appuntamento`…).
    pub name: &'static str,
    /// What it does, for the model / MCP client.
    pub description: &'static str,
    /// JSON Schema (object) of the arguments.
    pub parameters: Value,
}

/// Why a tool call failed. Serialised for the model as
/// `{"errore": code, "messaggio": …, …}` so it can explain or retry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolError {
    /// No tool with that name.
    #[error("unknown tool {0}")]
    UnknownTool(String),
    /// Arguments missing or malformed.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The caller may not do this (another client's appointment…).
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// A write needs the caller's confirmation of the read-back first.
    #[error("confirmation needed: {summary}")]
    ConfirmationNeeded {
        /// What to read back to the caller.
        summary: String,
    },
    /// The slot is not free; here are the nearest alternatives.
    #[error("slot unavailable: {reason}")]
    SlotUnavailable {
        /// Why, in Italian.
        reason: String,
        /// Nearest free slots, as tool output objects.
        alternatives: Vec<Value>,
    },
    /// Nothing matches (appointment, service…).
    #[error("not found: {0}")]
    NotFound(String),
    /// The database failed; retrying later may work.
    #[error("storage unavailable")]
    Unavailable,
}

impl ToolError {
    /// The JSON the model or MCP client receives.
    pub fn to_json(&self) -> Value {
        let code = match self {
            ToolError::UnknownTool(_) => "tool_sconosciuto",
            ToolError::InvalidArguments(_) => "argomenti_non_validi",
            ToolError::NotAllowed(_) => "non_consentito",
            ToolError::ConfirmationNeeded { .. } => "conferma_necessaria",
            ToolError::SlotUnavailable { .. } => "orario_non_disponibile",
            ToolError::NotFound(_) => "non_trovato",
            ToolError::Unavailable => "servizio_non_disponibile",
        };
        let mut v = json!({ "errore": code, "messaggio": self.to_string() });
        match self {
            ToolError::SlotUnavailable { alternatives, .. } => v["alternative"] = json!(alternatives),
            ToolError::ConfirmationNeeded { summary } => v["riepilogo"] = json!(summary),
            _ => {}
        }
        v
    }
}

fn string_prop(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

/// The spec of `send_sms` / `send_whatsapp`: a text to a phone number.
fn message_spec(name: &'static str, description: &'static str) -> ToolSpec {
    ToolSpec {
        name,
        description,
        parameters: json!({
            "type": "object",
            "properties": {
                "testo": string_prop("Il testo del messaggio"),
                "telefono": string_prop("Telefono del destinatario (solo personale)"),
                "confermato": { "type": "boolean", "description": "true solo dopo che il cliente ha confermato il testo" }
            },
            "required": ["testo", "confermato"]
        }),
    }
}

/// Longest text of a message to a phone (SMS, WhatsApp), in characters.
pub const MAX_PHONE_MESSAGE_CHARS: usize = 1_000;

/// Longest text of an e-mail a tool may send, in characters.
pub const MAX_EMAIL_CHARS: usize = 5_000;

/// Every tool, in a fixed order.
pub fn specs() -> Vec<ToolSpec> {
    let quando = "Quando, in italiano come lo dice il cliente (\"giovedì alle 15\", \"domani pomeriggio\") o ISO 8601 locale (2027-03-11T15:00). Non calcolare date: passa le parole del cliente.";
    let confermato = json!({ "type": "boolean", "description": "true solo dopo che il cliente ha confermato il riepilogo" });
    vec![
        ToolSpec {
            name: "get_disponibilita",
            description: "Orari liberi per un servizio, il più vicino possibile a quando desiderato (al massimo `limite`).",
            parameters: json!({
                "type": "object",
                "properties": {
                    "servizio": string_prop("Nome del servizio"),
                    "quando": string_prop(quando),
                    "operatore": string_prop("Nome dell'operatore, se richiesto"),
                    "limite": { "type": "integer", "minimum": 1, "maximum": 10 }
                },
                "required": ["servizio"]
            }),
        },
        ToolSpec {
            name: "create_appuntamento",
            description: "Prenota un appuntamento. Prima leggi il riepilogo al cliente e chiama con confermato=true solo dopo il suo sì.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "servizio": string_prop("Nome del servizio"),
                    "quando": string_prop(quando),
                    "operatore": string_prop("Nome dell'operatore, se richiesto"),
                    "nome": string_prop("Nome e cognome del cliente"),
                    "telefono": string_prop("Telefono del cliente"),
                    "email": string_prop("Email del cliente"),
                    "confermato": confermato
                },
                "required": ["servizio", "quando", "confermato"]
            }),
        },
        ToolSpec {
            name: "cancel_appuntamento",
            description: "Cancella un appuntamento del cliente (per id, o per data se ne ha uno solo quel giorno).",
            parameters: json!({
                "type": "object",
                "properties": {
                    "id": { "type": "integer" },
                    "quando": string_prop("Giorno dell'appuntamento da cancellare"),
                    "telefono": string_prop("Telefono del cliente (solo personale)"),
                    "confermato": confermato
                },
                "required": ["confermato"]
            }),
        },
        ToolSpec {
            name: "sposta_appuntamento",
            description: "Sposta un appuntamento del cliente a un nuovo orario libero.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "id": { "type": "integer" },
                    "quando_attuale": string_prop("Giorno dell'appuntamento attuale"),
                    "nuovo_quando": string_prop(quando),
                    "telefono": string_prop("Telefono del cliente (solo personale)"),
                    "confermato": confermato
                },
                "required": ["nuovo_quando", "confermato"]
            }),
        },
        ToolSpec {
            name: "search_clienti",
            description: "Cerca clienti per nome o telefono (un chiamante vede solo se stesso) con i prossimi appuntamenti.",
            parameters: json!({
                "type": "object",
                "properties": { "query": string_prop("Nome o telefono") },
                "required": ["query"]
            }),
        },
        ToolSpec {
            name: "get_faq",
            description: "Risposta della attività a una domanda frequente, con un punteggio da 0 a 1.",
            parameters: json!({
                "type": "object",
                "properties": { "domanda": string_prop("La domanda del cliente") },
                "required": ["domanda"]
            }),
        },
        ToolSpec {
            name: "transfer_to_human",
            description: "Passa la chiamata a una persona dello staff (o registra una richiesta di richiamata).",
            parameters: json!({
                "type": "object",
                "properties": { "motivo": string_prop("Perché") },
                "required": []
            }),
        },
        message_spec("send_sms", "Manda un SMS al cliente (un chiamante: solo al proprio numero). Prima leggi il testo al cliente e chiama con confermato=true solo dopo il suo sì."),
        message_spec("send_whatsapp", "Manda un messaggio WhatsApp al cliente (un chiamante: solo al proprio numero). Prima leggi il testo al cliente e chiama con confermato=true solo dopo il suo sì."),
        ToolSpec {
            name: "send_email",
            description: "Manda una e-mail al cliente (un chiamante: al proprio indirizzo). Prima leggi il testo al cliente e chiama con confermato=true solo dopo il suo sì.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "testo": string_prop("Il testo del messaggio"),
                    "oggetto": string_prop("L'oggetto della e-mail"),
                    "email": string_prop("Indirizzo del destinatario (se il cliente lo detta, o per il personale)"),
                    "confermato": confermato
                },
                "required": ["testo", "confermato"]
            }),
        },
        ToolSpec {
            name: "schedule_callback",
            description: "Registra una richiesta di essere richiamati da una persona.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "telefono": string_prop("Numero da richiamare"),
                    "motivo": string_prop("Perché"),
                    "quando": string_prop("Quando preferisce essere richiamato")
                },
                "required": ["motivo"]
            }),
        },
    ]
}

/// The outcome of a tool call that the session must act on besides the
/// JSON result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SideEffects {
    /// An appointment created, moved or cancelled.
    pub booking: Option<Appointment>,
    /// The caller asked for a person.
    pub transfer: bool,
}

/// The registry bound to one business.
pub struct Tools<'a, R> {
    desk: &'a FrontDesk<R>,
    pipeline: &'a Pipeline,
}

fn arg_str<'v>(args: &'v Value, key: &str) -> Option<&'v str> {
    args.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn required<'v>(args: &'v Value, key: &str) -> Result<&'v str, ToolError> {
    arg_str(args, key).ok_or_else(|| ToolError::InvalidArguments(format!("'{key}' is required")))
}

/// The last four digits of a phone number, for a read-back that does not
/// spell the whole number.
fn last_digits(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}

/// An address with one `@`, something before it and a dotted domain after.
fn plausible_email(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !address.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn store_failure(f: WriteFailure) -> ToolError {
    match f {
        WriteFailure::SlotTaken => ToolError::SlotUnavailable { reason: "l'orario è già occupato".into(), alternatives: vec![] },
        WriteFailure::NotBookable => ToolError::SlotUnavailable { reason: "l'orario non è prenotabile".into(), alternatives: vec![] },
        WriteFailure::NotFound => ToolError::NotFound("appuntamento".into()),
        WriteFailure::Unavailable => ToolError::Unavailable,
    }
}

impl<'a, R: Repository> Tools<'a, R> {
    /// The registry over a desk and the business's NLU pipeline.
    pub fn new(desk: &'a FrontDesk<R>, pipeline: &'a Pipeline) -> Self {
        Tools { desk, pipeline }
    }

    /// Calls tool `name` with JSON `args`.
    ///
    /// # Errors
    /// See [`ToolError`]; nothing is written when an error comes back.
    pub async fn call(&self, name: &str, args: &Value, ctx: &ToolContext) -> Result<(Value, SideEffects), ToolError> {
        let args = if args.is_null() { &Value::Object(Default::default()) } else { args };
        if !args.is_object() {
            return Err(ToolError::InvalidArguments("arguments must be a JSON object".into()));
        }
        match name {
            "get_disponibilita" => self.availability(args, ctx).await.map(|v| (v, SideEffects::default())),
            "create_appuntamento" => self.create(args, ctx).await,
            "cancel_appuntamento" => self.cancel(args, ctx).await,
            "sposta_appuntamento" => self.reschedule(args, ctx).await,
            "search_clienti" => self.search_clients(args, ctx).await.map(|v| (v, SideEffects::default())),
            "get_faq" => self.faq(args).map(|v| (v, SideEffects::default())),
            "transfer_to_human" => {
                let reason = arg_str(args, "motivo").unwrap_or("richiesta di un operatore");
                self.callback(ctx, None, reason).await?;
                Ok((json!({ "ok": true, "trasferimento": true }), SideEffects { booking: None, transfer: true }))
            }
            "send_sms" => self.send_message(MessageChannel::Sms, args, ctx).await.map(|v| (v, SideEffects::default())),
            "send_whatsapp" => self.send_message(MessageChannel::Whatsapp, args, ctx).await.map(|v| (v, SideEffects::default())),
            "send_email" => self.send_message(MessageChannel::Email, args, ctx).await.map(|v| (v, SideEffects::default())),
            "schedule_callback" => {
                let reason = required(args, "motivo")?;
                let reason = match arg_str(args, "quando") {
                    Some(q) => format!("{reason} (preferenza: {q})"),
                    None => reason.to_string(),
                };
                let phone = arg_str(args, "telefono").and_then(l2_slots::normalize_phone);
                self.callback(ctx, phone, &reason).await?;
                Ok((json!({ "ok": true }), SideEffects::default()))
            }
            other => Err(ToolError::UnknownTool(other.to_string())),
        }
    }

    fn local_now(&self, ctx: &ToolContext) -> DateTime {
        self.desk.info().local(ctx.now)
    }

    fn service(&self, name: &str) -> Result<&'a Service, ToolError> {
        let info = self.desk.info();
        let folded = fold(name.trim());
        info.services
            .iter()
            .find(|s| fold(&s.name) == folded || s.synonyms.iter().any(|x| fold(x) == folded))
            .or_else(|| self.pipeline.catalog().find_service(&normalize(name)).and_then(|n| info.service_named(n)))
            .ok_or_else(|| {
                let names: Vec<&str> = info.services.iter().map(|s| s.name.as_str()).collect();
                ToolError::NotFound(format!("servizio '{name}'; servizi offerti: {}", names.join(", ")))
            })
    }

    fn operator(&self, args: &Value) -> Result<Option<i64>, ToolError> {
        match arg_str(args, "operatore") {
            None => Ok(None),
            Some(o) => {
                let folded = fold(o);
                self.desk
                    .info()
                    .operators
                    .iter()
                    .find(|x| fold(&x.name) == folded)
                    .map(|x| Some(x.id))
                    .ok_or_else(|| ToolError::NotFound(format!("operatore '{o}'")))
            }
        }
    }

    /// Resolves a `quando` argument: ISO local date/date-time, or Italian
    /// text through L2's resolver.
    fn when(&self, text: &str, ctx: &ToolContext) -> Result<Wanted, ToolError> {
        // jiff reads a bare date as a DateTime at midnight (and a date-time as
        // its Date), so the shape of the text decides which one it is.
        if text.contains(['T', 't', ' ']) {
            if let Ok(dt) = text.parse::<DateTime>() {
                return Ok(Wanted::At(dt));
            }
        } else if let Ok(d) = text.parse::<Date>() {
            return Ok(Wanted::Day(d));
        }
        if ["prima disponibil", "primo disponibil", "prima possibil", "appena possibile"].iter().any(|p| normalize(text).contains(p)) {
            return Ok(Wanted::Earliest);
        }
        match datetime::resolve(text, self.local_now(ctx)).map(|r| r.slot) {
            Some(DateTimeSlot::Instant { value, grain: crate::nlu::Grain::Day }) => Ok(Wanted::Day(value.date())),
            Some(DateTimeSlot::Instant { value, .. }) => Ok(Wanted::At(value)),
            Some(DateTimeSlot::Range { start, end, .. }) => Ok(Wanted::Range(start, end)),
            None => Err(ToolError::InvalidArguments(format!("non capisco la data '{text}': usa le parole del cliente o ISO 8601"))),
        }
    }

    fn slot_json(&self, s: &Slot, ctx: &ToolContext) -> Value {
        let info = self.desk.info();
        let local = info.local(s.start);
        let today = info.local(ctx.now).date();
        json!({
            "inizio": local.to_string(),
            "fine": info.local(s.end).to_string(),
            "operatore": info.operator(s.operator_id).map(|o| o.name.clone()),
            "detto": format!("{} {}", crate::speak::date(local.date(), today), crate::speak::at_time(local.time())),
        })
    }

    fn appointment_json(&self, a: &Appointment) -> Value {
        let info = self.desk.info();
        json!({
            "id": a.id,
            "servizio": info.service(a.service_id).map(|s| s.name.clone()),
            "operatore": info.operator(a.operator_id).map(|o| o.name.clone()),
            "inizio": info.local(a.start).to_string(),
            "fine": info.local(a.end).to_string(),
            "stato": a.status.as_str(),
        })
    }

    async fn availability(&self, args: &Value, ctx: &ToolContext) -> Result<Value, ToolError> {
        let service = self.service(required(args, "servizio")?)?;
        let operator = self.operator(args)?;
        let wanted = match arg_str(args, "quando") {
            Some(q) => self.when(q, ctx)?,
            None => Wanted::Earliest,
        };
        let limit = args.get("limite").and_then(Value::as_u64).unwrap_or(3).clamp(1, 10) as usize;
        let found = self.desk.find_slots(service.id, operator, wanted, limit, ctx.now).await;
        Ok(json!({
            "servizio": service.name,
            "esatto": found.exact,
            "motivo": found.reason,
            "orari": found.slots.iter().map(|s| self.slot_json(s, ctx)).collect::<Vec<_>>(),
        }))
    }

    /// The exact slot asked for, or `SlotUnavailable` with alternatives.
    async fn exact_slot(&self, service: &Service, operator: Option<i64>, when: &str, ctx: &ToolContext) -> Result<Slot, ToolError> {
        let wanted = self.when(when, ctx)?;
        if !matches!(wanted, Wanted::At(_)) {
            let found = self.desk.find_slots(service.id, operator, wanted, 3, ctx.now).await;
            return Err(ToolError::SlotUnavailable {
                reason: "serve un orario preciso".into(),
                alternatives: found.slots.iter().map(|s| self.slot_json(s, ctx)).collect(),
            });
        }
        let found = self.desk.find_slots(service.id, operator, wanted, 3, ctx.now).await;
        match (found.exact, found.slots.first()) {
            (true, Some(slot)) => Ok(*slot),
            _ => Err(ToolError::SlotUnavailable {
                reason: found.reason.unwrap_or_else(|| "l'orario non è disponibile".into()),
                alternatives: found.slots.iter().map(|s| self.slot_json(s, ctx)).collect(),
            }),
        }
    }

    fn require_confirmation(&self, args: &Value, ctx: &ToolContext, summary: String) -> Result<(), ToolError> {
        let asked = args.get("confermato").and_then(Value::as_bool).unwrap_or(false);
        let caller_said_yes = match &ctx.scope {
            Scope::Caller { confirmed, .. } => *confirmed,
            Scope::Staff => true,
        };
        if asked && caller_said_yes {
            Ok(())
        } else {
            Err(ToolError::ConfirmationNeeded { summary })
        }
    }

    async fn create(&self, args: &Value, ctx: &ToolContext) -> Result<(Value, SideEffects), ToolError> {
        let service = self.service(required(args, "servizio")?)?;
        let operator = self.operator(args)?;
        let slot = self.exact_slot(service, operator, required(args, "quando")?, ctx).await?;
        let given_phone = arg_str(args, "telefono")
            .map(|p| l2_slots::normalize_phone(p).ok_or_else(|| ToolError::InvalidArguments(format!("telefono '{p}' non valido"))));
        let given_phone = given_phone.transpose()?;
        // A caller books for the number they call from, when known.
        let phone = match &ctx.scope {
            Scope::Caller { phone: Some(p), .. } => Some(p.clone()),
            _ => given_phone,
        }
        .ok_or_else(|| ToolError::InvalidArguments("'telefono' is required".into()))?;
        let known = self.desk.repo().client_by_phone(&phone).await.map_err(|_| ToolError::Unavailable)?;
        let name = arg_str(args, "nome").map(str::to_string).or_else(|| known.as_ref().map(|c| c.name.clone()));
        let name = name.ok_or_else(|| ToolError::InvalidArguments("'nome' is required for a new client".into()))?;
        let when = self.slot_json(&slot, ctx);
        let summary = format!(
            "{} {} con {}, a nome di {name}",
            service.name,
            when["detto"].as_str().unwrap_or(""),
            when["operatore"].as_str().unwrap_or("")
        );
        self.require_confirmation(args, ctx, summary)?;
        let client = ClientDetails { id: None, name: Some(name), phone: Some(phone), email: arg_str(args, "email").map(str::to_lowercase) };
        let (a, _) = self.desk.book(client, service.id, slot, ctx.now).await.map_err(store_failure)?;
        Ok((json!({ "ok": true, "appuntamento": self.appointment_json(&a) }), SideEffects { booking: Some(a), transfer: false }))
    }

    /// The client whose appointments a call may touch: the caller's own, or
    /// (staff) the one whose phone is given.
    async fn owner(&self, args: &Value, ctx: &ToolContext) -> Result<i64, ToolError> {
        let phone = match &ctx.scope {
            Scope::Caller { phone: Some(p), .. } => p.clone(),
            Scope::Caller { phone: None, .. } => {
                return Err(ToolError::NotAllowed("il numero del chiamante non è noto: chiedi il numero di telefono".into()))
            }
            Scope::Staff => required(args, "telefono").and_then(|p| {
                l2_slots::normalize_phone(p).ok_or_else(|| ToolError::InvalidArguments(format!("telefono '{p}' non valido")))
            })?,
        };
        let client = self.desk.repo().client_by_phone(&phone).await.map_err(|_| ToolError::Unavailable)?;
        client.map(|c| c.id).ok_or_else(|| ToolError::NotFound("cliente con questo numero".into()))
    }

    /// One of the owner's upcoming appointments, by id or by day.
    async fn target(&self, args: &Value, day_key: &str, ctx: &ToolContext) -> Result<Appointment, ToolError> {
        let owner = self.owner(args, ctx).await?;
        let upcoming = self.desk.repo().upcoming_for_client(owner, ctx.now).await.map_err(|_| ToolError::Unavailable)?;
        if let Some(id) = args.get("id").and_then(Value::as_i64) {
            return upcoming
                .into_iter()
                .find(|a| a.id == id)
                .ok_or_else(|| ToolError::NotAllowed(format!("l'appuntamento {id} non è tra quelli del cliente")));
        }
        let day = match arg_str(args, day_key) {
            Some(q) => match self.when(q, ctx)? {
                Wanted::Day(d) => Some(d),
                Wanted::At(dt) | Wanted::Range(dt, _) => Some(dt.date()),
                Wanted::Earliest => None,
            },
            None => None,
        };
        let info = self.desk.info();
        let matching: Vec<Appointment> = upcoming.into_iter().filter(|a| day.is_none_or(|d| info.local(a.start).date() == d)).collect();
        match matching.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ToolError::NotFound("nessun appuntamento in programma corrispondente".into())),
            many => Err(ToolError::InvalidArguments(format!(
                "più appuntamenti corrispondono, indica l'id: {}",
                many.iter().map(|a| self.appointment_json(a).to_string()).collect::<Vec<_>>().join("; ")
            ))),
        }
    }

    async fn cancel(&self, args: &Value, ctx: &ToolContext) -> Result<(Value, SideEffects), ToolError> {
        let target = self.target(args, "quando", ctx).await?;
        let summary = format!("cancellare {}", self.appointment_json(&target));
        self.require_confirmation(args, ctx, summary)?;
        let a = self.desk.cancel(target.id).await.map_err(store_failure)?;
        debug_assert_eq!(a.status, AppointmentStatus::Cancelled);
        Ok((json!({ "ok": true, "appuntamento": self.appointment_json(&a) }), SideEffects { booking: Some(a), transfer: false }))
    }

    async fn reschedule(&self, args: &Value, ctx: &ToolContext) -> Result<(Value, SideEffects), ToolError> {
        let target = self.target(args, "quando_attuale", ctx).await?;
        let info = self.desk.info();
        let service = info.service(target.service_id).ok_or_else(|| ToolError::NotFound("servizio".into()))?;
        let slot = self.exact_slot(service, None, required(args, "nuovo_quando")?, ctx).await?;
        let summary = format!("spostare {} a {}", self.appointment_json(&target), self.slot_json(&slot, ctx));
        self.require_confirmation(args, ctx, summary)?;
        let a = self.desk.reschedule(target.id, slot, ctx.now).await.map_err(store_failure)?;
        Ok((json!({ "ok": true, "appuntamento": self.appointment_json(&a) }), SideEffects { booking: Some(a), transfer: false }))
    }

    async fn search_clients(&self, args: &Value, ctx: &ToolContext) -> Result<Value, ToolError> {
        let query = required(args, "query")?;
        let repo = self.desk.repo();
        let clients = match &ctx.scope {
            Scope::Caller { phone, .. } => match phone {
                Some(p) => repo.client_by_phone(p).await.map_err(|_| ToolError::Unavailable)?.into_iter().collect(),
                None => Vec::new(),
            },
            Scope::Staff => match l2_slots::normalize_phone(query) {
                Some(p) => repo.client_by_phone(&p).await.map_err(|_| ToolError::Unavailable)?.into_iter().collect(),
                None => repo.clients_by_name(query).await.map_err(|_| ToolError::Unavailable)?,
            },
        };
        let mut out = Vec::new();
        for c in clients {
            let upcoming = repo.upcoming_for_client(c.id, ctx.now).await.map_err(|_| ToolError::Unavailable)?;
            out.push(json!({
                "id": c.id,
                "nome": c.name,
                "telefono": c.phone,
                "email": c.email,
                "punti_fedelta": c.loyalty_points,
                "prossimi_appuntamenti": upcoming.iter().map(|a| self.appointment_json(a)).collect::<Vec<_>>(),
            }));
        }
        Ok(json!({ "clienti": out }))
    }

    fn faq(&self, args: &Value) -> Result<Value, ToolError> {
        let q = required(args, "domanda")?;
        Ok(match self.pipeline.faqs().search(q) {
            Some(hit) => json!({ "risposta": hit.answer, "punteggio": hit.score, "faq_id": hit.faq_id }),
            None => json!({ "risposta": null, "punteggio": 0.0 }),
        })
    }

    /// `send_sms` / `send_whatsapp` / `send_email`: a caller writes only to
    /// their own number (or the address they give or have on file), after
    /// confirming the text; staff write to any client who consented to the
    /// channel. The message goes through the store's outbox.
    async fn send_message(&self, channel: MessageChannel, args: &Value, ctx: &ToolContext) -> Result<Value, ToolError> {
        let text = required(args, "testo")?;
        let limit = if channel == MessageChannel::Email { MAX_EMAIL_CHARS } else { MAX_PHONE_MESSAGE_CHARS };
        if text.chars().count() > limit {
            return Err(ToolError::InvalidArguments(format!("'testo' supera {limit} caratteri")));
        }
        let repo = self.desk.repo();
        let given_phone = || {
            required(args, "telefono")
                .and_then(|p| l2_slots::normalize_phone(p).ok_or_else(|| ToolError::InvalidArguments(format!("telefono '{p}' non valido"))))
        };
        let (recipient, shown) = match (channel, &ctx.scope) {
            (MessageChannel::Email, scope) => {
                let on_file = match scope {
                    Scope::Caller { phone: Some(p), .. } => {
                        repo.client_by_phone(p).await.map_err(|_| ToolError::Unavailable)?.and_then(|c| c.email)
                    }
                    _ => None,
                };
                let address = arg_str(args, "email")
                    .map(str::to_lowercase)
                    .or(on_file)
                    .ok_or_else(|| ToolError::InvalidArguments("'email' is required: chiedi l'indirizzo al cliente".into()))?;
                if !plausible_email(&address) {
                    return Err(ToolError::InvalidArguments(format!("indirizzo e-mail '{address}' non valido")));
                }
                (address.clone(), address)
            }
            (_, Scope::Caller { phone: Some(p), .. }) => (p.clone(), format!("al numero che finisce con {}", last_digits(p))),
            (_, Scope::Caller { phone: None, .. }) => {
                return Err(ToolError::NotAllowed("il numero del chiamante non è noto: non posso scrivergli".into()))
            }
            (_, Scope::Staff) => {
                let p = given_phone()?;
                let shown = format!("al numero che finisce con {}", last_digits(&p));
                (p, shown)
            }
        };
        let summary = format!("inviare via {} {shown} il testo: «{text}»", channel.spoken());
        self.require_confirmation(args, ctx, summary)?;
        let request = MessageRequest {
            channel,
            recipient,
            subject: arg_str(args, "oggetto").map(str::to_string),
            text: text.to_string(),
            requested_by_recipient: matches!(ctx.scope, Scope::Caller { .. }),
            session_id: ctx.session_id.clone(),
            created_at: ctx.now,
        };
        match repo.queue_message(&request).await.map_err(|_| ToolError::Unavailable)? {
            MessageQueued::Queued(id) => Ok(json!({ "ok": true, "canale": channel.as_str(), "stato": "in_coda", "id": id })),
            MessageQueued::AlreadyQueued => Ok(json!({ "ok": true, "canale": channel.as_str(), "stato": "gia_in_coda" })),
            MessageQueued::NoConsent => {
                Err(ToolError::NotAllowed(format!("il cliente non ha dato il consenso a ricevere messaggi via {}", channel.spoken())))
            }
            MessageQueued::ChannelUnavailable => {
                Err(ToolError::NotAllowed(format!("l'attività non può inviare messaggi via {}", channel.spoken())))
            }
        }
    }

    async fn callback(&self, ctx: &ToolContext, phone: Option<String>, reason: &str) -> Result<(), ToolError> {
        let caller_phone = match &ctx.scope {
            Scope::Caller { phone, .. } => phone.clone(),
            Scope::Staff => None,
        };
        let phone = caller_phone.or(phone);
        let client_id = match &phone {
            Some(p) => self.desk.repo().client_by_phone(p).await.ok().flatten().map(|c| c.id),
            None => None,
        };
        let req = CallbackRequest {
            kind: crate::history::RequestKind::Callback,
            name: None,
            client_id,
            phone,
            session_id: ctx.session_id.clone(),
            reason: reason.to_string(),
            created_at: ctx.now,
        };
        self.desk.repo().add_callback_request(&req).await.map(|_| ()).map_err(|_| ToolError::Unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_read_back_by_its_last_four_digits() {
        assert_eq!(last_digits("+393471234567"), "4567");
        assert_eq!(last_digits("+39"), "39");
    }

    #[test]
    fn only_plausible_addresses_are_written_to() {
        assert!(plausible_email("mario.rossi@example.it"));
        for bad in ["mario", "@example.it", "mario@", "mario@example", "a@b@c.it", "mario rossi@example.it", "m@.it", "m@it."] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn the_message_tools_are_in_the_registry() {
        let names: Vec<&str> = specs().iter().map(|s| s.name).collect();
        for name in ["send_sms", "send_whatsapp", "send_email"] {
            assert!(names.contains(&name), "{name}");
        }
    }
}
