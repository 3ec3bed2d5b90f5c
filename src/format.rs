//! Times as people read and type them, in the time zone of whoever is looking: their own choice in
//! settings, else the site's (admins set it; UTC until they do). The zone is a per-request value
//! (set by the site middleware, refined once the signed-in person is known), so every page, form
//! and label of a request agrees without each view passing it along. Outside a request (the command
//! line, background jobs) times are in UTC.

use std::cell::RefCell;
use std::future::Future;

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// A time zone of the IANA database ("Europe/Berlin"), or UTC.
#[derive(Clone, Copy, Debug)]
pub struct Zone {
    name: &'static str,
    tz: tz::TimeZoneRef<'static>,
}

impl Zone {
    pub const UTC: Zone = Zone { name: "UTC", tz: tz::TimeZoneRef::utc() };

    /// The zone named so (any case), if the database has it. Every request looks up its zone, so the
    /// names (sorted without regard to case) are searched by halves; a linear scan backs that up
    /// only for a name not found, which is rare (a typo in a form).
    pub fn named(name: &str) -> Option<Zone> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 {
            return None;
        }
        let lower = |text: &str| text.bytes().map(|b| b.to_ascii_lowercase()).collect::<Vec<u8>>();
        let wanted = lower(name);
        let names = tzdb::TZ_NAMES;
        let canonical = match names.binary_search_by(|n| lower(n).cmp(&wanted)) {
            Ok(at) => names[at],
            Err(_) => names.iter().find(|n| n.eq_ignore_ascii_case(name))?,
        };
        Some(Zone { name: canonical, tz: tzdb::tz_by_name(canonical)? })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Seconds east of UTC at `unix`, and the zone's short name then ("CET", "CEST", "UTC"; some
    /// zones have none, and get "UTC+05:30").
    fn at(&self, unix: i64) -> (i32, String) {
        let (offset, short) = match self.tz.find_local_time_type(unix) {
            Ok(kind) => (kind.ut_offset(), kind.time_zone_designation()),
            Err(_) => (0, ""),
        };
        let short = match short {
            "" if offset == 0 => "UTC".to_owned(),
            "" => {
                let sign = if offset < 0 { '-' } else { '+' };
                format!("UTC{sign}{:02}:{:02}", offset.abs() / 3600, offset.abs() % 3600 / 60)
            }
            // Zones without a common abbreviation are written as offsets ("+04").
            named if named.starts_with(['+', '-']) => format!("UTC{named}"),
            named => named.to_owned(),
        };
        (offset, short)
    }

    /// `unix` as a date and time in this zone.
    fn local(&self, unix: i64) -> Option<(OffsetDateTime, String)> {
        let (offset, short) = self.at(unix);
        let offset = UtcOffset::from_whole_seconds(offset).ok()?;
        Some((OffsetDateTime::from_unix_timestamp(unix).ok()?.to_offset(offset), short))
    }

    /// The first instant after `after` at which the clock in this zone shows `hour`:00, and the day
    /// of the week there then.
    pub fn next_hour(&self, after: i64, hour: u8) -> (i64, time::Weekday) {
        let Some((now, _)) = self.local(after) else { return (after + 86_400, time::Weekday::Monday) };
        let mut day = now.date();
        for _ in 0..3 {
            if let Ok(at) = time::Time::from_hms(hour.min(23), 0, 0) {
                let instant = self.instant(PrimitiveDateTime::new(day, at));
                if instant > after {
                    return (instant, day.weekday());
                }
            }
            day = day.next_day().unwrap_or(day);
        }
        (after + 86_400, day.weekday())
    }

    /// The instant a wall-clock time in this zone names. Of a time that happens twice (clocks going
    /// back) the first; a time skipped by clocks going forward is read with the offset before.
    fn instant(&self, local: PrimitiveDateTime) -> i64 {
        let as_utc = local.assume_utc().unix_timestamp();
        let (before, _) = self.at(as_utc - 86_400);
        let (after, _) = self.at(as_utc + 86_400);
        for offset in [before, after] {
            let candidate = as_utc - i64::from(offset);
            if self.at(candidate).0 == offset {
                return candidate;
            }
        }
        as_utc - i64::from(before)
    }
}

/// Every zone name people can choose, in the database's order.
pub fn zone_names() -> &'static [&'static str] {
    tzdb::TZ_NAMES
}

tokio::task_local! {
    static ZONE: RefCell<Zone>;
}

/// Runs a request's handling with `zone` as the zone its times are shown in.
pub async fn with_zone<F: Future>(zone: Zone, future: F) -> F::Output {
    ZONE.scope(RefCell::new(zone), future).await
}

/// From here on in this request, times are in `zone` (the signed-in person's choice).
pub fn use_zone(zone: Zone) {
    let _ = ZONE.try_with(|current| *current.borrow_mut() = zone);
}

/// The zone this request shows times in.
pub fn zone() -> Zone {
    ZONE.try_with(|current| *current.borrow()).unwrap_or(Zone::UTC)
}

/// "2026-11-24T22:42:00Z": for machines (exports, `datetime` attributes), always UTC.
pub fn iso_time(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// "24 Nov 2026 22:42 CET".
pub fn date_time(unix: i64) -> String {
    zone()
        .local(unix)
        .and_then(|(t, short)| {
            let text =
                t.format(format_description!("[day padding:none] [month repr:short] [year] [hour]:[minute]")).ok()?;
            Some(format!("{text} {short}"))
        })
        .unwrap_or_default()
}

/// "24 Nov 2026".
pub fn date(unix: i64) -> String {
    zone()
        .local(unix)
        .and_then(|(t, _)| t.format(format_description!("[day padding:none] [month repr:short] [year]")).ok())
        .unwrap_or_default()
}

/// "just now", "9 min ago", "3 h ago", then the date.
pub fn relative(unix: i64, now: i64) -> String {
    let age = now - unix;
    match age {
        i64::MIN..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", age / 60),
        3600..=86_399 => format!("{} h ago", age / 3600),
        _ => date(unix),
    }
}

/// The value of a `datetime-local` input for a time ("2026-11-24T22:42"), in the request's zone.
pub fn input_time(unix: i64) -> String {
    zone()
        .local(unix)
        .and_then(|(t, _)| t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]")).ok())
        .unwrap_or_default()
}

/// Reads a `datetime-local` value in the request's zone: minutes, or seconds as some browsers send
/// them; nothing else (trailing text is refused, not cut off).
pub fn parse_input_time(value: &str) -> Option<i64> {
    let value = value.trim();
    let local = PrimitiveDateTime::parse(value, format_description!("[year]-[month]-[day]T[hour]:[minute]"))
        .or_else(|_| {
            PrimitiveDateTime::parse(value, format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"))
        })
        .ok()?;
    Some(zone().instant(local))
}

/// The start of a `YYYY-MM-DD` day in the request's zone.
pub fn parse_day(value: &str) -> Option<i64> {
    let day = time::Date::parse(value.trim(), format_description!("[year]-[month]-[day]")).ok()?;
    Some(zone().instant(day.midnight()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn times_show_and_read_in_the_persons_zone() {
        // 2026-07-01 10:30 UTC is 12:30 in Berlin (summer time); 2026-12-01 10:30 UTC is 11:30.
        let (summer, winter) = (1_782_901_800, 1_796_121_000);
        assert_eq!(date_time(summer), "1 Jul 2026 10:30 UTC", "outside a request: UTC");
        let berlin = Zone::named("europe/berlin").unwrap();
        assert_eq!(berlin.name(), "Europe/Berlin");
        with_zone(Zone::UTC, async move {
            use_zone(berlin);
            assert_eq!(date_time(summer), "1 Jul 2026 12:30 CEST");
            assert_eq!(date_time(winter), "1 Dec 2026 11:30 CET");
            assert_eq!(input_time(winter), "2026-12-01T11:30");
            assert_eq!(parse_input_time("2026-12-01T11:30"), Some(winter));
            assert_eq!(parse_input_time("2026-07-01T12:30:00"), Some(summer));
            assert_eq!(parse_day("2026-12-01"), Some(winter - 11 * 3600 - 30 * 60));
            // 02:30 on 29 March 2026 does not exist in Berlin; 02:30 on 25 October happens twice.
            assert_eq!(parse_input_time("2026-03-29T02:30"), Some(1_774_747_800));
            assert_eq!(parse_input_time("2026-10-25T02:30"), Some(1_792_888_200));
            assert_eq!(parse_input_time("2026-12-01T11:30 UTC"), None);
        })
        .await;
        assert!(Zone::named("Mars/Olympus").is_none() && Zone::named("").is_none());
        assert!(zone_names().contains(&"America/New_York"));
        // Every name is found by itself and in another case.
        for name in zone_names() {
            assert_eq!(Zone::named(name).map(|z| z.name()), Some(*name));
            assert_eq!(Zone::named(&name.to_uppercase()).map(|z| z.name()), Some(*name), "{name}");
        }
    }

    #[test]
    fn recent_times_read_as_a_person_would_say_them() {
        let now = 1_800_000_000;
        assert_eq!(relative(now - 5, now), "just now");
        assert_eq!(relative(now - 600, now), "10 min ago");
        assert_eq!(relative(now - 7200, now), "2 h ago");
        assert_eq!(relative(1_764_000_000, now), "24 Nov 2025");
        assert_eq!(iso_time(1_764_000_000), "2025-11-24T16:00:00Z");
    }
}
