//! The front desk: the booking operations shared by the dialogue, the
//! language model's tools and the MCP server, so their validation cannot
//! drift apart. Every write re-checks the rules of
//! [`availability`](super::availability) before the store's transactional
//! overlap check.

use std::sync::Arc;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::availability::{self, Query, Unavailable};
use super::{holidays, range_search};
use super::{Appointment, BookingError, Business, Channel, Client, Id, NewAppointment, Operator, Repository, Service, Slot, StoreError};

mod alternatives;
mod packages;
pub use packages::PackageSearch;

/// Static facts about the business a dialogue needs, loaded once.
#[derive(Debug, Clone)]
pub struct BusinessInfo {
    /// The business.
    pub business: Business,
    /// Its services.
    pub services: Vec<Service>,
    /// Its operators.
    pub operators: Vec<Operator>,
    /// Its time zone (from `business.timezone`).
    pub tz: TimeZone,
    /// The owner's greeting for callers the receptionist does not know;
    /// `None`: the standard one ([`BusinessInfo::with_greeting`]).
    pub greeting: Option<String>,
}

impl BusinessInfo {
    /// Bundles the facts; an unknown time zone is an error (fail closed).
    ///
    /// # Errors
    /// `business.timezone` is not a known IANA zone.
    pub fn new(business: Business, services: Vec<Service>, operators: Vec<Operator>) -> Result<Self, jiff::Error> {
        let tz = TimeZone::get(&business.timezone)?;
        Ok(BusinessInfo { business, services, operators, tz, greeting: None })
    }

    /// The same facts with the owner's greeting for unknown callers (blank:
    /// the standard greeting).
    #[must_use]
    pub fn with_greeting(mut self, greeting: Option<String>) -> Self {
        self.greeting = greeting.filter(|g| !g.trim().is_empty());
        self
    }
    /// Service by id.
    pub fn service(&self, id: Id) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }
    /// Service by its exact name.
    pub fn service_named(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
    /// Operator by id.
    pub fn operator(&self, id: Id) -> Option<&Operator> {
        self.operators.iter().find(|o| o.id == id)
    }
    /// Operator by its exact name.
    pub fn operator_named(&self, name: &str) -> Option<&Operator> {
        self.operators.iter().find(|o| o.name == name)
    }
    /// Local wall-clock time of an instant in the business's zone.
    pub fn local(&self, t: Timestamp) -> DateTime {
        t.to_zoned(self.tz.clone()).datetime()
    }
}

/// What the caller wants in time, as the booking engine should search it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// "la prima disponibile".
    Earliest,
    /// Any time on a local day.
    Day(Date),
    /// Within a local range `[start, end)` ("giovedì pomeriggio").
    Range(DateTime, DateTime),
    /// Exactly at a local time, else the nearest alternatives.
    At(DateTime),
}

/// Why a booking write failed, as the dialogue speaks about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteFailure {
    /// Somebody else took the slot.
    SlotTaken,
    /// Against the rules (closed, too soon…).
    NotBookable,
    /// The appointment is gone or already cancelled.
    NotFound,
    /// The database failed.
    Unavailable,
}

/// The caller's details for a booking.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ClientDetails {
    /// Known client id.
    pub id: Option<Id>,
    /// Full name.
    pub name: Option<String>,
    /// E.164 phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
}

/// Result of a slot search: free slots (UTC), nearest first or spread over
/// the day, whether the exact wanted time is free, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlotSearch {
    /// Up to `limit` slots.
    pub slots: Vec<Slot>,
    /// The `Wanted::At` time itself is free (always false otherwise).
    pub exact: bool,
    /// Why the wanted time is not possible, in Italian words, when known.
    pub reason: Option<String>,
}

/// Booking operations over a repository for one business.
pub struct FrontDesk<R> {
    repo: R,
    info: Arc<BusinessInfo>,
    channel: Channel,
}

impl<R: Repository> FrontDesk<R> {
    /// A desk over `repo` for the business in `info`; writes are tagged with `channel`.
    pub fn new(repo: R, info: Arc<BusinessInfo>, channel: Channel) -> Self {
        FrontDesk { repo, info, channel }
    }

    /// The repository.
    pub fn repo(&self) -> &R {
        &self.repo
    }

    /// The business facts.
    pub fn info(&self) -> &Arc<BusinessInfo> {
        &self.info
    }

    /// Cancels a booked appointment.
    ///
    /// # Errors
    /// [`WriteFailure::NotFound`] when it does not exist or is not booked.
    pub async fn cancel(&self, id: Id) -> Result<Appointment, WriteFailure> {
        self.repo.cancel(id).await.map_err(failure)
    }

    /// Loads the booked appointments of the window the search may look at.
    async fn booked_around(&self, from: DateTime, to: DateTime) -> Result<Vec<Appointment>, StoreError> {
        let tz = &self.info.tz;
        let start = tz.to_timestamp(from).unwrap_or(Timestamp::MIN);
        let end = tz.to_timestamp(to).unwrap_or(Timestamp::MAX);
        self.repo.booked_between(start, end).await
    }

    /// Searches free slots for a service (optionally one operator) as wanted,
    /// at instant `now`. Fails closed: when the bookings cannot be read,
    /// nothing is offered.
    pub async fn find_slots(&self, service_id: i64, operator_id: Option<i64>, wanted: Wanted, limit: usize, now: Timestamp) -> SlotSearch {
        let empty = SlotSearch::default();
        let Some(service) = self.info.service(service_id).cloned() else { return empty };
        let b = &self.info.business;
        let today = self.info.local(now).date();
        let horizon = today.checked_add((b.rules.horizon_days as i64 + 1).days()).unwrap_or(today);
        let window = match wanted {
            Wanted::Earliest => (today, horizon),
            Wanted::Day(d) => (d, d),
            Wanted::Range(s, e) => (s.date(), e.date()),
            Wanted::At(dt) => (dt.date(), dt.date()),
        };
        // Alternatives may lie anywhere in the horizon: load all of it.
        let (from, to) = (today, horizon);
        let booked = match self.booked_around(from.to_datetime(jiff::civil::Time::MIN), to.to_datetime(jiff::civil::Time::MAX)).await {
            Ok(b) => b,
            // Fail closed: without the bookings nothing is offered.
            Err(_) => return empty,
        };
        // A day the business is closed: times on both sides of it.
        if let Some((day, want)) = alternatives::one_day(wanted) {
            if let Some(reason) = self.closed_reason(day) {
                let (before, after) = self.around(day, today, horizon, |d| self.day_slots(&booked, &service, operator_id, d, now));
                let slots = alternatives::both_sides(before, after, |s: &Slot| self.info.local(s.start), want, limit);
                return SlotSearch { slots, exact: false, reason: Some(reason) };
            }
        }
        let found = self.search(&booked, &service, operator_id, wanted, window, limit, now);
        match (operator_id, alternatives::one_day(wanted)) {
            (Some(op), Some((day, _))) if !found.exact => self.with_other_operators(&booked, &service, op, wanted, day, found, now),
            _ => found,
        }
    }

    /// [`FrontDesk::find_slots`] on a day that is open (or no single day).
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        booked: &[Appointment],
        service: &Service,
        operator_id: Option<Id>,
        wanted: Wanted,
        window: (Date, Date),
        limit: usize,
        now: Timestamp,
    ) -> SlotSearch {
        let (b, ops) = (&self.info.business, &self.info.operators);
        let booked = booked.to_vec();
        let service = service.clone();
        let nearest = |at: DateTime| availability::nearest_free(b, ops, &booked, &service, operator_id, at, now, limit).unwrap_or_default();
        match wanted {
            Wanted::At(dt) => {
                let start = self.info.tz.to_timestamp(dt).ok();
                let checked = start.map(|s| availability::check_slot(b, ops, &booked, &service, operator_id, s, now));
                match checked {
                    Some(Ok(slot)) => SlotSearch { slots: vec![slot], exact: true, reason: None },
                    Some(Err(e)) => SlotSearch { slots: nearest(dt), exact: false, reason: spoken_reason(&e, b, ops, dt.date()) },
                    None => SlotSearch { slots: nearest(dt), exact: false, reason: None },
                }
            }
            Wanted::Earliest => {
                let first = availability::first_free(b, ops, &booked, &service, operator_id, now).ok().flatten();
                SlotSearch { slots: first.into_iter().collect(), exact: false, reason: None }
            }
            Wanted::Day(_) | Wanted::Range(..) => {
                let all = match wanted {
                    Wanted::Range(s, e) => {
                        range_search::free_in_range(b, ops, &booked, &service, operator_id, s, e, now).unwrap_or_default()
                    }
                    _ => {
                        let q = Query { service: &service, operator: operator_id, from: window.0, to: window.1, now };
                        availability::free_slots(b, ops, &booked, &q).unwrap_or_default()
                    }
                };
                let starts = availability::distinct_starts(&all);
                if starts.is_empty() {
                    // A window within one day ("prima delle 10", "giovedì
                    // pomeriggio"): the same window on the next days first.
                    if let Wanted::Range(s, e) = wanted {
                        let within_day = e.date() == s.date() || (e.date() == s.date().tomorrow().unwrap_or(s.date()) && e.hour() == 0);
                        let later = if within_day {
                            range_search::free_in_window_later(b, ops, &booked, &service, operator_id, s, e, 14, now).unwrap_or_default()
                        } else {
                            Vec::new()
                        };
                        let later = availability::distinct_starts(&later);
                        if !later.is_empty() {
                            return SlotSearch { slots: spread(&later, limit), exact: false, reason: None };
                        }
                    }
                    let anchor = match wanted {
                        Wanted::Range(s, _) => s,
                        _ => window.0.to_datetime(jiff::civil::time(12, 0, 0, 0)),
                    };
                    return SlotSearch { slots: nearest(anchor), exact: false, reason: None };
                }
                SlotSearch { slots: spread(&starts, limit), exact: false, reason: None }
            }
        }
    }

    /// A requested operator with nothing at the wanted time or day: why
    /// (away, off, busy), their nearest times first, then the same time (or
    /// day) with another operator.
    #[allow(clippy::too_many_arguments)]
    fn with_other_operators(
        &self,
        booked: &[Appointment],
        service: &Service,
        op: Id,
        wanted: Wanted,
        day: Date,
        mut found: SlotSearch,
        now: Timestamp,
    ) -> SlotSearch {
        let mine_that_day = found.slots.iter().any(|s| s.operator_id == op && self.info.local(s.start).date() == day);
        let others: Vec<Slot> = match wanted {
            Wanted::At(dt) => self
                .info
                .tz
                .to_timestamp(dt)
                .ok()
                .and_then(|t| availability::check_slot(&self.info.business, &self.info.operators, booked, service, None, t, now).ok())
                .into_iter()
                .collect(),
            _ if !mine_that_day => {
                let all = self.day_slots(booked, service, None, day, now);
                spread(&all, 1)
            }
            _ => Vec::new(),
        };
        let others: Vec<Slot> = others.into_iter().filter(|s| s.operator_id != op).collect();
        if found.reason.is_none() || found.reason.as_deref() == Some(TAKEN) {
            found.reason = match wanted {
                Wanted::At(_) if mine_that_day || found.reason.is_some() => {
                    self.info.operator(op).map(|o| format!("{} a quell'ora ha già un appuntamento", o.name))
                }
                _ if !mine_that_day => self.operator_day_reason(op, day),
                _ => found.reason.take(),
            };
        }
        if !others.is_empty() {
            found.slots.truncate(2);
            found.slots.extend(others);
        }
        found
    }

    /// Re-checks the slot against the rules, then writes it (the store
    /// re-checks overlaps inside its transaction), creating or updating the
    /// client by phone.
    ///
    /// # Errors
    /// `SlotTaken` when the slot was taken meanwhile, `NotBookable` when a
    /// rule forbids it or no phone is known, `Unavailable` when the store fails.
    pub async fn book(
        &self,
        client: ClientDetails,
        service_id: i64,
        slot: Slot,
        now: Timestamp,
    ) -> Result<(Appointment, Client), WriteFailure> {
        self.check(service_id, slot, now, None).await?;
        let phone = client.phone.clone().ok_or(WriteFailure::NotBookable)?;
        let name = client.name.clone().unwrap_or_else(|| "Cliente".to_string());
        // A stored client is never renamed by what a caller says: the
        // booking goes to the client on record for that number.
        let stored = self.repo.client_by_phone(&phone).await.map_err(|_| WriteFailure::Unavailable)?;
        let c = match stored {
            Some(c) => c,
            None => self.repo.upsert_client(&name, &phone, client.email.as_deref()).await.map_err(|_| WriteFailure::Unavailable)?,
        };
        let new = NewAppointment {
            client_id: c.id,
            operator_id: slot.operator_id,
            service_id,
            start: slot.start,
            end: slot.end,
            channel: self.channel,
        };
        let a = self.repo.book(new, self.info.business.rules.buffer_min).await.map_err(failure)?;
        Ok((a, c))
    }

    /// Moves a booked appointment to a new slot after the same checks as
    /// [`FrontDesk::book`].
    ///
    /// # Errors
    /// As for `book`; `NotFound` when the appointment is gone.
    pub async fn reschedule(&self, id: i64, slot: Slot, now: Timestamp) -> Result<Appointment, WriteFailure> {
        let current = self.repo.appointment(id).await.map_err(|_| WriteFailure::Unavailable)?.ok_or(WriteFailure::NotFound)?;
        self.check(current.service_id, slot, now, Some(id)).await?;
        self.repo.reschedule(id, slot.operator_id, slot.start, slot.end, self.info.business.rules.buffer_min).await.map_err(failure)
    }

    async fn check(&self, service_id: i64, slot: Slot, now: Timestamp, ignore: Option<i64>) -> Result<(), WriteFailure> {
        let service = self.info.service(service_id).ok_or(WriteFailure::NotBookable)?;
        let day_start = slot.start.checked_sub(24.hours()).unwrap_or(slot.start);
        let day_end = slot.end.checked_add(24.hours()).unwrap_or(slot.end);
        let mut booked = self.repo.booked_between(day_start, day_end).await.map_err(|_| WriteFailure::Unavailable)?;
        booked.retain(|a| Some(a.id) != ignore);
        availability::check_slot(&self.info.business, &self.info.operators, &booked, service, Some(slot.operator_id), slot.start, now)
            .map(|_| ())
            .map_err(|e| if e == Unavailable::Taken { WriteFailure::SlotTaken } else { WriteFailure::NotBookable })
    }
}

fn failure(e: BookingError) -> WriteFailure {
    match e {
        BookingError::SlotTaken => WriteFailure::SlotTaken,
        BookingError::NotBookable(_) => WriteFailure::NotBookable,
        BookingError::NotFound(_) | BookingError::NotActive(_) => WriteFailure::NotFound,
        BookingError::Store(_) => WriteFailure::Unavailable,
    }
}

/// What [`spoken_reason`] says of a taken slot.
const TAKEN: &str = "è già occupato";

/// Why a wanted time is impossible, in words the caller understands.
fn spoken_reason(e: &Unavailable, business: &Business, operators: &[Operator], day: Date) -> Option<String> {
    let name = |id: &Id| operators.iter().find(|o| o.id == *id).map(|o| o.name.clone()).unwrap_or_default();
    match e {
        Unavailable::OperatorAbsent(id, r) => Some(format!("{} {}", name(id), alternatives::absent_words(r))),
        Unavailable::OperatorOff(id) => {
            let works_that_day = operators
                .iter()
                .find(|o| o.id == *id)
                .is_none_or(|o| o.hours.is_empty() || o.hours.iter().any(|h| h.weekday == day.weekday()));
            Some(if works_that_day {
                format!("{} a quell'ora non lavora", name(id))
            } else {
                let article = if day.weekday() == jiff::civil::Weekday::Sunday { "la" } else { "il" };
                format!("{} {article} {} non lavora", name(id), crate::speak::weekday(day.weekday()))
            })
        }
        // A weekday without any opening hours is a closed day, not a closed hour.
        Unavailable::OutsideHours if !business.hours.iter().any(|h| h.weekday == day.weekday()) => {
            let article = if day.weekday() == jiff::civil::Weekday::Sunday { "la" } else { "il" };
            Some(format!("{article} {} siamo chiusi", crate::speak::weekday(day.weekday())))
        }
        Unavailable::PublicHoliday(h) => Some(format!("è {}, siamo chiusi", holidays::said(h))),
        Unavailable::Closed(r) => Some(format!("siamo chiusi: {}", r.to_lowercase())),
        Unavailable::OutsideHours => Some("siamo chiusi a quell'ora".to_string()),
        Unavailable::TooSoon(_) => Some("è troppo presto per prenotare".to_string()),
        Unavailable::TooFar(_) => Some("è troppo avanti nel calendario".to_string()),
        Unavailable::Taken => Some(TAKEN.to_string()),
        _ => None,
    }
}

/// Up to `limit` slots spread across the day (first, middle, last…).
fn spread(starts: &[Slot], limit: usize) -> Vec<Slot> {
    if starts.len() <= limit || limit < 2 {
        return starts.iter().take(limit.max(1)).copied().collect();
    }
    let n = starts.len() - 1;
    let mut out: Vec<Slot> = (0..limit).map(|i| starts[i * n / (limit - 1)]).collect();
    out.dedup();
    out
}
