//! Every error class of the adapter: 429 with and without Retry-After, 409, 5xx, 422 past the
//! comment limit, 401, and credentials kept out of Debug output.

use super::*;

#[tokio::test]
async fn a_429_waits_for_retry_after_or_backs_off_without_it_and_names_the_limit() {
    let (sim, zd, t) = setup().await;
    sim.faults().set_rate_limit(1, Duration::from_secs(30));
    zd.read_ticket(&t, crate::ticket::Wants::all())
        .await
        .unwrap_err(); // the ticket takes the one request; the group is refused
    let e = upstream(
        zd.read_ticket(&t, crate::ticket::Wants::all())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.status, Some(429));
    assert!(
        matches!(e.retry, Retry::Transient { after: Some(d) } if d >= Duration::from_secs(1)),
        "{:?}",
        e.retry
    );
    assert!(
        e.message
            .contains("X-Rate-Limit 1, X-Rate-Limit-Remaining 0"),
        "{}",
        e.message
    );
    sim.faults().clear();
    let text = "You have exceeded the rate limit for updating a single unique ticket";
    sim.faults().push(
        Fault::new(
            "/api/v2/tickets/",
            FaultAction::Status {
                status: 429,
                retry_after: None,
                body: Some(text.into()),
            },
        )
        .method("PUT"),
    );
    let e = upstream(
        zd.post_note(&t, &note("x", Visibility::Internal))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.retry,
        Retry::Transient { after: None },
        "no Retry-After: the worker's backoff decides"
    );
    assert!(
        e.message.contains(text) && e.message.contains("no Retry-After"),
        "the plain-text body is quoted: {}",
        e.message
    );
}

#[tokio::test]
async fn errors_are_classed_by_what_retrying_can_do_with_zendesks_words() {
    let (sim, zd, t) = setup().await;
    sim.faults()
        .push(Fault::new("/api/v2/tickets/", FaultAction::status(409)).method("PUT"));
    let e = upstream(
        zd.post_note(&t, &note("x", Visibility::Internal))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        e.retry,
        Retry::Transient { after: None },
        "a colliding update is sent again"
    );
    sim.faults()
        .push(Fault::new("/api/v2/tickets/", FaultAction::status(503)));
    assert!(upstream(
        zd.read_ticket(&t, crate::ticket::Wants::all())
            .await
            .unwrap_err()
    )
    .is_transient());

    sim.set_comment_limit(1);
    let e = upstream(
        zd.post_note(&t, &note("x", Visibility::Internal))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e.status, e.retry.clone()),
        (Some(422), Retry::Permanent),
        "past the comment limit: permanent"
    );
    assert!(
        e.message.contains("RecordInvalid") && e.message.contains("maximum of 1 comments"),
        "{}",
        e.message
    );

    sim.set_api_token("rotated");
    let e = upstream(
        zd.read_ticket(&t, crate::ticket::Wants::all())
            .await
            .unwrap_err(),
    );
    assert_eq!(e.retry, Retry::Auth);
    assert!(
        e.message.contains("Couldn't authenticate you"),
        "{}",
        e.message
    );
    assert!(matches!(
        zd.read_ticket(&TicketRef::new("incident/1"), crate::ticket::Wants::all())
            .await,
        Err(ItsmError::Contract(_))
    ));
}

#[tokio::test]
async fn a_bearer_token_works_and_no_credential_shows_in_debug_output() {
    let sim = ZendeskSim::start(EMAIL, TOKEN).await;
    let id = sim.add_ticket(SimTicket::default());
    sim.allow_bearer("oauth-Secret-99");
    let zd = built(&sim, "{ type = \"bearer\", token = \"oauth-Secret-99\" }");
    assert!(zd
        .read_ticket(&TicketRef::new(id.to_string()), crate::ticket::Wants::all())
        .await
        .is_ok());
    let shown = format!("{zd:?} {:?}", adapter(&sim));
    assert!(
        !shown.contains("Secret-99") && !shown.contains("Secret-77"),
        "{shown}"
    );
}
