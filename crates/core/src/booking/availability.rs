//! The booking availability engine: which slots can be offered and booked.
//!
//! Everything here is pure (no I/O, no clock): the caller passes the business,
//! its operators, the already booked appointments and the current instant
//! `now`, and gets slots back.
//!
//! # Units and time
//!
//! * Instants ([`Timestamp`], [`Slot::start`], [`Slot::end`], `now`) are UTC.
//! * Opening hours, closures, absences and the slot grid are wall-clock times
//!   in the business's IANA time zone ([`Business::timezone`], e.g.
//!   `Europe/Rome`); dates passed in ([`Query::from`], [`Query::to`]) are local
//!   dates.
//! * Durations, buffers, notice and slot steps are minutes
//!   ([`Service::duration_min`], [`BookingRules`](super::BookingRules)); the
//!   horizon is in days.
//!
//! # Rules
//!
//! A slot `[start, start + duration)` of operator `o` is free when all hold
//! ("fail closed": when in doubt a slot is *not* offered):
//!
//! 1. the local start time is on the grid: seconds since local midnight are a
//!    multiple of `slot_step_min` minutes (0 is treated as 15); the grid is
//!    anchored at midnight, so with the usual on-the-quarter opening hours the
//!    first slot is the interval start;
//! 2. the local start time exists and is unambiguous (DST spring-forward gaps and
//!    fall-back folds are skipped); the end is the start *instant* plus the real
//!    elapsed duration, then read back as local time;
//! 3. the slot lies inside **one** opening interval of its local weekday (so
//!    lunch breaks are respected) and, when the operator has own hours, inside
//!    one of the operator's intervals too; a weekday without hours is closed;
//!    intervals with `end <= start` are ignored (they open nothing);
//! 4. the day is not an Italian public holiday (when
//!    `closed_on_public_holidays`), and the slot does not overlap a business
//!    closure or operator absence (whole days, or the time range on each day
//!    `from..=to`; a closure with an empty/inverted time range closes the whole
//!    day, a closure with `from > to` is read as `to..=from`);
//! 5. it does not overlap `[a.start - buffer, a.end + buffer)` for any
//!    [`AppointmentStatus::Booked`] appointment of the same operator;
//! 6. `start >= now + min_notice_min` and the local start date is at most
//!    `horizon_days` (capped at [`MAX_HORIZON_DAYS`]) after `now`'s local date.
//!
//! Only operators whose `service_ids` contain the service are considered.
//! [`free_slots`], [`first_free`], [`nearest_free`] and [`check_slot`] share the
//! same checks, so a slot returned by the first three is accepted by
//! [`check_slot`] and vice versa (as long as `booked` and `now` are the same).

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

use super::holidays::italian_public_holiday;
use super::{Appointment, AppointmentStatus, Business, Closure, Id, Operator, Service, Slot, TimeRange, WeeklyHours};

/// Slot step, in minutes, used when [`BookingRules::slot_step_min`](super::BookingRules::slot_step_min) is 0.
pub const DEFAULT_SLOT_STEP_MIN: u32 = 15;

/// Upper bound, in days, applied to [`BookingRules::horizon_days`](super::BookingRules::horizon_days)
/// so that a misconfigured horizon cannot make a search scan millions of days.
pub const MAX_HORIZON_DAYS: u32 = 3660;

const SECS_PER_DAY: i32 = 86_400;

/// Why availability cannot be computed at all (configuration or request errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvailabilityError {
    /// [`Business::timezone`] is not a known IANA time zone.
    #[error("unknown time zone {0}")]
    TimeZone(String),
    /// No operator performs the service (service id).
    #[error("no operator performs service {0}")]
    NoOperator(Id),
    /// The requested operator (first id) does not perform the service (second id).
    #[error("operator {0} does not perform service {1}")]
    OperatorCannot(Id, Id),
    /// The requested operator id is not among the operators.
    #[error("unknown operator {0}")]
    UnknownOperator(Id),
    /// The service (id) has a duration of 0 minutes.
    #[error("service {0} has a zero duration")]
    ZeroDuration(Id),
}

/// Why one concrete slot cannot be booked ([`check_slot`]); the dialogue turns
/// it into a sentence ("Il 25 aprile siamo chiusi per la Festa della Liberazione").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// The request itself is invalid (unknown time zone or operator, ...).
    #[error(transparent)]
    Invalid(#[from] AvailabilityError),
    /// Closed for the Italian public holiday with this name.
    #[error("closed for {0}")]
    PublicHoliday(&'static str),
    /// Overlaps a business closure; carries [`Closure::reason`].
    #[error("closed: {0}")]
    Closed(String),
    /// Not entirely inside one opening interval (or the weekday is closed).
    #[error("outside opening hours")]
    OutsideHours,
    /// The local start time is skipped or repeated by a daylight-saving change.
    #[error("local time skipped or repeated by a daylight-saving change")]
    DstTransition,
    /// The start is not on the slot grid (step in minutes).
    #[error("start not on the {0}-minute grid")]
    OffGrid(u32),
    /// Starts before `now + min_notice` (minimum notice in minutes).
    #[error("too soon: at least {0} minutes of notice are needed")]
    TooSoon(u32),
    /// Starts beyond the booking horizon (days).
    #[error("too far ahead: bookings are accepted up to {0} days ahead")]
    TooFar(u32),
    /// The operator (id) does not work at that time.
    #[error("operator {0} does not work at that time")]
    OperatorOff(Id),
    /// The operator (id) is absent; carries [`Closure::reason`].
    #[error("operator {0} is absent: {1}")]
    OperatorAbsent(Id, String),
    /// Overlaps (including the buffer) an appointment already booked.
    #[error("already taken")]
    Taken,
}

/// A request for free slots over a range of local dates.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The service to book (its duration in minutes is used).
    pub service: &'a Service,
    /// A specific operator, or `None` for any operator who performs the service.
    pub operator: Option<Id>,
    /// First local date (inclusive), in the business's time zone.
    pub from: Date,
    /// Last local date (inclusive), in the business's time zone.
    pub to: Date,
    /// The current instant (UTC).
    pub now: Timestamp,
}

/// All free slots of `q.service` on the local dates `q.from..=q.to`, sorted by
/// start then operator id, without duplicates.
///
/// With `q.operator == None` there is one entry per free (start, operator)
/// pair; use [`distinct_starts`] to offer each start time once. Dates outside
/// `now`'s local date ..= horizon are simply empty.
pub fn free_slots(business: &Business, operators: &[Operator], booked: &[Appointment], q: &Query) -> Result<Vec<Slot>, AvailabilityError> {
    let ctx = Ctx::new(business, q.service, q.now)?;
    let ops = select_operators(&ctx, operators, booked, q.service, q.operator)?;
    Ok(ctx.slots_between(&ops, q.from, q.to))
}

/// The earliest free slot ("la prima disponibile") from `now` to the end of
/// the booking horizon, or `None` when everything is full. With `operator ==
/// None` the lowest operator id free at that start is chosen.
pub fn first_free(
    business: &Business,
    operators: &[Operator],
    booked: &[Appointment],
    service: &Service,
    operator: Option<Id>,
    now: Timestamp,
) -> Result<Option<Slot>, AvailabilityError> {
    first_free_after(business, operators, booked, service, operator, now, None)
}

/// Like [`first_free`], but the slot must also start at or after the local
/// date-time `not_before` (business time zone), e.g. "dopo le 17".
pub fn first_free_after(
    business: &Business,
    operators: &[Operator],
    booked: &[Appointment],
    service: &Service,
    operator: Option<Id>,
    now: Timestamp,
    not_before: Option<DateTime>,
) -> Result<Option<Slot>, AvailabilityError> {
    let ctx = Ctx::new(business, service, now)?;
    let ops = select_operators(&ctx, operators, booked, service, operator)?;
    let mut date = match not_before {
        Some(nb) if nb.date() > ctx.now_date => nb.date(),
        _ => ctx.now_date,
    };
    let mut cands = Vec::new();
    while date <= ctx.last_date {
        cands.clear();
        ctx.day_candidates(date, &mut cands);
        for c in cands.iter().filter(|c| not_before.map_or(true, |nb| c.start_local >= nb)) {
            if let Some(o) = ops.iter().find(|o| ctx.check_operator(o, c).is_ok()) {
                return Ok(Some(c.slot(o.op.id)));
            }
        }
        match date.tomorrow() {
            Ok(d) => date = d,
            Err(_) => break,
        }
    }
    Ok(None)
}

/// Checks whether the slot starting at the instant `start` (UTC) can be booked
/// for `service` with `operator` (or, with `None`, any operator who performs
/// it; the lowest free id is chosen). Use it to validate a request right
/// before writing it.
///
/// Returns the [`Slot`] (with its end instant and operator) or the reason it
/// cannot be booked. Business-wide reasons are reported first (DST, too
/// soon/far, holiday, closure, hours, grid), then operator reasons; with `None`,
/// [`Unavailable::Taken`] is reported if any capable operator is booked at
/// that time, otherwise the reason of the lowest operator id.
pub fn check_slot(
    business: &Business,
    operators: &[Operator],
    booked: &[Appointment],
    service: &Service,
    operator: Option<Id>,
    start: Timestamp,
    now: Timestamp,
) -> Result<Slot, Unavailable> {
    let ctx = Ctx::new(business, service, now)?;
    let ops = select_operators(&ctx, operators, booked, service, operator)?;
    let local = ctx.tz.to_datetime(start);
    let cand = ctx.resolve(local.date(), local.time())?;
    if cand.start != start {
        // Cannot happen for a valid time zone; fail closed anyway.
        return Err(Unavailable::DstTransition);
    }
    ctx.check_business(&cand)?;
    let mut first_err = None;
    let mut taken = false;
    for o in &ops {
        match ctx.check_operator(o, &cand) {
            Ok(()) => return Ok(cand.slot(o.op.id)),
            Err(e) => {
                taken |= e == Unavailable::Taken;
                first_err.get_or_insert(e);
            }
        }
    }
    Err(if taken { Unavailable::Taken } else { first_err.unwrap_or(Unavailable::Taken) })
}

/// Up to `limit` free slots nearest to the wanted local date-time `wanted`
/// (business time zone), before or after it, sorted by distance (ties: the
/// earlier first). A free slot exactly at `wanted` comes first. Used to offer
/// alternatives when the wanted time is taken or closed.
///
/// With `operator == None` each start time appears once (see
/// [`distinct_starts`]). A `wanted` inside a DST gap or fold is resolved with
/// jiff's "compatible" strategy just to measure distances.
#[allow(clippy::too_many_arguments)]
pub fn nearest_free(
    business: &Business,
    operators: &[Operator],
    booked: &[Appointment],
    service: &Service,
    operator: Option<Id>,
    wanted: DateTime,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<Slot>, AvailabilityError> {
    let ctx = Ctx::new(business, service, now)?;
    let ops = select_operators(&ctx, operators, booked, service, operator)?;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let Ok(wanted_ts) = ctx.tz.to_ambiguous_timestamp(wanted).compatible() else {
        return Ok(Vec::new());
    };
    let dist = |s: &Slot| s.start.duration_since(wanted_ts).abs();
    let mut k: i64 = 1;
    loop {
        let from = add_days(wanted.date(), -k);
        let to = add_days(wanted.date(), k);
        let mut slots = ctx.slots_between(&ops, from, to);
        if operator.is_none() {
            slots = distinct_starts(&slots);
        }
        slots.sort_by_key(|s| (dist(s), s.start, s.operator_id));
        slots.truncate(limit);
        let covers_all = from <= ctx.now_date && to >= ctx.last_date;
        // Any slot outside the window is at least k days (minus DST slack) away.
        let safe = SignedDuration::from_hours(24 * k - 3);
        let enough = slots.len() == limit && slots.last().is_some_and(|s| dist(s) <= safe);
        if covers_all || enough || k > 40_000 {
            return Ok(slots);
        }
        k *= 2;
    }
}

/// Keeps one slot per start instant: the one with the lowest operator id.
/// The result is sorted by start. Use it to offer times to a caller who has no
/// operator preference.
pub fn distinct_starts(slots: &[Slot]) -> Vec<Slot> {
    let mut v = slots.to_vec();
    v.sort_unstable_by_key(|s| (s.start, s.operator_id));
    v.dedup_by_key(|s| s.start);
    v
}

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

/// An operator considered for the service, with its booked intervals
/// (buffer included) sorted and merged.
struct OpCtx<'a> {
    op: &'a Operator,
    /// `[start - buffer, end + buffer)` of booked appointments, sorted, disjoint.
    blocked: Vec<(Timestamp, Timestamp)>,
}

/// One candidate start on a local day, resolved to instants.
#[derive(Debug, Clone, Copy)]
struct Cand {
    /// Local date of the start.
    date: Date,
    start_local: DateTime,
    end_local: DateTime,
    start: Timestamp,
    end: Timestamp,
}

impl Cand {
    fn slot(&self, operator_id: Id) -> Slot {
        Slot { operator_id, start: self.start, end: self.end }
    }
}

/// Everything derived once per call from the business, service and `now`.
struct Ctx<'a> {
    business: &'a Business,
    tz: TimeZone,
    duration: SignedDuration,
    buffer: SignedDuration,
    /// Slot step in minutes (never 0).
    step_min: u32,
    /// Slot step in seconds, at most one day.
    step_secs: i32,
    /// `now + min_notice`; `None` when that overflows (nothing bookable).
    earliest: Option<Timestamp>,
    /// `now`'s local date.
    now_date: Date,
    /// Last bookable local date (`now_date + horizon_days`).
    last_date: Date,
}

impl<'a> Ctx<'a> {
    fn new(business: &'a Business, service: &Service, now: Timestamp) -> Result<Self, AvailabilityError> {
        let tz = TimeZone::get(&business.timezone).map_err(|_| AvailabilityError::TimeZone(business.timezone.clone()))?;
        if service.duration_min == 0 {
            return Err(AvailabilityError::ZeroDuration(service.id));
        }
        let rules = &business.rules;
        let step_min = if rules.slot_step_min == 0 { DEFAULT_SLOT_STEP_MIN } else { rules.slot_step_min };
        let now_date = tz.to_datetime(now).date();
        let last_date = add_days(now_date, i64::from(rules.horizon_days.min(MAX_HORIZON_DAYS)));
        Ok(Ctx {
            business,
            duration: SignedDuration::from_mins(i64::from(service.duration_min)),
            buffer: SignedDuration::from_mins(i64::from(rules.buffer_min)),
            step_min,
            step_secs: (step_min.min(1440) * 60) as i32,
            earliest: now.checked_add(SignedDuration::from_mins(i64::from(rules.min_notice_min))).ok(),
            now_date,
            last_date,
            tz,
        })
    }

    /// Free slots of `ops` over local dates `from..=to`, sorted by (start, operator).
    fn slots_between(&self, ops: &[OpCtx], from: Date, to: Date) -> Vec<Slot> {
        let mut out = Vec::new();
        let mut date = from.max(self.now_date);
        let to = to.min(self.last_date);
        let mut cands = Vec::new();
        while date <= to {
            cands.clear();
            self.day_candidates(date, &mut cands);
            for c in &cands {
                for o in ops {
                    if self.check_operator(o, c).is_ok() {
                        out.push(c.slot(o.op.id));
                    }
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        out.sort_unstable_by_key(|s| (s.start, s.operator_id));
        out.dedup();
        out
    }

    /// Pushes onto `out` the candidates of local `date` that pass every
    /// business-level rule, sorted by start.
    fn day_candidates(&self, date: Date, out: &mut Vec<Cand>) {
        if date < self.now_date || date > self.last_date || self.day_closed(date).is_some() {
            return;
        }
        let mut grid: Vec<i32> = Vec::new();
        for r in weekday_ranges(&self.business.hours, date) {
            let first = secs_of(r.start);
            let mut t = first.div_euclid(self.step_secs) * self.step_secs;
            if t < first {
                t += self.step_secs;
            }
            while t < SECS_PER_DAY && time_of(t).is_some_and(|tm| tm < r.end) {
                grid.push(t);
                t += self.step_secs;
            }
        }
        grid.sort_unstable();
        grid.dedup();
        for t in grid {
            let Some(time) = time_of(t) else { continue };
            if let Ok(c) = self.resolve(date, time) {
                if self.check_business(&c).is_ok() {
                    out.push(c);
                }
            }
        }
    }

    /// Resolves local `date` + `time` to a candidate; fails in a DST gap or fold.
    fn resolve(&self, date: Date, time: Time) -> Result<Cand, Unavailable> {
        let start_local = date.to_datetime(time);
        let start = self.tz.to_ambiguous_timestamp(start_local).unambiguous().map_err(|_| Unavailable::DstTransition)?;
        let end = start.checked_add(self.duration).map_err(|_| Unavailable::OutsideHours)?;
        let end_local = self.tz.to_datetime(end);
        Ok(Cand { date, start_local, end_local, start, end })
    }

    /// Whether the whole local `date` is closed: public holiday or whole-day closure.
    fn day_closed(&self, date: Date) -> Option<Unavailable> {
        if self.business.rules.closed_on_public_holidays {
            if let Some(name) = italian_public_holiday(date) {
                return Some(Unavailable::PublicHoliday(name));
            }
        }
        self.business
            .closures
            .iter()
            .find(|cl| closure_covers(cl, date) && closure_range(cl).is_none())
            .map(|cl| Unavailable::Closed(cl.reason.clone()))
    }

    /// Business-level rules: notice, horizon, holidays, closures, hours, grid.
    fn check_business(&self, c: &Cand) -> Result<(), Unavailable> {
        let rules = &self.business.rules;
        if self.earliest.map_or(true, |e| c.start < e) || c.date < self.now_date {
            return Err(Unavailable::TooSoon(rules.min_notice_min));
        }
        if c.date > self.last_date {
            return Err(Unavailable::TooFar(rules.horizon_days));
        }
        if let Some(reason) = self.day_closed(c.date) {
            return Err(reason);
        }
        let end_date = c.end_local.date();
        if end_date != c.date {
            if let Some(reason) = self.day_closed(end_date) {
                return Err(reason);
            }
        }
        if let Some(cl) = self.business.closures.iter().find(|cl| closure_blocks(cl, c)) {
            return Err(Unavailable::Closed(cl.reason.clone()));
        }
        if !weekday_ranges(&self.business.hours, c.date).any(|r| range_contains(r, c)) {
            return Err(Unavailable::OutsideHours);
        }
        let t = c.start_local.time();
        if t.subsec_nanosecond() != 0 || secs_of(t) % self.step_secs != 0 {
            return Err(Unavailable::OffGrid(self.step_min));
        }
        Ok(())
    }

    /// Operator-level rules: own hours, absences, booked appointments.
    fn check_operator(&self, o: &OpCtx, c: &Cand) -> Result<(), Unavailable> {
        let op = o.op;
        if !op.hours.is_empty() && !weekday_ranges(&op.hours, c.date).any(|r| range_contains(r, c)) {
            return Err(Unavailable::OperatorOff(op.id));
        }
        if let Some(a) = op.absences.iter().find(|a| closure_blocks(a, c)) {
            return Err(Unavailable::OperatorAbsent(op.id, a.reason.clone()));
        }
        // `blocked` is disjoint and sorted, so ends are sorted too.
        let i = o.blocked.partition_point(|b| b.1 <= c.start);
        if o.blocked.get(i).is_some_and(|b| b.0 < c.end) {
            return Err(Unavailable::Taken);
        }
        Ok(())
    }
}

/// The operators to consider, sorted by id (first occurrence of a duplicated
/// id wins), each with its blocked intervals.
fn select_operators<'a>(
    ctx: &Ctx,
    operators: &'a [Operator],
    booked: &[Appointment],
    service: &Service,
    operator: Option<Id>,
) -> Result<Vec<OpCtx<'a>>, AvailabilityError> {
    let buffer = ctx.buffer;
    let mut chosen: Vec<&Operator> = match operator {
        Some(id) => {
            let op = operators.iter().find(|o| o.id == id).ok_or(AvailabilityError::UnknownOperator(id))?;
            if !op.service_ids.contains(&service.id) {
                return Err(AvailabilityError::OperatorCannot(id, service.id));
            }
            vec![op]
        }
        None => operators.iter().filter(|o| o.service_ids.contains(&service.id)).collect(),
    };
    if chosen.is_empty() {
        return Err(AvailabilityError::NoOperator(service.id));
    }
    chosen.sort_by_key(|o| o.id); // stable: the first of duplicated ids is kept
    chosen.dedup_by_key(|o| o.id);
    Ok(chosen.into_iter().map(|op| OpCtx { op, blocked: blocked_intervals(op.id, booked, buffer) }).collect())
}

/// `[start - buffer, end + buffer)` of the operator's booked appointments,
/// sorted and merged (touching intervals merged too). An appointment with
/// `end < start` is read with its ends swapped (fail closed).
fn blocked_intervals(operator_id: Id, booked: &[Appointment], buffer: SignedDuration) -> Vec<(Timestamp, Timestamp)> {
    let mut v: Vec<(Timestamp, Timestamp)> = booked
        .iter()
        .filter(|a| a.operator_id == operator_id && a.status == AppointmentStatus::Booked)
        .map(|a| {
            let (s, e) = if a.end < a.start { (a.end, a.start) } else { (a.start, a.end) };
            (s.checked_sub(buffer).unwrap_or(Timestamp::MIN), e.checked_add(buffer).unwrap_or(Timestamp::MAX))
        })
        .collect();
    v.sort_unstable();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// Adds `days` (may be negative) to `date`, saturating at jiff's date range.
fn add_days(date: Date, days: i64) -> Date {
    Span::new().try_days(days).ok().and_then(|s| date.checked_add(s).ok()).unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

/// The well-formed (`start < end`) intervals of `hours` on `date`'s weekday.
fn weekday_ranges(hours: &[WeeklyHours], date: Date) -> impl Iterator<Item = &TimeRange> {
    let wd = date.weekday();
    hours.iter().filter(move |h| h.weekday == wd && h.range.start < h.range.end).map(|h| &h.range)
}

/// Whether the candidate lies inside `r` on its local date.
fn range_contains(r: &TimeRange, c: &Cand) -> bool {
    r.start < r.end && c.start_local.time() >= r.start && c.end_local <= c.date.to_datetime(r.end) && c.end > c.start
}

/// The closure's time range when it is a partial-day closure with a
/// well-formed range; `None` means the whole day is closed.
fn closure_range(cl: &Closure) -> Option<&TimeRange> {
    cl.range.as_ref().filter(|r| r.start < r.end)
}

/// Whether `date` is within the closure's days (`from..=to`, in either order).
fn closure_covers(cl: &Closure, date: Date) -> bool {
    let (a, b) = if cl.from <= cl.to { (cl.from, cl.to) } else { (cl.to, cl.from) };
    a <= date && date <= b
}

/// Whether the closure (or absence) overlaps the candidate on any local day it touches.
fn closure_blocks(cl: &Closure, c: &Cand) -> bool {
    let end_date = c.end_local.date();
    let days = [Some(c.date), (end_date != c.date).then_some(end_date)];
    days.into_iter().flatten().any(|d| {
        closure_covers(cl, d)
            && match closure_range(cl) {
                None => true,
                Some(r) => c.start_local < d.to_datetime(r.end) && c.end_local > d.to_datetime(r.start),
            }
    })
}

/// Seconds since midnight (sub-second part dropped).
fn secs_of(t: Time) -> i32 {
    i32::from(t.hour()) * 3600 + i32::from(t.minute()) * 60 + i32::from(t.second())
}

/// The time at `secs` seconds since midnight, if within the day.
fn time_of(secs: i32) -> Option<Time> {
    if !(0..SECS_PER_DAY).contains(&secs) {
        return None;
    }
    Time::new((secs / 3600) as i8, (secs / 60 % 60) as i8, (secs % 60) as i8, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{BookingRules, Channel, Vertical};
    use jiff::civil::{date, time, Weekday};

    const ROME: &str = "Europe/Rome";

    fn wh(weekday: Weekday, start: Time, end: Time) -> WeeklyHours {
        WeeklyHours { weekday, range: TimeRange { start, end } }
    }

    /// Mon–Sat 09:00–13:00 and 14:00–19:00, Europe/Rome, no notice, no buffer.
    fn business() -> Business {
        let mut hours = Vec::new();
        for wd in [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday, Weekday::Saturday] {
            hours.push(wh(wd, time(9, 0, 0, 0), time(13, 0, 0, 0)));
            hours.push(wh(wd, time(14, 0, 0, 0), time(19, 0, 0, 0)));
        }
        Business {
            id: 1,
            name: "Salone Test".into(),
            vertical: Vertical::Salone,
            timezone: ROME.into(),
            address: "Via Roma 1".into(),
            phone: "+390000000".into(),
            hours,
            closures: Vec::new(),
            rules: BookingRules { buffer_min: 0, min_notice_min: 0, horizon_days: 60, slot_step_min: 15, closed_on_public_holidays: true },
        }
    }

    fn service(duration_min: u32) -> Service {
        Service { id: 1, name: "Taglio".into(), synonyms: Vec::new(), duration_min, price_cents: 2500, gender: None, category: None }
    }

    fn op(id: Id) -> Operator {
        Operator { id, name: format!("Op{id}"), service_ids: vec![1], hours: Vec::new(), absences: Vec::new() }
    }

    /// The instant of a Rome wall-clock time.
    fn rome(y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        date(y, mo, d).at(h, mi, 0, 0).in_tz(ROME).unwrap().timestamp()
    }

    fn appt(id: Id, operator_id: Id, start: Timestamp, end: Timestamp) -> Appointment {
        Appointment { id, client_id: 1, operator_id, service_id: 1, start, end, status: AppointmentStatus::Booked, channel: Channel::Voice }
    }

    fn day_query(svc: &Service, operator: Option<Id>, d: Date, now: Timestamp) -> Query<'_> {
        Query { service: svc, operator, from: d, to: d, now }
    }

    /// Local "HH:MM" of each slot start.
    fn hhmm(slots: &[Slot]) -> Vec<String> {
        let tz = TimeZone::get(ROME).unwrap();
        slots.iter().map(|s| tz.to_datetime(s.start).time().strftime("%H:%M").to_string()).collect()
    }

    fn now0() -> Timestamp {
        rome(2027, 3, 1, 7, 0) // Monday
    }

    #[test]
    fn lunch_break_respected() {
        let b = business();
        let svc = service(60);
        let slots = free_slots(&b, &[op(1)], &[], &day_query(&svc, None, date(2027, 3, 2), now0())).unwrap();
        let t = hhmm(&slots);
        assert_eq!(t.first().unwrap(), "09:00");
        assert!(t.contains(&"12:00".to_string()));
        for bad in ["12:15", "12:30", "12:45", "13:00", "13:30", "18:15", "19:00"] {
            assert!(!t.contains(&bad.to_string()), "{bad} offered");
        }
        assert_eq!(t.last().unwrap(), "18:00");
        assert_eq!(slots.len(), 13 + 17);
        for s in &slots {
            assert_eq!(s.end.duration_since(s.start), SignedDuration::from_mins(60));
        }
        assert_eq!(check_slot(&b, &[op(1)], &[], &svc, Some(1), rome(2027, 3, 2, 12, 30), now0()), Err(Unavailable::OutsideHours));
    }

    #[test]
    fn closed_weekday() {
        let b = business();
        let svc = service(30);
        let sunday = date(2027, 3, 7);
        assert!(free_slots(&b, &[op(1)], &[], &day_query(&svc, None, sunday, now0())).unwrap().is_empty());
        assert_eq!(check_slot(&b, &[op(1)], &[], &svc, None, rome(2027, 3, 7, 10, 0), now0()), Err(Unavailable::OutsideHours));
    }

    #[test]
    fn closure_whole_day_and_partial() {
        let mut b = business();
        b.closures.push(Closure { from: date(2027, 3, 3), to: date(2027, 3, 3), range: None, reason: "Ferie".into() });
        b.closures.push(Closure {
            from: date(2027, 3, 4),
            to: date(2027, 3, 4),
            range: Some(TimeRange { start: time(15, 0, 0, 0), end: time(17, 0, 0, 0) }),
            reason: "Riunione".into(),
        });
        let svc = service(30);
        let ops = [op(1)];
        assert!(free_slots(&b, &ops, &[], &day_query(&svc, None, date(2027, 3, 3), now0())).unwrap().is_empty());
        assert_eq!(check_slot(&b, &ops, &[], &svc, None, rome(2027, 3, 3, 10, 0), now0()), Err(Unavailable::Closed("Ferie".into())));

        let t = hhmm(&free_slots(&b, &ops, &[], &day_query(&svc, None, date(2027, 3, 4), now0())).unwrap());
        assert!(t.contains(&"14:30".to_string()), "ends exactly when the closure starts");
        assert!(t.contains(&"17:00".to_string()), "starts exactly when the closure ends");
        for bad in ["14:45", "15:00", "16:00", "16:45"] {
            assert!(!t.contains(&bad.to_string()), "{bad} offered");
        }
        assert!(t.contains(&"09:00".to_string()));
        assert_eq!(check_slot(&b, &ops, &[], &svc, None, rome(2027, 3, 4, 14, 45), now0()), Err(Unavailable::Closed("Riunione".into())));
    }

    #[test]
    fn easter_monday_closed() {
        let mut b = business();
        let svc = service(30);
        let monday = date(2027, 3, 29);
        assert!(free_slots(&b, &[op(1)], &[], &day_query(&svc, None, monday, now0())).unwrap().is_empty());
        assert_eq!(
            check_slot(&b, &[op(1)], &[], &svc, None, rome(2027, 3, 29, 10, 0), now0()),
            Err(Unavailable::PublicHoliday("Lunedì dell'Angelo"))
        );
        b.rules.closed_on_public_holidays = false;
        assert_eq!(free_slots(&b, &[op(1)], &[], &day_query(&svc, None, monday, now0())).unwrap().len(), 15 + 19);
    }

    #[test]
    fn operator_absence() {
        let b = business();
        let svc = service(60);
        let mut o2 = op(2);
        o2.absences.push(Closure { from: date(2027, 3, 2), to: date(2027, 3, 2), range: None, reason: "Malattia".into() });
        o2.absences.push(Closure {
            from: date(2027, 3, 3),
            to: date(2027, 3, 3),
            range: Some(TimeRange { start: time(9, 0, 0, 0), end: time(11, 0, 0, 0) }),
            reason: "Dentista".into(),
        });
        let ops = [op(1), o2];
        let tue = free_slots(&b, &ops, &[], &day_query(&svc, None, date(2027, 3, 2), now0())).unwrap();
        assert!(!tue.is_empty() && tue.iter().all(|s| s.operator_id == 1));
        let wed = free_slots(&b, &ops, &[], &day_query(&svc, Some(2), date(2027, 3, 3), now0())).unwrap();
        assert_eq!(hhmm(&wed).first().unwrap(), "11:00");
        assert_eq!(
            check_slot(&b, &ops, &[], &svc, Some(2), rome(2027, 3, 2, 10, 0), now0()),
            Err(Unavailable::OperatorAbsent(2, "Malattia".into()))
        );
        // Any operator: op 1 is free.
        assert_eq!(check_slot(&b, &ops, &[], &svc, None, rome(2027, 3, 2, 10, 0), now0()).unwrap().operator_id, 1);
    }

    #[test]
    fn operator_own_hours() {
        let b = business();
        let svc = service(60);
        let mut o = op(1);
        o.hours =
            vec![wh(Weekday::Tuesday, time(10, 0, 0, 0), time(12, 0, 0, 0)), wh(Weekday::Tuesday, time(16, 0, 0, 0), time(20, 0, 0, 0))];
        let ops = [o];
        let t = hhmm(&free_slots(&b, &ops, &[], &day_query(&svc, None, date(2027, 3, 2), now0())).unwrap());
        assert_eq!(
            t,
            ["10:00", "10:15", "10:30", "10:45", "11:00", "16:00", "16:15", "16:30", "16:45", "17:00", "17:15", "17:30", "17:45", "18:00"]
        );
        // Wednesday: the operator has no hours at all.
        assert!(free_slots(&b, &ops, &[], &day_query(&svc, None, date(2027, 3, 3), now0())).unwrap().is_empty());
        assert_eq!(check_slot(&b, &ops, &[], &svc, None, rome(2027, 3, 2, 9, 0), now0()), Err(Unavailable::OperatorOff(1)));
    }

    #[test]
    fn buffer_between_appointments() {
        let mut b = business();
        b.rules.buffer_min = 10;
        let svc = service(30);
        let booked =
            [appt(1, 1, rome(2027, 3, 2, 9, 0), rome(2027, 3, 2, 10, 0)), appt(2, 1, rome(2027, 3, 2, 11, 0), rome(2027, 3, 2, 12, 0))];
        let t = hhmm(&free_slots(&b, &[op(1)], &booked, &day_query(&svc, None, date(2027, 3, 2), now0())).unwrap());
        assert_eq!(&t[..3], ["10:15", "12:15", "12:30"]);
        assert_eq!(check_slot(&b, &[op(1)], &booked, &svc, Some(1), rome(2027, 3, 2, 10, 0), now0()), Err(Unavailable::Taken));
        // Without buffer 10:00 is free again.
        b.rules.buffer_min = 0;
        let t = hhmm(&free_slots(&b, &[op(1)], &booked, &day_query(&svc, None, date(2027, 3, 2), now0())).unwrap());
        assert_eq!(&t[..3], ["10:00", "10:15", "10:30"]);
    }

    #[test]
    fn cancelled_appointments_are_ignored_and_other_operators_unaffected() {
        let b = business();
        let svc = service(60);
        let mut cancelled = appt(1, 1, rome(2027, 3, 2, 9, 0), rome(2027, 3, 2, 19, 0));
        cancelled.status = AppointmentStatus::Cancelled;
        let busy2 = appt(2, 2, rome(2027, 3, 2, 9, 0), rome(2027, 3, 2, 19, 0));
        let slots = free_slots(&b, &[op(1), op(2)], &[cancelled, busy2], &day_query(&svc, None, date(2027, 3, 2), now0())).unwrap();
        assert_eq!(slots.len(), 30);
        assert!(slots.iter().all(|s| s.operator_id == 1));
    }

    #[test]
    fn min_notice() {
        let mut b = business();
        b.rules.min_notice_min = 120;
        let svc = service(30);
        let now = rome(2027, 3, 2, 9, 0);
        let slots = free_slots(&b, &[op(1)], &[], &day_query(&svc, None, date(2027, 3, 2), now)).unwrap();
        assert_eq!(hhmm(&slots).first().unwrap(), "11:00");
        assert!(slots.iter().all(|s| s.start >= rome(2027, 3, 2, 11, 0)));
        assert_eq!(check_slot(&b, &[op(1)], &[], &svc, None, rome(2027, 3, 2, 10, 45), now), Err(Unavailable::TooSoon(120)));
        assert!(check_slot(&b, &[op(1)], &[], &svc, None, rome(2027, 3, 2, 11, 0), now).is_ok());
        // Past days are empty.
        assert!(free_slots(&b, &[op(1)], &[], &day_query(&svc, None, date(2027, 3, 1), now)).unwrap().is_empty());
    }

    #[test]
    fn horizon() {
        let b = business(); // horizon 60 days
        let svc = service(30);
        let now = rome(2027, 3, 8, 8, 0); // Monday
        let day60 = date(2027, 5, 7); // Friday
        let day61 = date(2027, 5, 8); // Saturday, open
        assert!(!free_slots(&b, &[op(1)], &[], &day_query(&svc, None, day60, now)).unwrap().is_empty());
        assert!(free_slots(&b, &[op(1)], &[], &day_query(&svc, None, day61, now)).unwrap().is_empty());
        assert_eq!(check_slot(&b, &[op(1)], &[], &svc, None, rome(2027, 5, 8, 10, 0), now), Err(Unavailable::TooFar(60)));
        // A long query is clipped to the horizon.
        let q = Query { service: &svc, operator: None, from: date(2027, 1, 1), to: date(2028, 1, 1), now };
        let all = free_slots(&b, &[op(1)], &[], &q).unwrap();
        let tz = TimeZone::get(ROME).unwrap();
        assert_eq!(tz.to_datetime(all.last().unwrap().start).date(), day60);
        assert_eq!(tz.to_datetime(all[0].start).date(), date(2027, 3, 8));
    }

    #[test]
    fn operator_errors() {
        let b = business();
        let svc = service(30);
        let mut other = op(3);
        other.service_ids = vec![99];
        let ops = [op(1), other.clone()];
        let d = date(2027, 3, 2);
        assert_eq!(free_slots(&b, &ops, &[], &day_query(&svc, Some(3), d, now0())), Err(AvailabilityError::OperatorCannot(3, 1)));
        assert_eq!(free_slots(&b, &ops, &[], &day_query(&svc, Some(7), d, now0())), Err(AvailabilityError::UnknownOperator(7)));
        assert_eq!(free_slots(&b, &[other], &[], &day_query(&svc, None, d, now0())), Err(AvailabilityError::NoOperator(1)));
        assert_eq!(
            check_slot(&b, &ops, &[], &svc, Some(3), rome(2027, 3, 2, 10, 0), now0()),
            Err(Unavailable::Invalid(AvailabilityError::OperatorCannot(3, 1)))
        );
        let with_other = free_slots(&b, &ops, &[], &day_query(&svc, None, d, now0())).unwrap();
        assert!(with_other.iter().all(|s| s.operator_id == 1));
    }

    #[test]
    fn bad_configuration() {
        let mut b = business();
        b.timezone = "Europe/Atlantide".into();
        let svc = service(30);
        assert_eq!(
            free_slots(&b, &[op(1)], &[], &day_query(&svc, None, date(2027, 3, 2), now0())),
            Err(AvailabilityError::TimeZone("Europe/Atlantide".into()))
        );
        assert_eq!(first_free(&b, &[op(1)], &[], &svc, None, now0()), Err(AvailabilityError::TimeZone("Europe/Atlantide".into())));
        let b = business();
        assert_eq!(
            free_slots(&b, &[op(1)], &[], &day_query(&service(0), None, date(2027, 3, 2), now0())),
            Err(AvailabilityError::ZeroDuration(1))
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let mut b = business();
        b.hours.push(wh(Weekday::Sunday, time(18, 0, 0, 0), time(9, 0, 0, 0))); // inverted: ignored
        b.closures.push(Closure { from: date(2027, 3, 10), to: date(2027, 3, 9), range: None, reason: "swapped".into() });
        b.closures.push(Closure {
            from: date(2027, 3, 11),
            to: date(2027, 3, 11),
            range: Some(TimeRange { start: time(12, 0, 0, 0), end: time(10, 0, 0, 0) }),
            reason: "inverted".into(),
        });
        b.rules = BookingRules {
            buffer_min: u32::MAX,
            min_notice_min: 0,
            horizon_days: u32::MAX,
            slot_step_min: 0,
            closed_on_public_holidays: true,
        };
        let svc = service(30);
        let mut weird = appt(1, 1, rome(2027, 3, 12, 12, 0), rome(2027, 3, 12, 10, 0)); // end < start
        weird.status = AppointmentStatus::Booked;
        let ops = [op(1)];
        for (from, to) in
            [(date(2027, 3, 7), date(2027, 3, 12)), (date(2027, 3, 12), date(2027, 3, 7)), (date(-9999, 1, 1), date(-9999, 1, 2))]
        {
            let q = Query { service: &svc, operator: None, from, to, now: now0() };
            let _ = free_slots(&b, &ops, &[weird.clone()], &q).unwrap();
        }
        let q = Query { service: &svc, operator: None, from: date(2027, 3, 7), to: date(2027, 3, 12), now: now0() };
        // Huge buffer around the (inverted) appointment blocks everything; the closures close 9–11 March.
        let no_appt = free_slots(&b, &ops, &[], &q).unwrap();
        let tz = TimeZone::get(ROME).unwrap();
        let days: Vec<Date> = no_appt.iter().map(|s| tz.to_datetime(s.start).date()).collect();
        assert!(days.contains(&date(2027, 3, 8)));
        assert!(!days.iter().any(|d| (date(2027, 3, 9)..=date(2027, 3, 11)).contains(d) || *d == date(2027, 3, 7)));
        assert!(free_slots(&b, &ops, &[weird.clone()], &q).unwrap().is_empty());
        // Extreme instants and durations.
        let _ = first_free(&b, &ops, &[], &service(u32::MAX), None, Timestamp::MAX);
        let _ = first_free(&b, &ops, &[], &svc, None, Timestamp::MIN);
        let _ = check_slot(&b, &ops, &[], &svc, None, Timestamp::MAX, Timestamp::MIN);
        let _ = nearest_free(&b, &ops, &[], &svc, None, DateTime::MAX, Timestamp::MAX, 5);
        let _ = nearest_free(&b, &ops, &[], &svc, None, DateTime::MIN, Timestamp::MIN, 5);
        b.rules.slot_step_min = u32::MAX;
        b.rules.min_notice_min = u32::MAX;
        assert!(free_slots(&b, &ops, &[], &q).unwrap().is_empty());
    }

    #[test]
    fn first_free_skips_a_full_day() {
        let b = business();
        let svc = service(30);
        let now = rome(2027, 3, 2, 7, 0); // Tuesday
        let booked =
            [appt(1, 1, rome(2027, 3, 2, 9, 0), rome(2027, 3, 2, 13, 0)), appt(2, 1, rome(2027, 3, 2, 14, 0), rome(2027, 3, 2, 19, 0))];
        let s = first_free(&b, &[op(1)], &booked, &svc, None, now).unwrap().unwrap();
        assert_eq!(s, Slot { operator_id: 1, start: rome(2027, 3, 3, 9, 0), end: rome(2027, 3, 3, 9, 30) });
        // With a second operator the same day is free.
        let s = first_free(&b, &[op(2), op(1)], &booked, &svc, None, now).unwrap().unwrap();
        assert_eq!((s.operator_id, s.start), (2, rome(2027, 3, 2, 9, 0)));
        let s = first_free_after(&b, &[op(1)], &booked, &svc, None, now, Some(date(2027, 3, 3).at(15, 5, 0, 0))).unwrap().unwrap();
        assert_eq!(s.start, rome(2027, 3, 3, 15, 15));
        // Nothing at all within the horizon.
        let all_year = [appt(3, 1, rome(2027, 1, 1, 0, 0), rome(2028, 1, 1, 0, 0))];
        assert_eq!(first_free(&b, &[op(1)], &all_year, &svc, None, now).unwrap(), None);
    }

    #[test]
    fn nearest_free_around_a_taken_time() {
        let b = business();
        let svc = service(60);
        let booked = [appt(1, 1, rome(2027, 3, 2, 10, 0), rome(2027, 3, 2, 11, 0))];
        let wanted = date(2027, 3, 2).at(10, 0, 0, 0);
        let near = nearest_free(&b, &[op(1)], &booked, &svc, None, wanted, now0(), 3).unwrap();
        assert_eq!(hhmm(&near), ["09:00", "11:00", "11:15"]);
        // The wanted time itself comes first when free.
        let near = nearest_free(&b, &[op(1), op(2)], &booked, &svc, None, wanted, now0(), 3).unwrap();
        assert_eq!(near[0], Slot { operator_id: 2, start: rome(2027, 3, 2, 10, 0), end: rome(2027, 3, 2, 11, 0) });
        assert_eq!(hhmm(&near), ["10:00", "09:45", "10:15"]);
        // Closed day (Sunday): alternatives on Saturday evening, then Monday morning.
        let near = nearest_free(&b, &[op(1)], &[], &svc, None, date(2027, 3, 7).at(12, 0, 0, 0), now0(), 2).unwrap();
        assert_eq!(near.iter().map(|s| s.start).collect::<Vec<_>>(), [rome(2027, 3, 6, 18, 0), rome(2027, 3, 6, 17, 45)]);
        let near = nearest_free(&b, &[op(1)], &[], &svc, None, date(2027, 3, 7).at(23, 0, 0, 0), now0(), 2).unwrap();
        assert_eq!(near.iter().map(|s| s.start).collect::<Vec<_>>(), [rome(2027, 3, 8, 9, 0), rome(2027, 3, 8, 9, 15)]);
        assert!(nearest_free(&b, &[op(1)], &[], &svc, None, wanted, now0(), 0).unwrap().is_empty());
        // Far-away wanted date: still finds the horizon's edge.
        let near = nearest_free(&b, &[op(1)], &[], &svc, None, date(2030, 1, 1).at(9, 0, 0, 0), now0(), 1).unwrap();
        assert_eq!(near[0].start, rome(2027, 4, 30, 18, 0));
    }

    #[test]
    fn distinct_starts_keeps_lowest_operator() {
        let a = Timestamp::from_second(1_000_000).unwrap();
        let b = Timestamp::from_second(2_000_000).unwrap();
        let s = |o, t: Timestamp| Slot { operator_id: o, start: t, end: t };
        let out = distinct_starts(&[s(3, b), s(2, a), s(1, b), s(4, a)]);
        assert_eq!(out, [s(2, a), s(1, b)]);
    }

    /// Business with Sunday night hours (to expose the DST gap/fold), holidays not closing.
    fn dst_business() -> Business {
        let mut b = business();
        b.rules.closed_on_public_holidays = false;
        b.hours.push(wh(Weekday::Sunday, time(0, 0, 0, 0), time(6, 0, 0, 0)));
        b.hours.push(wh(Weekday::Sunday, time(9, 0, 0, 0), time(13, 0, 0, 0)));
        b
    }

    #[test]
    fn dst_spring_forward_2027_03_28() {
        let b = dst_business();
        let svc = service(60);
        let tz = TimeZone::get(ROME).unwrap();
        let d = date(2027, 3, 28); // last Sunday of March, also Easter
        let slots = free_slots(&b, &[op(1)], &[], &day_query(&svc, None, d, now0())).unwrap();
        let t = hhmm(&slots);
        assert!(!t.iter().any(|s| s.starts_with("02:")), "no slot in the skipped hour: {t:?}");
        assert!(t.contains(&"01:45".to_string()) && t.contains(&"03:00".to_string()));
        let s130 = slots.iter().find(|s| tz.to_datetime(s.start).time() == time(1, 30, 0, 0)).unwrap();
        assert_eq!(s130.start.to_string(), "2027-03-28T00:30:00Z"); // 01:30+01:00
        assert_eq!(s130.end.to_string(), "2027-03-28T01:30:00Z");
        let end_local = s130.end.to_zoned(tz.clone());
        assert_eq!(end_local.time(), time(3, 30, 0, 0));
        assert_eq!(end_local.offset().seconds(), 7200);
        // Real elapsed duration everywhere.
        assert!(slots.iter().all(|s| s.end.duration_since(s.start) == SignedDuration::from_hours(1)));
        // 05:00 + 60 min fits the 00:00–06:00 interval; 05:15 does not.
        assert!(t.contains(&"05:00".to_string()) && !t.contains(&"05:15".to_string()));
        // 09:00 after the change is +02:00.
        let s9 = slots.iter().find(|s| tz.to_datetime(s.start).time() == time(9, 0, 0, 0)).unwrap();
        assert_eq!(s9.start.to_string(), "2027-03-28T07:00:00Z");
        assert_eq!(check_slot(&b, &[op(1)], &[], &svc, None, s130.start, now0()), Ok(*s130));
    }

    #[test]
    fn dst_fall_back_2027_10_31() {
        let b = dst_business();
        let svc = service(60);
        let tz = TimeZone::get(ROME).unwrap();
        let now = rome(2027, 10, 1, 8, 0);
        let d = date(2027, 10, 31);
        let slots = free_slots(&b, &[op(1)], &[], &day_query(&svc, None, d, now)).unwrap();
        let t = hhmm(&slots);
        assert!(!t.iter().any(|s| s.starts_with("02:")), "no slot in the repeated hour: {t:?}");
        assert!(t.contains(&"01:45".to_string()) && t.contains(&"03:00".to_string()));
        let s3 = slots.iter().find(|s| tz.to_datetime(s.start).time() == time(3, 0, 0, 0)).unwrap();
        assert_eq!(s3.start.to_string(), "2027-10-31T02:00:00Z"); // 03:00+01:00
        let s0 = slots.iter().find(|s| tz.to_datetime(s.start).time() == time(0, 0, 0, 0)).unwrap();
        assert_eq!(s0.start.to_string(), "2027-10-30T22:00:00Z"); // 00:00+02:00
        assert!(slots.iter().all(|s| s.end.duration_since(s.start) == SignedDuration::from_hours(1)));
        // Both readings of 02:30 are refused.
        for utc in ["2027-10-31T00:30:00Z", "2027-10-31T01:30:00Z"] {
            let start: Timestamp = utc.parse().unwrap();
            assert_eq!(check_slot(&b, &[op(1)], &[], &svc, None, start, now), Err(Unavailable::DstTransition));
        }
    }

    #[test]
    fn utc_instants_around_dst() {
        let b = dst_business();
        let svc = service(30);
        let first = |y, m, d, now| free_slots(&b, &[op(1)], &[], &day_query(&svc, None, date(y, m, d), now)).unwrap()[0].start.to_string();
        assert_eq!(first(2027, 3, 26, now0()), "2027-03-26T08:00:00Z"); // Friday before, +01:00
        assert_eq!(first(2027, 3, 29, now0()), "2027-03-29T07:00:00Z"); // Monday after, +02:00
        let oct = rome(2027, 10, 1, 8, 0);
        assert_eq!(first(2027, 10, 29, oct), "2027-10-29T07:00:00Z"); // +02:00
        assert_eq!(first(2027, 11, 2, oct), "2027-11-02T08:00:00Z"); // +01:00
    }

    #[test]
    fn step_grid() {
        let mut b = business();
        b.rules.slot_step_min = 20;
        b.hours = vec![wh(Weekday::Tuesday, time(9, 10, 0, 0), time(11, 0, 0, 0))];
        let svc = service(30);
        let t = hhmm(&free_slots(&b, &[op(1)], &[], &day_query(&svc, None, date(2027, 3, 2), now0())).unwrap());
        assert_eq!(t, ["09:20", "09:40", "10:00", "10:20"]);
        assert_eq!(check_slot(&b, &[op(1)], &[], &svc, None, rome(2027, 3, 2, 9, 30), now0()), Err(Unavailable::OffGrid(20)));
        b.rules.slot_step_min = 0; // treated as 15
        let t = hhmm(&free_slots(&b, &[op(1)], &[], &day_query(&svc, None, date(2027, 3, 2), now0())).unwrap());
        assert_eq!(t.first().unwrap(), "09:15");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        struct Case {
            buffer: u32,
            notice: u32,
            step: u32,
            duration: u32,
            holidays: bool,
            base: usize,
            now_offset_s: i64,
            booked: Vec<(Id, i64, i64, bool)>, // operator, start offset minutes from base, duration minutes, booked?
            closure: Option<(i64, u8, u8)>,    // day offset, start hour, hours
            op2_hours: bool,
            op3_absent_day: Option<i64>,
        }

        const BASES: [(i16, i8, i8); 3] = [(2027, 3, 25), (2027, 10, 28), (2027, 6, 1)];

        fn case() -> impl Strategy<Value = Case> {
            (
                (0u32..=30, 0u32..=300, prop::sample::select(vec![0u32, 5, 10, 15, 20, 30, 45, 60]), 5u32..=180, any::<bool>()),
                (0usize..3, 0i64..2 * 86_400),
                prop::collection::vec((1i64..=3, 0i64..6 * 1440, 5i64..=240, prop::bool::weighted(0.85)), 0..40),
                prop::option::of((0i64..6, 8u8..18, 1u8..4)),
                any::<bool>(),
                prop::option::of(0i64..6),
            )
                .prop_map(
                    |((buffer, notice, step, duration, holidays), (base, now_offset_s), booked, closure, op2_hours, op3_absent_day)| Case {
                        buffer,
                        notice,
                        step,
                        duration,
                        holidays,
                        base,
                        now_offset_s,
                        booked,
                        closure,
                        op2_hours,
                        op3_absent_day,
                    },
                )
        }

        struct World {
            b: Business,
            ops: Vec<Operator>,
            booked: Vec<Appointment>,
            svc: Service,
            now: Timestamp,
            base: Date,
        }

        fn world(c: &Case) -> World {
            let (y, m, d) = BASES[c.base];
            let base = date(y, m, d);
            let base_ts = base.at(0, 0, 0, 0).in_tz(ROME).unwrap().timestamp();
            let mut b = dst_business();
            b.rules = BookingRules {
                buffer_min: c.buffer,
                min_notice_min: c.notice,
                horizon_days: 5,
                slot_step_min: c.step,
                closed_on_public_holidays: c.holidays,
            };
            if let Some((day, h, len)) = c.closure {
                let cd = base.checked_add(Span::new().days(day)).unwrap();
                b.closures.push(Closure {
                    from: cd,
                    to: cd,
                    range: Some(TimeRange { start: time(h as i8, 0, 0, 0), end: time((h + len) as i8, 0, 0, 0) }),
                    reason: "chiuso".into(),
                });
            }
            let mut o2 = op(2);
            if c.op2_hours {
                for wd in [Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday, Weekday::Friday, Weekday::Sunday] {
                    o2.hours.push(wh(wd, time(1, 0, 0, 0), time(3, 30, 0, 0)));
                    o2.hours.push(wh(wd, time(10, 30, 0, 0), time(16, 0, 0, 0)));
                }
            }
            let mut o3 = op(3);
            if let Some(day) = c.op3_absent_day {
                let ad = base.checked_add(Span::new().days(day)).unwrap();
                o3.absences.push(Closure { from: ad, to: ad, range: None, reason: "ferie".into() });
            }
            let booked = c
                .booked
                .iter()
                .enumerate()
                .map(|(i, &(o, start, len, is_booked))| {
                    let s = base_ts.checked_add(SignedDuration::from_mins(start)).unwrap();
                    let mut a = appt(i as Id, o, s, s.checked_add(SignedDuration::from_mins(len)).unwrap());
                    if !is_booked {
                        a.status = AppointmentStatus::Cancelled;
                    }
                    a
                })
                .collect();
            let now = base_ts.checked_add(SignedDuration::from_secs(c.now_offset_s)).unwrap();
            World { b, ops: vec![op(1), o2, o3], booked, svc: service(c.duration), now, base }
        }

        /// Independent, naive re-statement of the rules for one slot.
        fn satisfies_rules(w: &World, s: &Slot) -> Result<(), String> {
            let tz = TimeZone::get(ROME).unwrap();
            let r = &w.b.rules;
            let step = if r.slot_step_min == 0 { 15 } else { r.slot_step_min } as i64;
            let ls = tz.to_datetime(s.start);
            let le = tz.to_datetime(s.end);
            let d = ls.date();
            if s.end.duration_since(s.start) != SignedDuration::from_mins(w.svc.duration_min as i64) {
                return Err("duration".into());
            }
            if tz.to_ambiguous_timestamp(ls).unambiguous().ok() != Some(s.start) {
                return Err("ambiguous start".into());
            }
            let mins = ls.time().hour() as i64 * 60 + ls.time().minute() as i64;
            if ls.time().second() != 0 || mins % step != 0 {
                return Err("grid".into());
            }
            let inside = |hours: &[WeeklyHours]| {
                hours.iter().any(|h| h.weekday == d.weekday() && ls.time() >= h.range.start && le <= d.to_datetime(h.range.end))
            };
            if !inside(&w.b.hours) {
                return Err("business hours".into());
            }
            let op = w.ops.iter().find(|o| o.id == s.operator_id).unwrap();
            if !op.hours.is_empty() && !inside(&op.hours) {
                return Err("operator hours".into());
            }
            if r.closed_on_public_holidays && crate::booking::holidays::italian_public_holiday(d).is_some() {
                return Err("holiday".into());
            }
            for cl in w.b.closures.iter().chain(op.absences.iter()) {
                if cl.from <= d && d <= cl.to {
                    match cl.range {
                        None => return Err("whole-day closure".into()),
                        Some(rg) => {
                            if ls < d.to_datetime(rg.end) && le > d.to_datetime(rg.start) {
                                return Err("partial closure".into());
                            }
                        }
                    }
                }
            }
            let buf = SignedDuration::from_mins(r.buffer_min as i64);
            for a in w.booked.iter().filter(|a| a.operator_id == s.operator_id && a.status == AppointmentStatus::Booked) {
                if a.start.checked_sub(buf).unwrap() < s.end && a.end.checked_add(buf).unwrap() > s.start {
                    return Err(format!("overlaps appointment {}", a.id));
                }
            }
            if s.start < w.now.checked_add(SignedDuration::from_mins(r.min_notice_min as i64)).unwrap() {
                return Err("notice".into());
            }
            if d > tz.to_datetime(w.now).date().checked_add(Span::new().days(r.horizon_days as i64)).unwrap() {
                return Err("horizon".into());
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(96))]

            #[test]
            fn every_slot_satisfies_the_rules(c in case()) {
                let w = world(&c);
                let q = Query { service: &w.svc, operator: None, from: w.base, to: w.base.checked_add(Span::new().days(7)).unwrap(), now: w.now };
                let slots = free_slots(&w.b, &w.ops, &w.booked, &q).unwrap();
                prop_assert!(slots.windows(2).all(|p| (p[0].start, p[0].operator_id) < (p[1].start, p[1].operator_id)), "sorted, no duplicates");
                for s in &slots {
                    if let Err(why) = satisfies_rules(&w, s) {
                        prop_assert!(false, "slot {:?} breaks rule: {}", s, why);
                    }
                    prop_assert_eq!(check_slot(&w.b, &w.ops, &w.booked, &w.svc, Some(s.operator_id), s.start, w.now), Ok(*s));
                }
                // Completeness on the grid: anything check_slot accepts is offered.
                let tz = TimeZone::get(ROME).unwrap();
                let step = if c.step == 0 { 15 } else { c.step } as i64;
                for day in 0..3i64 {
                    let d = w.base.checked_add(Span::new().days(day)).unwrap();
                    let mut m = 0;
                    while m < 1440 {
                        let local = d.to_datetime(time((m / 60) as i8, (m % 60) as i8, 0, 0));
                        if let Ok(ts) = tz.to_ambiguous_timestamp(local).unambiguous() {
                            for o in &w.ops {
                                let ok = check_slot(&w.b, &w.ops, &w.booked, &w.svc, Some(o.id), ts, w.now).is_ok();
                                let offered = slots.iter().any(|s| s.start == ts && s.operator_id == o.id);
                                prop_assert_eq!(ok, offered, "op {} at {}", o.id, local);
                            }
                        }
                        m += step;
                    }
                }
                // first_free is the first distinct start.
                let ff = first_free(&w.b, &w.ops, &w.booked, &w.svc, None, w.now).unwrap();
                let all = free_slots(&w.b, &w.ops, &w.booked, &Query { from: Date::MIN, to: Date::MAX, ..q }).unwrap();
                prop_assert_eq!(ff, all.first().copied());
            }
        }
    }
}
