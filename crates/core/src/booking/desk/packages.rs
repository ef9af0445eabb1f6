//! Several services booked one after the other ("tinta e piega", "un
//! tagliando e il cambio gomme"): each service starts when the previous one
//! ends, with the same operator when they can (after their buffer, on the
//! slot grid), otherwise with the first operator free at that moment.

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::alternatives::both_sides;
use super::{spoken_reason, spread, FrontDesk, Wanted};
use crate::booking::availability::{self, Query};
use crate::booking::{Appointment, AppointmentStatus, Channel, Id, Repository, Service, Slot};

/// Result of a search for consecutive services.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageSearch {
    /// Up to `limit` packages: one slot per service, in the order asked.
    pub packages: Vec<Vec<Slot>>,
    /// The whole package fits at the `Wanted::At` time itself.
    pub exact: bool,
    /// Why the wanted time is not possible, in Italian words, when known.
    pub reason: Option<String>,
}

impl<R: Repository> FrontDesk<R> {
    /// Searches up to `limit` packages of consecutive slots for
    /// `service_ids` (in that order) as wanted, at instant `now`:
    /// `Wanted::At` gives the exact time when the whole package fits there,
    /// otherwise the nearest starts; a day or range gives starts spread over
    /// it (or the nearest days around it); `Earliest` the first package.
    /// `operator_id` is kept for the services they perform. Fails closed:
    /// when the bookings cannot be read nothing is offered.
    pub async fn find_packages(
        &self,
        service_ids: &[Id],
        operator_id: Option<Id>,
        wanted: Wanted,
        limit: usize,
        now: Timestamp,
    ) -> PackageSearch {
        let empty = PackageSearch::default();
        let Some(services) = service_ids.iter().map(|id| self.info.service(*id).cloned()).collect::<Option<Vec<Service>>>() else {
            return empty;
        };
        let Some(first) = services.first() else { return empty };
        let b = &self.info.business;
        let today = self.info.local(now).date();
        let horizon = today.checked_add((b.rules.horizon_days as i64 + 1).days()).unwrap_or(today);
        let Ok(booked) = self.booked_around(today.to_datetime(Time::MIN), horizon.to_datetime(Time::MAX)).await else {
            return empty;
        };
        let op_first = operator_id.filter(|op| self.performs(*op, first.id));
        let day_packages = |d: Date| self.day_packages(&booked, &services, op_first, operator_id, d, now);
        let (anchor, within): (Date, Box<dyn Fn(&Slot) -> bool>) = match wanted {
            Wanted::Earliest => {
                let mut d = today;
                while d <= horizon {
                    if let Some(p) = day_packages(d).into_iter().next() {
                        return PackageSearch { packages: vec![p], exact: false, reason: None };
                    }
                    let Ok(next) = d.tomorrow() else { break };
                    d = next;
                }
                return empty;
            }
            Wanted::At(dt) => (dt.date(), Box::new(|_: &Slot| true)),
            Wanted::Day(d) => (d, Box::new(|_: &Slot| true)),
            Wanted::Range(s, e) => {
                let tz = self.info.tz.clone();
                (
                    s.date(),
                    Box::new(move |x: &Slot| {
                        let l = x.start.to_zoned(tz.clone()).datetime();
                        l >= s && l < e
                    }),
                )
            }
        };
        // The wanted day first, then the days around it, nearest first.
        let mut found: Vec<Vec<Slot>> = day_packages(anchor).into_iter().filter(|p| within(&p[0])).collect();
        if let Wanted::Range(s, e) = wanted {
            let mut d = s.date();
            while let Ok(next) = d.tomorrow() {
                d = next;
                if d > e.date() || found.len() >= 50 {
                    break;
                }
                found.extend(day_packages(d).into_iter().filter(|p| within(&p[0])));
            }
        }
        let reason = match wanted {
            Wanted::At(dt) => self.info.tz.to_timestamp(dt).ok().and_then(|start| {
                availability::check_slot(b, &self.info.operators, &booked, first, op_first, start, now)
                    .err()
                    .and_then(|e| spoken_reason(&e, b, &self.info.operators, dt.date()))
            }),
            _ => None,
        };
        if let Wanted::At(dt) = wanted {
            if let Some(p) = found.iter().find(|p| self.info.local(p[0].start) == dt) {
                return PackageSearch { packages: vec![p.clone()], exact: true, reason: None };
            }
        }
        if found.is_empty() {
            // The nearest days with room on both sides.
            let (before, after) = self.around(anchor, today, horizon, day_packages);
            let want = match wanted {
                Wanted::At(dt) => Some(dt.time()),
                Wanted::Range(s, _) => Some(s.time()),
                _ => None,
            };
            let reason = reason.or_else(|| self.closed_reason(anchor));
            let packages = both_sides(before, after, |p: &Vec<Slot>| self.info.local(p[0].start), want, limit);
            return PackageSearch { packages, exact: false, reason };
        }
        let packages = match wanted {
            Wanted::At(dt) => {
                let at = self.info.tz.to_timestamp(dt).unwrap_or(now);
                found.sort_by_key(|p| (p[0].start.duration_since(at).abs(), p[0].start));
                found.truncate(limit);
                found.sort_by_key(|p| p[0].start);
                found
            }
            _ => {
                found.sort_by_key(|p| p[0].start);
                let firsts: Vec<Slot> = found.iter().map(|p| p[0]).collect();
                let picked = spread(&firsts, limit);
                found.into_iter().filter(|p| picked.contains(&p[0])).collect()
            }
        };
        PackageSearch { packages, exact: false, reason }
    }

    fn performs(&self, operator: Id, service: Id) -> bool {
        self.info.operators.iter().any(|o| o.id == operator && o.service_ids.contains(&service))
    }

    /// Every package that can start on local day `d`, one per start time,
    /// with operators who perform every service tried first.
    fn day_packages(
        &self,
        booked: &[Appointment],
        services: &[Service],
        op_first: Option<Id>,
        wanted_op: Option<Id>,
        d: Date,
        now: Timestamp,
    ) -> Vec<Vec<Slot>> {
        let b = &self.info.business;
        let q = Query { service: &services[0], operator: op_first, from: d, to: d, now };
        let mut firsts = availability::free_slots(b, &self.info.operators, booked, &q).unwrap_or_default();
        let does_all = |op: Id| services.iter().all(|s| self.performs(op, s.id));
        firsts.sort_by_key(|s| (s.start, !does_all(s.operator_id), s.operator_id));
        let mut out: Vec<Vec<Slot>> = Vec::new();
        for f in firsts {
            if out.last().is_some_and(|p| p[0].start == f.start) {
                continue;
            }
            if let Some(p) = self.chain(booked, services, f, wanted_op, now) {
                out.push(p);
            }
        }
        out
    }

    /// The package starting with `first`, each next service right after the
    /// previous one; `None` when one of them cannot follow.
    fn chain(&self, booked: &[Appointment], services: &[Service], first: Slot, wanted_op: Option<Id>, now: Timestamp) -> Option<Vec<Slot>> {
        let b = &self.info.business;
        let buffer = SignedDuration::from_mins(i64::from(b.rules.buffer_min));
        let mut taken = booked.to_vec();
        let mut out = vec![first];
        for (i, s) in services.iter().enumerate().skip(1) {
            let prev = *out.last()?;
            taken.push(Appointment {
                id: -(i as Id),
                client_id: 0,
                operator_id: prev.operator_id,
                service_id: services[i - 1].id,
                start: prev.start,
                end: prev.end,
                status: AppointmentStatus::Booked,
                channel: Channel::Staff,
            });
            let mut tries: Vec<(Option<Id>, SignedDuration)> = Vec::new();
            for op in [wanted_op, Some(prev.operator_id)].into_iter().flatten() {
                if self.performs(op, s.id) && !tries.contains(&(Some(op), buffer)) {
                    tries.push((Some(op), buffer));
                }
            }
            tries.push((None, SignedDuration::ZERO));
            tries.push((None, buffer));
            let next = tries.iter().find_map(|(op, gap)| {
                let at = self.on_grid(prev.end.checked_add(*gap).ok()?)?;
                availability::check_slot(b, &self.info.operators, &taken, s, *op, at, now).ok()
            })?;
            out.push(next);
        }
        Some(out)
    }

    /// The first instant at or after `t` on the business's slot grid
    /// (anchored at local midnight).
    fn on_grid(&self, t: Timestamp) -> Option<Timestamp> {
        let step = i64::from(if self.info.business.rules.slot_step_min == 0 { 15 } else { self.info.business.rules.slot_step_min }) * 60;
        let local = self.info.local(t);
        let secs = i64::from(local.hour()) * 3600 + i64::from(local.minute()) * 60 + i64::from(local.second());
        let up = (step - secs % step) % step;
        let rounded = local.checked_add(SignedDuration::from_secs(up)).ok()?.with().subsec_nanosecond(0).build().ok()?;
        self.info.tz.to_timestamp(rounded).ok()
    }
}
