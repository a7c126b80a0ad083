//! Sunlogin rows as the CSV tables deskbridge attaches. Pure.
//!
//! The session log holds the session's 查询远程日志列表 row followed by the seat's 查询坐席日志 rows
//! for the session's window, one table with a `source` column saying which is which. Unix-second
//! times are written as RFC 3339 UTC; fields a row has beyond the assumed ones are kept, as
//! JSON, in the last column (`other`), so a guessed shape never loses data.

use super::assumed;
use super::correlate::text;
use crate::clock::Millis;
use crate::remote::Table;
use serde_json::{Map, Value};

fn cell(field: &str, v: &Value) -> String {
    match v {
        Value::Number(n) if assumed::TIME_FIELDS.contains(&field) => match n.as_i64() {
            Some(s) => Millis::from_unix_secs(s).rfc3339(),
            None => n.to_string(),
        },
        other => text(other),
    }
}

fn other(row: &Value, known: &[&str]) -> String {
    let rest: Map<String, Value> = row
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !known.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if rest.is_empty() {
        String::new()
    } else {
        Value::Object(rest).to_string()
    }
}

/// Every column of either row kind, in order: the remote-log fields, then the seat-log ones
/// the remote log lacks.
fn session_columns() -> Vec<&'static str> {
    let mut cols: Vec<&str> = assumed::REMOTE_LOG_FIELDS.to_vec();
    cols.extend(
        assumed::SEAT_LOG_FIELDS
            .iter()
            .filter(|f| !assumed::REMOTE_LOG_FIELDS.contains(f)),
    );
    cols
}

fn line(source: &str, row: &Value, cols: &[&str], own: &[&str]) -> Vec<String> {
    let mut out = vec![source.to_string()];
    out.extend(cols.iter().map(|c| {
        if own.contains(c) {
            cell(c, &row[*c])
        } else {
            String::new()
        }
    }));
    out.push(other(row, own));
    out
}

/// The session's own row, then the seat log of its window.
pub fn session_log(remote: &Value, seat_rows: &[Value]) -> Table {
    let cols = session_columns();
    let mut columns = vec!["source".to_string()];
    columns.extend(cols.iter().map(|c| c.to_string()));
    columns.push("other".into());
    let mut rows = vec![line(
        "remote_log",
        remote,
        &cols,
        &assumed::REMOTE_LOG_FIELDS,
    )];
    rows.extend(
        seat_rows
            .iter()
            .map(|r| line("seat_log", r, &cols, &assumed::SEAT_LOG_FIELDS)),
    );
    Table { columns, rows }
}

pub fn file_transfers(rows: &[Value]) -> Table {
    let cols = assumed::FILE_TRANSFER_FIELDS;
    Table {
        columns: cols.iter().map(|c| c.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| cols.iter().map(|c| cell(c, &r[*c])).collect())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_session_row_comes_first_then_the_seat_log_with_times_in_rfc3339() {
        let remote = json!({"log_id": "L1", "seat_account": "beth@acme.example", "device_id": "PC-7", "remote_code": "444555666",
                            "client_ip": "198.51.100.7", "start_time": 1763800000, "end_time": 1763800600, "duration": 600});
        let seat = vec![
            json!({"time": 1763800010, "seat_account": "beth@acme.example", "event": "connect", "detail": "PC-7", "extra_field": 5}),
        ];
        let t = session_log(&remote, &seat);
        assert_eq!(
            t.columns,
            [
                "source",
                "log_id",
                "seat_account",
                "device_id",
                "remote_code",
                "client_ip",
                "start_time",
                "end_time",
                "duration",
                "time",
                "event",
                "detail",
                "other"
            ]
        );
        assert_eq!(t.rows[0][0], "remote_log");
        assert_eq!(t.rows[0][6], "2025-11-22T08:26:40Z");
        assert_eq!(t.rows[0][8], "600");
        assert_eq!(t.rows[0][12], "", "nothing unknown in the remote row");
        assert_eq!(t.rows[1][0], "seat_log");
        assert_eq!(
            t.rows[1][1], "",
            "a seat row has no log id column of its own"
        );
        assert_eq!(t.rows[1][2], "beth@acme.example");
        assert_eq!(t.rows[1][9], "2025-11-22T08:26:50Z");
        assert_eq!(
            t.rows[1][12], r#"{"extra_field":5}"#,
            "unknown fields are kept"
        );
        assert!(t.rows.iter().all(|r| r.len() == t.columns.len()));
    }

    #[test]
    fn file_transfers_keep_name_size_direction_and_time() {
        let t = file_transfers(&[
            json!({"log_id": "L1", "file_name": "diag.zip", "size": 7168, "direction": "download", "time": 1763800100}),
        ]);
        assert_eq!(
            t.columns,
            ["log_id", "file_name", "size", "direction", "time"]
        );
        assert_eq!(
            t.rows,
            vec![vec![
                "L1",
                "diag.zip",
                "7168",
                "download",
                "2025-11-22T08:28:20Z"
            ]]
        );
    }
}
