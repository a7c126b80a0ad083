//! `deskbridge store export` / `import`: the whole store as JSON lines, to move from sled to
//! PostgreSQL (or back, or to a new machine). One line per record:
//! `{"job": {...}}`, `{"artifact": {"job", "name", "bytes"}}` (bytes in base64) and
//! `{"kv": {"key", "value"}}` (base64). Jobs are written without their lease: whatever held
//! them is gone once the data moves, and the importing service takes them up afresh.

use super::{JobFilter, Result, Store, StoreError};
use crate::ids::JobId;
use crate::job::Job;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Job(Box<Job>),
    Artifact {
        job: JobId,
        name: String,
        bytes: String,
    },
    Kv {
        key: String,
        value: String,
    },
}

/// What was moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub jobs: usize,
    pub artifacts: usize,
    pub values: usize,
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("cannot write or read the export: {e}"))
}

fn put(out: &mut impl Write, line: &Line) -> Result<()> {
    serde_json::to_writer(&mut *out, line).map_err(io)?;
    out.write_all(b"\n").map_err(io)
}

/// Write every job (oldest first), its stored artifacts and every named value to `out`.
pub async fn export(store: &Store, out: &mut impl Write) -> Result<Counts> {
    let mut n = Counts::default();
    let mut jobs = vec![];
    let (mut page, mut next) = store.list(&JobFilter::default(), None, 500).await?;
    loop {
        jobs.append(&mut page);
        let Some(after) = next else { break };
        (page, next) = store.list(&JobFilter::default(), Some(after), 500).await?;
    }
    for mut job in jobs.into_iter().rev() {
        job.lease = None;
        for a in &job.artifacts {
            if let Some(bytes) = store.get_artifact(&job.id, &a.name).await? {
                let (job, name, bytes) = (job.id, a.name.clone(), B64.encode(bytes));
                put(out, &Line::Artifact { job, name, bytes })?;
                n.artifacts += 1;
            }
        }
        put(out, &Line::Job(Box::new(job)))?;
        n.jobs += 1;
    }
    for (key, value) in store.kv_scan("").await? {
        put(
            out,
            &Line::Kv {
                key,
                value: B64.encode(value),
            },
        )?;
        n.values += 1;
    }
    out.flush().map_err(io)?;
    Ok(n)
}

/// Read an export into `store`; the line number of a bad line is in the error.
pub async fn import(store: &Store, input: impl BufRead) -> Result<Counts> {
    let mut n = Counts::default();
    let mut jobs = vec![];
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("line {}: {e}", i + 1));
        match serde_json::from_str::<Line>(&line).map_err(|e| bad(&e))? {
            Line::Job(job) => jobs.push(*job),
            Line::Artifact { job, name, bytes } => {
                let bytes = B64.decode(bytes).map_err(|e| bad(&e))?;
                store.put_artifact(&job, &name, &bytes).await?;
                n.artifacts += 1;
            }
            Line::Kv { key, value } => {
                let value = B64.decode(value).map_err(|e| bad(&e))?;
                store.kv_put(&key, &value).await?;
                n.values += 1;
            }
        }
        if jobs.len() >= 500 {
            n.jobs += jobs.len();
            store.insert_bulk(&std::mem::take(&mut jobs)).await?;
        }
    }
    n.jobs += jobs.len();
    store.insert_bulk(&jobs).await?;
    store.flush().await?;
    Ok(n)
}

/// [`export`] to a file, or to standard output.
pub async fn export_to(store: &Store, path: Option<&std::path::Path>) -> Result<Counts, String> {
    let out: Box<dyn Write> = match path {
        Some(p) => Box::new(std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(out);
    export(store, &mut out).await.map_err(|e| e.to_string())
}

/// [`import`] from a file, or from standard input.
pub async fn import_from(store: &Store, path: Option<&std::path::Path>) -> Result<Counts, String> {
    let input: Box<dyn BufRead> = match path {
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
    import(store, input).await.map_err(|e| e.to_string())
}
