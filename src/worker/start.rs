//! The first step of a job's life (SPEC §5: queued → session_created): read the ticket, decide
//! the rule on it, create the vendor session. Each part is recorded before the next, so a retry
//! after a failure repeats only what failed: the read is kept (and decided again, purely), a
//! create call is recorded before it is made (so a retry after a lost answer looks for the
//! session it may have made, or says it cannot), the session the moment it exists.

use super::steps::{checkpoint, vendor, Result, StepError};
use crate::job::{Job, JobState, Outcome};
use crate::outbound::Retry;
use crate::remote::{FindCreated, SessionRequest};
use crate::rules::{self, Certainty};
use crate::runtime::{Runtime, Shared};

/// Read the ticket, decide the rule on it, create the vendor session. Each part is recorded
/// before the next, so a retry after a failure repeats only what failed: the read is kept (and
/// decided again, purely), a create call is recorded before it is made, the session the moment
/// it exists.
pub(super) async fn start(
    rt: &Runtime,
    shared: &Shared,
    itsm: &dyn crate::itsm::Itsm,
    job: &mut Job,
) -> Result<Outcome> {
    if let Some(s) = &job.session {
        // Created and recorded before a crash or a failed save: never create a second one.
        let detail = format!("session {} was created before a restart", s.code);
        return Ok(Outcome::Done(detail));
    }
    let decision = match job.ticket_read.clone() {
        Some(ticket) => decide(rt, job, &ticket),
        None => {
            let ticket = read(rt, itsm, job).await?;
            job.ticket_number = ticket.number.clone().or(job.ticket_number.take());
            job.ticket_read = Some(ticket.clone());
            let decision = decide(rt, job, &ticket);
            if decision.chosen.is_some() {
                checkpoint(shared, job).await?;
            }
            decision
        }
    };
    let Some(i) = decision.chosen else {
        return Ok(Outcome::NoRule(decision.why_none()));
    };
    let rule = &rt.config.rules[i];
    job.rule = Some(rule.name.clone());
    job.vendor = Some(rule.vendor.clone());
    let vendor = vendor(rt, job)?;
    let req = session_request(job, rule);
    let (session, how) = create_once(shared, &*vendor, job, &req).await?;
    for link in [&session.end_user_link, &session.technician_link]
        .into_iter()
        .flatten()
    {
        if link
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        {
            return Err(StepError::permanent(format!(
                "{} gave a link that is not a URL: {link:?}",
                vendor.id()
            )));
        }
    }
    let mut detail = format!(
        "rule {:?} matched; {} session {} {how}",
        rule.name,
        vendor.id(),
        session.code
    );
    if let Some(t) = decision.trace.iter().find(|t| t.rule == rule.name) {
        if t.outcome == rules::Outcome::Undecided {
            detail.push_str(&format!(" ({})", t.reason));
        }
    }
    job.session = Some(session.clone());
    // Record the session before anything else can go wrong: a session the job forgets is one
    // nobody closes. If an admin cancelled the job meanwhile, close it at once.
    if let Err(e) = checkpoint(shared, job).await {
        let cancelled = matches!(shared.store.get(&job.id).await, Ok(Some(j)) if j.state() == JobState::Cancelled);
        if cancelled {
            if let Err(close) = vendor.close_session(&session).await {
                tracing::warn!(error = %close, "a session created for a cancelled job could not be closed");
            }
        }
        return Err(e);
    }
    Ok(Outcome::Done(detail))
}

/// The ticket as read, with what no rule needed taken from the webhook.
async fn read(
    rt: &Runtime,
    itsm: &dyn crate::itsm::Itsm,
    job: &Job,
) -> Result<crate::ticket::Ticket> {
    let mut wants = rules::wants(&rt.config.rules, job.connection.as_str());
    // The agent who clicked runs the session; the assignee is looked up only when the webhook
    // names nobody.
    wants.agent = job.hint.agent_email().is_none();
    let mut ticket = itsm.read_ticket(&job.ticket, wants).await?;
    complete_from_hint(&mut ticket, &job.hint, wants);
    Ok(ticket)
}

fn decide(rt: &Runtime, job: &Job, ticket: &crate::ticket::Ticket) -> rules::Decision {
    rules::decide(
        &rt.config.rules,
        job.connection.as_str(),
        ticket,
        Certainty::Authoritative,
    )
}

fn session_request(job: &Job, rule: &crate::config::RuleConfig) -> SessionRequest {
    let ticket = job.ticket_read.clone().unwrap_or_default();
    let number = job
        .ticket_number
        .clone()
        .unwrap_or_else(|| job.ticket.to_string());
    SessionRequest {
        job: job.id,
        ticket_number: number.clone(),
        subject: ticket.subject.clone().unwrap_or_default(),
        customer_name: ticket
            .requester_name()
            .map(String::from)
            .unwrap_or_else(|| number.clone()),
        agent_email: ticket.agent_email().map(String::from),
        device: ticket.device.clone(),
        options: rule.vendor_options.clone(),
        requested_at: job.created_at,
    }
}

/// The job's session: the one an earlier create call whose answer was lost made, when the
/// vendor can find it, or a new one. The call is recorded before it is made. Returns how the
/// session came, for the history.
async fn create_once(
    shared: &Shared,
    vendor: &dyn crate::remote::Vendor,
    job: &mut Job,
    req: &SessionRequest,
) -> Result<(crate::remote::Session, &'static str)> {
    if job.create_calls > 0 {
        match vendor.find_created(req).await? {
            FindCreated::Found(s) => {
                return Ok((s, "found (made by a create call whose answer was lost)"))
            }
            FindCreated::NotFound => {}
            FindCreated::CannotList => {
                shared.metrics.add(
                    "deskbridge_sessions_maybe_orphaned_total",
                    &[("vendor", vendor.id().as_str())],
                    1.0,
                );
                let line = format!(
                    "an earlier create call's answer was lost and {} cannot list its recent sessions: a session it may have made is left unused (it expires at the vendor; its issue text carries [deskbridge {}])",
                    vendor.id(),
                    job.id
                );
                job.record(shared.clock.now(), job.attempt(), None, line);
            }
        }
    }
    job.create_calls += 1;
    checkpoint(shared, job).await?;
    match vendor.create_session(req).await {
        Ok(s) => Ok((s, "created")),
        Err(e) => {
            if !matches!(e.retry(), Retry::Transient { .. }) {
                // Refused outright: the vendor made nothing.
                job.create_calls -= 1;
            }
            Err(e.into())
        }
    }
}

/// Values no rule looks at and the read did not look up are taken from the webhook, for the
/// notes and the session (who asked, who runs it); the agent who clicked always wins.
fn complete_from_hint(
    ticket: &mut crate::ticket::Ticket,
    hint: &crate::ticket::Ticket,
    wants: crate::ticket::Wants,
) {
    if hint.agent.is_some() {
        ticket.agent = hint.agent.clone();
    }
    if !wants.requester && ticket.requester.is_none() {
        ticket.requester = hint.requester.clone();
    }
    if !wants.brand && ticket.brand.is_none() {
        ticket.brand = hint.brand.clone();
    }
}
