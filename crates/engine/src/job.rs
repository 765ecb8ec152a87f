//! What a backup job is beyond its name: the settings the catalog stores for the engine ([`JobSettings`]: backup
//! type, selected and excluded items, schedule) and when a scheduled job runs next ([`Schedule::next_after`]).
//!
//! The schedule is the Veeam `RESTJobSchedulePolicy`: `ManualOnly`; `Daily` at `dailyTime` on `dailyType` days
//! (`Everyday`, `Workdays`, `Weekends` or one weekday); `Periodically` every 5 minutes … 12 hours, shifted by
//! `periodicallyOffsetMinutes` within the interval, optionally only in the hours `periodicallyWindowSettings` allows.
//! `Daily` runs may be limited to a backup window the same way. Times are wall-clock times of the server's time zone
//! (daylight saving included: a time that does not exist that day runs at the next hour that does, an ambiguous one
//! at its first occurrence). A window is 168 booleans, one per hour of the week from Sunday 00:00.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The job settings stored in the catalog (`jobs.settings`, JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JobSettings {
    /// `EntireOrganization` (default) or `SelectedItems`.
    pub backup_type: BackupType,
    /// What a `SelectedItems` job backs up.
    pub selected_items: Vec<JobItem>,
    /// What the job leaves out.
    pub excluded_items: Vec<JobItem>,
    /// When it runs.
    pub schedule: Schedule,
    /// Failed scheduled runs are retried.
    pub retry: Retry,
}

impl JobSettings {
    /// The settings stored in `value`; `{}` (a job made before jobs had settings) is the whole organization, run by
    /// hand. Error: the stored JSON does not fit (names the field).
    pub fn from_stored(value: &serde_json::Value) -> Result<JobSettings, serde_json::Error> {
        serde_json::from_value(value.clone())
    }

    /// The JSON stored in the catalog.
    pub fn to_stored(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("job settings serialize")
    }
}

/// Backup scope of a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackupType {
    #[default]
    EntireOrganization,
    SelectedItems,
}

/// A selected or excluded object: a user (their OneDrive) or a site, by its Microsoft id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobItem {
    /// `User` or `Site`.
    pub r#type: JobItemType,
    /// The Entra user id or the SharePoint site id.
    pub id: String,
}

/// Kinds of job items this server backs up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobItemType {
    User,
    Site,
}

/// Retries of a failed scheduled run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Retry {
    pub enabled: bool,
    /// Attempts after the first.
    pub number: u32,
    /// Minutes between attempts.
    pub wait_minutes: u32,
}

impl Default for Retry {
    /// Veeam's defaults: 3 retries, 10 minutes apart.
    fn default() -> Retry {
        Retry { enabled: true, number: 3, wait_minutes: 10 }
    }
}

/// When a job runs by itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Schedule {
    /// Only when started.
    #[default]
    ManualOnly,
    /// Once a day at `time` on `days`, within `window` when there is one.
    Daily { days: DailyType, time: NaiveTime, window: Option<Window> },
    /// Every `every_minutes`, `offset_minutes` after each interval's start, within `window` when there is one.
    Periodically {
        #[serde(rename = "everyMinutes")]
        every_minutes: u32,
        #[serde(rename = "offsetMinutes")]
        offset_minutes: u32,
        window: Option<Window>,
    },
}

/// The days of a daily schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DailyType {
    Everyday,
    Workdays,
    Weekends,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl DailyType {
    fn includes(self, day: Weekday) -> bool {
        use Weekday::*;
        match self {
            DailyType::Everyday => true,
            DailyType::Workdays => !matches!(day, Sat | Sun),
            DailyType::Weekends => matches!(day, Sat | Sun),
            DailyType::Monday => day == Mon,
            DailyType::Tuesday => day == Tue,
            DailyType::Wednesday => day == Wed,
            DailyType::Thursday => day == Thu,
            DailyType::Friday => day == Fri,
            DailyType::Saturday => day == Sat,
            DailyType::Sunday => day == Sun,
        }
    }
}

/// The hours of the week in which runs may start: 168 flags from Sunday 00:00 (the vendor's layout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<bool>", into = "Vec<bool>")]
pub struct Window(Vec<bool>);

impl Window {
    /// Hours in a week.
    pub const HOURS: usize = 168;

    /// Whether a run may start in the hour of `local`.
    fn allows(&self, day: Weekday, hour: u32) -> bool {
        self.0[day.num_days_from_sunday() as usize * 24 + hour as usize]
    }
}

impl TryFrom<Vec<bool>> for Window {
    type Error = String;

    fn try_from(hours: Vec<bool>) -> Result<Window, String> {
        if hours.len() != Window::HOURS {
            return Err(format!(
                "a backup window has {} hourly flags (from Sunday 00:00), not {}",
                Window::HOURS,
                hours.len()
            ));
        }
        if !hours.contains(&true) {
            return Err("a backup window must allow at least one hour".into());
        }
        Ok(Window(hours))
    }
}

impl From<Window> for Vec<bool> {
    fn from(w: Window) -> Vec<bool> {
        w.0
    }
}

/// The days of a daily schedule by their vendor names.
pub const DAILY_TYPES: &[(&str, DailyType)] = &[
    ("Everyday", DailyType::Everyday),
    ("Workdays", DailyType::Workdays),
    ("Weekends", DailyType::Weekends),
    ("Monday", DailyType::Monday),
    ("Tuesday", DailyType::Tuesday),
    ("Wednesday", DailyType::Wednesday),
    ("Thursday", DailyType::Thursday),
    ("Friday", DailyType::Friday),
    ("Saturday", DailyType::Saturday),
    ("Sunday", DailyType::Sunday),
];

/// The intervals of a periodic schedule, in minutes (`Minutes5` … `Hours12`).
pub const PERIODS: &[(&str, u32)] = &[
    ("Minutes5", 5),
    ("Minutes10", 10),
    ("Minutes15", 15),
    ("Minutes30", 30),
    ("Hours1", 60),
    ("Hours2", 120),
    ("Hours4", 240),
    ("Hours8", 480),
    ("Hours12", 720),
];

/// How far ahead a next run is looked for (a window allowing one hour a week is found within it).
const HORIZON_DAYS: i64 = 8;

impl Schedule {
    /// The first run strictly after `after`, in time zone `tz`; `None` for `ManualOnly`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let start_day = after.with_timezone(&tz).date_naive();
        match self {
            Schedule::ManualOnly => None,
            Schedule::Daily { days, time, window } => (0..HORIZON_DAYS)
                .map(|d| start_day + Duration::days(d))
                .filter(|day| days.includes(day.weekday()))
                .filter_map(|day| local(tz, day, *time))
                .find(|t| *t > after && allowed(window, *t, tz)),
            Schedule::Periodically { every_minutes, offset_minutes, window } => {
                let every = (*every_minutes).max(1) as i64;
                (-1..HORIZON_DAYS).map(|d| start_day + Duration::days(d)).find_map(|day| {
                    let slots = (0..24 * 60 / every).map(|k| k * every + (*offset_minutes as i64 % every));
                    slots
                        .filter_map(|m| local(tz, day, NaiveTime::from_hms_opt((m / 60) as u32, (m % 60) as u32, 0)?))
                        .find(|t| *t > after && allowed(window, *t, tz))
                })
            }
        }
    }
}

/// `day` at `time` in `tz`: the first of two (clocks set back), the next existing hour for a skipped one.
fn local(tz: Tz, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let at = |t: NaiveTime| match tz.from_local_datetime(&day.and_time(t)) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => None,
    };
    at(time).or_else(|| at(time.with_hour((time.hour() + 1) % 24)?.with_minute(0)?))
}

fn allowed(window: &Option<Window>, t: DateTime<Utc>, tz: Tz) -> bool {
    let local = t.with_timezone(&tz);
    window.as_ref().is_none_or(|w| w.allows(local.weekday(), local.hour()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn daily(days: DailyType, hm: (u32, u32)) -> Schedule {
        Schedule::Daily { days, time: NaiveTime::from_hms_opt(hm.0, hm.1, 0).unwrap(), window: None }
    }

    #[test]
    fn daily_runs_at_the_local_time_on_its_days() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Monday 2026-12-07 10:00 UTC = 11:00 in Berlin: 22:00 local today is 21:00 UTC.
        let s = daily(DailyType::Everyday, (22, 0));
        assert_eq!(s.next_after(utc("2026-12-07T10:00:00Z"), berlin), Some(utc("2026-12-07T21:00:00Z")));
        // Exactly at the run: the next one is tomorrow's.
        assert_eq!(s.next_after(utc("2026-12-07T21:00:00Z"), berlin), Some(utc("2026-12-08T21:00:00Z")));
        // Workdays from Friday night: Monday.
        let w = daily(DailyType::Workdays, (1, 30));
        assert_eq!(w.next_after(utc("2026-12-11T23:00:00Z"), Tz::UTC), Some(utc("2026-12-14T01:30:00Z")));
        let sunday = daily(DailyType::Sunday, (8, 0));
        assert_eq!(sunday.next_after(utc("2026-12-07T00:00:00Z"), Tz::UTC), Some(utc("2026-12-13T08:00:00Z")));
        assert_eq!(Schedule::ManualOnly.next_after(utc("2026-12-07T00:00:00Z"), Tz::UTC), None);
    }

    #[test]
    fn daylight_saving_changes_keep_the_wall_clock() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 2026-03-29: 02:00–03:00 does not exist in Berlin; a 02:30 run starts at 03:00 local (01:00 UTC).
        let s = daily(DailyType::Everyday, (2, 30));
        assert_eq!(s.next_after(utc("2026-03-28T12:00:00Z"), berlin), Some(utc("2026-03-29T01:00:00Z")));
        // 2026-10-25: 02:30 happens twice; the first (CEST, 00:30 UTC) runs.
        assert_eq!(s.next_after(utc("2026-10-24T12:00:00Z"), berlin), Some(utc("2026-10-25T00:30:00Z")));
        // Summer and winter: 22:00 local is 20:00 and 21:00 UTC.
        let evening = daily(DailyType::Everyday, (22, 0));
        assert_eq!(evening.next_after(utc("2026-07-01T00:00:00Z"), berlin), Some(utc("2026-07-01T20:00:00Z")));
    }

    #[test]
    fn periodic_runs_follow_interval_offset_and_window() {
        let every15 = Schedule::Periodically { every_minutes: 15, offset_minutes: 5, window: None };
        assert_eq!(every15.next_after(utc("2026-12-07T10:07:00Z"), Tz::UTC), Some(utc("2026-12-07T10:20:00Z")));
        assert_eq!(every15.next_after(utc("2026-12-07T10:20:00Z"), Tz::UTC), Some(utc("2026-12-07T10:35:00Z")));
        // Across midnight.
        assert_eq!(every15.next_after(utc("2026-12-07T23:55:00Z"), Tz::UTC), Some(utc("2026-12-08T00:05:00Z")));
        // Every 4 hours within a window of Monday 12:00–14:00 only.
        let mut hours = vec![false; Window::HOURS];
        hours[24 + 12] = true;
        hours[24 + 13] = true;
        let window = Window::try_from(hours).unwrap();
        let s = Schedule::Periodically { every_minutes: 60, offset_minutes: 0, window: Some(window) };
        assert_eq!(s.next_after(utc("2026-12-07T12:10:00Z"), Tz::UTC), Some(utc("2026-12-07T13:00:00Z")));
        assert_eq!(s.next_after(utc("2026-12-07T13:00:00Z"), Tz::UTC), Some(utc("2026-12-14T12:00:00Z")));
        assert!(Window::try_from(vec![true; 24]).unwrap_err().contains("168"));
        assert!(Window::try_from(vec![false; 168]).unwrap_err().contains("at least one"));
    }

    #[test]
    fn stored_settings_round_trip_and_old_jobs_read_as_defaults() {
        let s = JobSettings {
            backup_type: BackupType::SelectedItems,
            selected_items: vec![JobItem { r#type: JobItemType::User, id: "u1".into() }],
            excluded_items: vec![],
            schedule: daily(DailyType::Weekends, (3, 0)),
            retry: Retry { enabled: false, number: 0, wait_minutes: 5 },
        };
        assert_eq!(JobSettings::from_stored(&s.to_stored()).unwrap(), s);
        assert_eq!(JobSettings::from_stored(&serde_json::json!({})).unwrap(), JobSettings::default());
    }
}
