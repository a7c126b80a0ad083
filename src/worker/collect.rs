//! The collecting step: fetch each artifact the rule asks for from the vendor, keep it, then
//! build and sign the files (SPEC §5, §6). Each call's result is kept before the next call is
//! made (the ticket's limits in the job, each fetched artifact in the store beside the
//! artifacts), so
//! a retry after a failure fetches only what is still missing: at a high rate of upstream
//! faults the step still ends, instead of repeating every call on every try.

use super::steps::{checkpoint, vendor, Result, StepError};
use crate::artifacts;
use crate::config::ArtifactKind;
use crate::job::{Job, Outcome};
use crate::outbound::Retry;
use crate::remote::{Availability, Collected};
use crate::runtime::{Runtime, Shared};

fn not_asked<T>() -> Availability<T> {
    Availability::NotAvailable("not collected by this rule".into())
}

/// Fetch each artifact the rule asks for, keep it, then build and sign the files. Every call's
/// result is recorded before the next call (the ticket's limits in the job, each fetched
/// artifact in the store), so a retry fetches only what is still missing.
pub(super) async fn collect(
    rt: &Runtime,
    shared: &Shared,
    itsm: &dyn crate::itsm::Itsm,
    job: &mut Job,
) -> Result<Outcome> {
    let vendor = vendor(rt, job)?;
    let plan = rt.plan(job.rule.as_deref());
    let session = job
        .session
        .clone()
        .ok_or_else(|| StepError::permanent("the job has no session"))?;
    let limits = match job.limits {
        Some(l) => l,
        None => {
            let l = itsm.attachment_limits(&job.ticket).await?;
            job.limits = Some(l);
            checkpoint(shared, job).await?;
            l
        }
    };
    for kind in &plan.collect {
        if job.collected_kinds.contains(kind) {
            continue;
        }
        let got = vendor.collect(&session, &[*kind]).await?;
        keep_fetched(shared, job, *kind, &got).await?;
        job.collected_kinds.push(*kind);
        checkpoint(shared, job).await?;
    }
    let collected = load_fetched(shared, job, &plan.collect).await?;
    let now = shared.clock.now();
    let built = artifacts::build(
        job,
        &session,
        &collected,
        &plan.collect,
        limits,
        &shared.audit,
        now,
    );
    artifacts::keep(&shared.store, &job.id, &built.files)
        .await
        .map_err(store_error)?;
    let detail = format!(
        "{} files written, {} not available",
        built.files.len(),
        built.unavailable.len()
    );
    job.artifacts = built.records;
    job.unavailable = built.unavailable;
    job.collected_at = Some(now);
    Ok(Outcome::Done(detail))
}

fn store_error(e: crate::store::StoreError) -> StepError {
    StepError {
        retry: Retry::Transient { after: None },
        message: format!("cannot keep the artifacts in the store: {e}"),
    }
}

/// Where the vendor's answer for one artifact is kept, beside the job's artifacts.
fn fetched_name(kind: ArtifactKind) -> String {
    format!("fetched-{kind:?}.json")
}

/// What the vendor answered for one artifact, kept durably in the store (any replica may take
/// the next try).
async fn keep_fetched(
    shared: &Shared,
    job: &Job,
    kind: ArtifactKind,
    got: &Collected,
) -> Result<()> {
    let bytes = serde_json::to_vec(got).unwrap_or_default();
    shared
        .store
        .put_artifact(&job.id, &fetched_name(kind), &bytes)
        .await
        .map_err(store_error)
}

/// The artifacts fetched one by one, as one answer.
async fn load_fetched(shared: &Shared, job: &Job, kinds: &[ArtifactKind]) -> Result<Collected> {
    let mut out = Collected {
        session_log: not_asked(),
        file_transfers: not_asked(),
        chat: not_asked(),
    };
    for &kind in kinds {
        let name = fetched_name(kind);
        let bytes = shared
            .store
            .get_artifact(&job.id, &name)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                StepError::permanent(format!("{name} was recorded as fetched but is not kept"))
            })?;
        let got: Collected = serde_json::from_slice(&bytes)
            .map_err(|e| StepError::permanent(format!("{name} is not what was kept: {e}")))?;
        match kind {
            ArtifactKind::SessionLog => out.session_log = got.session_log,
            ArtifactKind::FileTransferLog => out.file_transfers = got.file_transfers,
            ArtifactKind::ChatTranscript => out.chat = got.chat,
        }
    }
    Ok(out)
}
