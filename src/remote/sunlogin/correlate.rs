//! Which 查询远程日志列表 row is the ticket's session (contract: "How an attended session works").
//!
//! Sunlogin cannot create a session, so the session is found afterwards: a row of the seat
//! the note named, that started after the note, and, when the ticket names a device or a
//! 识别码, on that device. Among several, the earliest start wins (the agent connected for this
//! ticket first); rows another job already claimed are skipped (see `mod.rs`). Pure, so the
//! rules are tested without a server.

use super::assumed;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a Sunlogin session carries between calls (`Session::extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    /// The deskbridge job, which claims the row it settles on.
    pub job: String,
    /// The seat account the agent connects from.
    pub seat: String,
    /// A device id or 识别码 from the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Unix seconds when the instructions were issued: earlier sessions are someone else's.
    pub since: i64,
    /// The matched row, once the session has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<Value>,
}

/// A number of seconds, given as a number or a numeric string.
pub fn secs(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A field as text (ids come as numbers or strings).
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// 识别码 are read out and typed with spaces or dashes ("123 456 789"); device ids vary in case.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

pub fn log_id(row: &Value) -> String {
    text(&row[assumed::LOG_ID])
}

/// When the session ended; None while it runs.
pub fn ended_at(row: &Value) -> Option<i64> {
    secs(&row[assumed::END_TIME])
}

fn fits(row: &Value, w: &Watch) -> bool {
    let seat = text(&row[assumed::SEAT_ACCOUNT]);
    if !seat.trim().eq_ignore_ascii_case(w.seat.trim()) {
        return false;
    }
    if secs(&row[assumed::START_TIME]).is_none_or(|s| s < w.since) {
        return false;
    }
    match w.device.as_deref().map(normalise).filter(|d| !d.is_empty()) {
        None => true,
        Some(d) => [assumed::DEVICE_ID, assumed::REMOTE_CODE]
            .iter()
            .any(|f| normalise(&text(&row[*f])) == d),
    }
}

/// Whether an ended `row` that fits `me` is `me`'s rather than another live watch's of the same
/// seat. Decided from the row and the watches alone, so the answer does not depend on which job
/// polls first: a row on a device that some watch names goes to that watch; otherwise to the
/// fitting watch whose click came last before the session started (the agent connects for the
/// ticket they just clicked), ties broken by job id. Tickets that name a device or 识别码 are
/// never ambiguous.
pub fn belongs_to(row: &Value, me: &Watch, others: &[Watch]) -> bool {
    if !fits(row, me) {
        return false;
    }
    let fitting: Vec<&Watch> = std::iter::once(me)
        .chain(others)
        .filter(|w| fits(row, w))
        .collect();
    let by_device: Vec<&Watch> = fitting
        .iter()
        .copied()
        .filter(|w| w.device.is_some())
        .collect();
    let pool = if by_device.is_empty() {
        fitting
    } else {
        by_device
    };
    pool.into_iter()
        .max_by(|a, b| (a.since, &a.job).cmp(&(b.since, &b.job)))
        .is_some_and(|w| w.job == me.job)
}

/// The rows that could be the ticket's session, earliest start first.
pub fn candidates<'a>(rows: &'a [Value], w: &Watch) -> Vec<&'a Value> {
    let mut c: Vec<&Value> = rows
        .iter()
        .filter(|r| fits(r, w) && !log_id(r).is_empty())
        .collect();
    c.sort_by_key(|r| (secs(&r[assumed::START_TIME]).unwrap_or(i64::MAX), log_id(r)));
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn watch(device: Option<&str>) -> Watch {
        Watch {
            job: "j".into(),
            seat: "beth@acme.example".into(),
            device: device.map(String::from),
            since: 1_000,
            row: None,
        }
    }

    fn row(id: &str, seat: &str, device: &str, code: &str, start: i64, end: Option<i64>) -> Value {
        json!({"log_id": id, "seat_account": seat, "device_id": device, "remote_code": code, "client_ip": "198.51.100.7",
               "start_time": start, "end_time": end, "duration": end.map(|e| e - start)})
    }

    #[test]
    fn the_seats_earliest_session_after_the_note_is_chosen() {
        let rows = vec![
            row(
                "9",
                "beth@acme.example",
                "PC-9",
                "111222333",
                1_500,
                Some(1_600),
            ),
            row("7", "beth@acme.example", "PC-7", "444555666", 1_200, None),
            row(
                "5",
                "beth@acme.example",
                "PC-5",
                "777888999",
                900,
                Some(1_100),
            ),
            row(
                "6",
                "carl@acme.example",
                "PC-6",
                "000111222",
                1_100,
                Some(1_150),
            ),
        ];
        let ids: Vec<String> = candidates(&rows, &watch(None))
            .into_iter()
            .map(log_id)
            .collect();
        assert_eq!(ids, ["7", "9"], "before the note and other seats are out");
    }

    #[test]
    fn a_device_or_an_identification_code_from_the_ticket_narrows_the_choice() {
        let rows = vec![
            row("7", "Beth@Acme.example", "PC-7", "444555666", 1_200, None),
            row(
                "9",
                "beth@acme.example",
                "PC-9",
                "111222333",
                1_500,
                Some(1_600),
            ),
        ];
        let by_code: Vec<String> = candidates(&rows, &watch(Some("111 222 333")))
            .into_iter()
            .map(log_id)
            .collect();
        assert_eq!(by_code, ["9"]);
        let by_device: Vec<String> = candidates(&rows, &watch(Some("pc-7")))
            .into_iter()
            .map(log_id)
            .collect();
        assert_eq!(
            by_device,
            ["7"],
            "seat compared without case, device without dashes or case"
        );
        assert!(candidates(&rows, &watch(Some("PC-404"))).is_empty());
    }

    #[test]
    fn times_and_ids_come_as_numbers_or_strings() {
        let r = json!({"log_id": 42, "seat_account": "beth@acme.example", "start_time": "1200", "end_time": null});
        assert_eq!(candidates(std::slice::from_ref(&r), &watch(None)).len(), 1);
        assert_eq!(log_id(&r), "42");
        assert_eq!(ended_at(&r), None);
        assert_eq!(ended_at(&json!({"end_time": 1300})), Some(1300));
    }

    #[test]
    fn the_watch_round_trips_through_the_sessions_extra() {
        let w = Watch {
            row: Some(json!({"log_id": "1"})),
            ..watch(Some("PC-1"))
        };
        let back: Watch = serde_json::from_value(serde_json::to_value(&w).unwrap()).unwrap();
        assert_eq!(back, w);
    }

    fn w(job: &str, since: i64, device: Option<&str>) -> Watch {
        Watch {
            job: job.into(),
            seat: "beth@acme.example".into(),
            device: device.map(String::from),
            since,
            row: None,
        }
    }

    #[test]
    fn a_row_goes_to_the_latest_click_before_it_whoever_polls_first() {
        // Beth clicked on A at 1000 and on B at 1300; a session from 1350 is B's, one from 1100 A's
        let (a, b) = (w("A", 1_000, None), w("B", 1_300, None));
        let late = row("1", "beth@acme.example", "PC", "1", 1_350, Some(1_400));
        let early = row("2", "beth@acme.example", "PC", "2", 1_100, Some(1_200));
        assert!(
            !belongs_to(&late, &a, std::slice::from_ref(&b)),
            "A polling first must not take B's session"
        );
        assert!(belongs_to(&late, &b, std::slice::from_ref(&a)));
        assert!(
            belongs_to(&early, &a, std::slice::from_ref(&b)),
            "B's click came after it: A's"
        );
        assert!(
            !belongs_to(&early, &b, std::slice::from_ref(&a)),
            "before B's click: never B's"
        );
    }

    #[test]
    fn a_row_on_a_device_a_ticket_names_goes_to_that_ticket() {
        let named = w("N", 1_000, Some("PC-7"));
        let plain = w("P", 1_200, None);
        let on_pc7 = row("1", "beth@acme.example", "PC-7", "444", 1_300, Some(1_400));
        assert!(belongs_to(&on_pc7, &named, std::slice::from_ref(&plain)));
        assert!(
            !belongs_to(&on_pc7, &plain, std::slice::from_ref(&named)),
            "the later click loses to the named device"
        );
        let elsewhere = row("2", "beth@acme.example", "PC-9", "555", 1_300, Some(1_400));
        assert!(belongs_to(&elsewhere, &plain, std::slice::from_ref(&named)));
    }
}
