//! Retry, cancel (with the vendor session closed and a note on the ticket), retry of every
//! failed job matching a filter, and an artifact's bytes.

use super::{Admin, AdminError};
use crate::clock::Millis;
use crate::ids::JobId;
use crate::itsm::ArtifactFile;
use crate::job::{Actor, Job, JobState};
use crate::store::{JobFilter, SaveError, StoreError};
use serde::{Deserialize, Serialize};
use tracing::info;

/// `POST /api/v1/jobs/retry`: which failed jobs to retry.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRetry {
    /// Only `failed` jobs can be retried; the field is there so the filter reads as it means.
    pub state: JobState,
    /// Only this connection's jobs.
    #[serde(default)]
    pub connection: Option<String>,
    /// Only jobs that failed at or after this time (RFC 3339), e.g. since a password rotation.
    #[serde(default)]
    pub since: Option<Millis>,
}

/// What a bulk retry did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BulkRetried {
    /// Jobs that matched the filter.
    pub matched: usize,
    /// Jobs sent back to work.
    pub retried: usize,
    /// Jobs that matched but could not be retried, and why.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Skipped {
    pub job_id: JobId,
    pub reason: String,
}

fn parse_id(id: &str) -> Result<JobId, AdminError> {
    JobId::parse(id).ok_or_else(|| AdminError::Invalid {
        field: "id",
        message: format!("{id:?} is not a job id"),
    })
}

impl Admin {
    /// One job, by its id as given in a path.
    pub async fn job(&self, id: &str) -> Result<Job, AdminError> {
        let id = parse_id(id)?;
        self.shared
            .store
            .get(&id)
            .await?
            .ok_or_else(|| AdminError::NotFound(format!("no job {id}")))
    }

    async fn save(&self, job: &mut Job) -> Result<(), AdminError> {
        match self.shared.store.save(job).await {
            Ok(()) => Ok(()),
            Err(SaveError::Conflict | SaveError::LeaseLost) => Err(AdminError::Conflict(
                "the job changed while this request was handled; try again".into(),
            )),
            Err(SaveError::Store(StoreError::Invalid(b))) => {
                Err(AdminError::Conflict(b.to_string()))
            }
            Err(SaveError::Store(e)) => Err(e.into()),
        }
    }

    /// A failed job back to work from the step that failed; the history names `by`.
    pub async fn retry(&self, id: &str, by: &Actor) -> Result<Job, AdminError> {
        let mut job = self.job(id).await?;
        self.retry_one(&mut job, by).await?;
        self.worker.wake();
        Ok(job)
    }

    async fn retry_one(&self, job: &mut Job, by: &Actor) -> Result<(), AdminError> {
        // Two live jobs on one ticket would mean two sessions and two link notes.
        let holder = self
            .shared
            .store
            .ticket_holder(job.connection.as_str(), job.ticket.as_str())
            .await?;
        if let Some(other) = holder.filter(|o| *o != job.id) {
            return Err(AdminError::Conflict(format!(
                "ticket {} already has a live job {other}: cancel it or let it finish first",
                job.ticket
            )));
        }
        job.resume_by(self.shared.clock.now(), by)
            .map_err(|e| AdminError::Conflict(e.to_string()))?;
        self.save(job).await?;
        info!(job_id = %job.id, connection = %job.connection, ticket = %job.ticket, %by, to = job.state().as_str(), "job retried");
        Ok(())
    }

    /// Every failed job matching `filter` back to work; one that cannot be is named, with why.
    pub async fn retry_matching(
        &self,
        filter: &BulkRetry,
        by: &Actor,
    ) -> Result<BulkRetried, AdminError> {
        if filter.state != JobState::Failed {
            return Err(AdminError::Invalid {
                field: "state",
                message: format!(
                    "only failed jobs can be retried, not {}",
                    filter.state.as_str()
                ),
            });
        }
        let f = JobFilter {
            state: Some(JobState::Failed),
            connection: filter.connection.clone(),
            ticket: None,
        };
        let jobs: Vec<Job> = self
            .all(&f)
            .await?
            .into_iter()
            .filter(|j| filter.since.is_none_or(|s| j.updated_at() >= s))
            .collect();
        let mut out = BulkRetried {
            matched: jobs.len(),
            retried: 0,
            skipped: vec![],
        };
        for mut job in jobs {
            match self.retry_one(&mut job, by).await {
                Ok(()) => out.retried += 1,
                Err(e) => out.skipped.push(Skipped {
                    job_id: job.id,
                    reason: e.to_string(),
                }),
            }
        }
        if out.retried > 0 {
            self.worker.wake();
        }
        Ok(out)
    }

    /// Every job matching `filter`, all pages, newest first.
    pub async fn all(&self, filter: &JobFilter) -> Result<Vec<Job>, AdminError> {
        let store = &self.shared.store;
        let (mut jobs, mut next) = store.list(filter, None, 500).await?;
        while let Some(after) = next {
            let (page, n) = store.list(filter, Some(after), 500).await?;
            jobs.extend(page);
            next = n;
        }
        Ok(jobs)
    }

    /// Stop a job. When its vendor session may be open, it is closed and the ticket told that
    /// the link posted on it no longer works; neither waits for the answer (the outcome lands
    /// in the job's history).
    pub async fn cancel(&self, id: &str, by: &Actor) -> Result<Job, AdminError> {
        let mut job = self.job(id).await?;
        let open = job
            .session_may_be_open()
            .then(|| job.session.clone())
            .flatten();
        job.cancel_by(self.shared.clock.now(), by)
            .map_err(|e| AdminError::Conflict(e.to_string()))?;
        self.save(&mut job).await?;
        info!(job_id = %job.id, connection = %job.connection, ticket = %job.ticket, %by, "job cancelled");
        if let Some(session) = open {
            let (admin, cancelled) = (self.clone(), job.clone());
            tokio::spawn(async move { admin.after_cancel(cancelled, session).await });
        }
        Ok(job)
    }

    async fn after_cancel(&self, job: Job, session: crate::remote::Session) {
        let rt = self.current.get();
        let closed = match job.vendor.as_ref().and_then(|v| rt.vendors.get(v)) {
            Some(vendor) => match vendor.close_session(&session).await {
                Ok(()) => (None, format!("vendor session {} closed", session.code)),
                Err(e) => (
                    Some(e.to_string()),
                    format!("vendor session {} could not be closed", session.code),
                ),
            },
            None => (None, "the vendor is no longer configured".into()),
        };
        let noted = crate::worker::post_cancel_note(&rt, &job).await;
        for (error, detail) in [closed, noted] {
            for _ in 0..3 {
                let Ok(Some(mut j)) = self.shared.store.get(&job.id).await else {
                    return;
                };
                j.record(self.shared.clock.now(), 1, error.clone(), detail.clone());
                if self.shared.store.save(&mut j).await.is_ok() {
                    break;
                }
            }
        }
    }

    /// Artifact `name` of job `id`, its bytes exactly as attached.
    pub async fn artifact(&self, id: &str, name: &str) -> Result<ArtifactFile, AdminError> {
        let job = self.job(id).await?;
        let data_dir = self.current.get().config.server.data_dir.clone();
        crate::artifacts::read_artifact(&self.shared.store, &data_dir, &job, name)
            .await
            .map_err(|e| match e {
                crate::artifacts::ReadError::Unknown(m) => AdminError::NotFound(m),
                crate::artifacts::ReadError::Gone(m) => AdminError::Gone(m),
                crate::artifacts::ReadError::Damaged(m) => AdminError::Internal(m),
                crate::artifacts::ReadError::Store(e) => AdminError::Store(e),
            })
    }
}
