-- deskbridge's store on PostgreSQL (src/store/postgres). Applied at start-up by sqlx::migrate!;
-- a migration once released is never edited: a change is a new numbered file.

-- One row per job. `body` is the whole job as the API shows it; the columns beside it are what
-- the queue, the indexes and the conditions of every write need without parsing it.
CREATE TABLE jobs (
    id            uuid PRIMARY KEY,           -- UUIDv7: id order is creation order
    connection    text     NOT NULL,
    ticket        text     NOT NULL,
    ticket_number text,
    state         smallint NOT NULL,          -- JobState::code
    due_at        bigint,                     -- ms since the epoch; NULL once the job has ended
    lease_owner   bigint,                     -- the worker holding the job, while one does
    lease_until   bigint,
    fence         bigint   NOT NULL,          -- fencing generation, bumped by every lease
    rev           bigint   NOT NULL,          -- bumped by every write
    updated_at    bigint   NOT NULL,
    body          jsonb    NOT NULL
);
CREATE INDEX jobs_due ON jobs (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX jobs_state ON jobs (state, id DESC);
CREATE INDEX jobs_ticket ON jobs (connection, ticket, id DESC);
CREATE INDEX jobs_ticket_number ON jobs (ticket_number) WHERE ticket_number IS NOT NULL;
CREATE INDEX jobs_finished ON jobs (updated_at) WHERE due_at IS NULL;

-- A webhook delivery seen before answers with the job it made (or the one it joined).
CREATE TABLE dedup (
    connection text NOT NULL,
    event_id   text NOT NULL,
    job_id     uuid NOT NULL,
    PRIMARY KEY (connection, event_id)
);
CREATE INDEX dedup_job ON dedup (job_id);

-- The job whose session a ticket has open: one per ticket, across every replica.
CREATE TABLE open_tickets (
    connection text NOT NULL,
    ticket     text NOT NULL,
    job_id     uuid NOT NULL,
    PRIMARY KEY (connection, ticket)
);

-- What deskbridge attached to which ticket, by file name (the auditor's ticket history).
CREATE TABLE attached (
    connection text  NOT NULL,
    ticket     text  NOT NULL,
    name       text  NOT NULL,
    job_id     uuid  NOT NULL,
    record     jsonb NOT NULL,
    PRIMARY KEY (connection, ticket, name)
);
CREATE INDEX attached_job ON attached (job_id);

-- The bytes of each artifact, as hashed and signed, until retention.local_artifacts.
CREATE TABLE artifacts (
    job_id uuid  NOT NULL,
    name   text  NOT NULL,
    bytes  bytea NOT NULL,
    PRIMARY KEY (job_id, name)
);

-- Small named values: vendor token pairs, OAuth states, Sunlogin watches and claims.
CREATE TABLE kv (
    key   text  PRIMARY KEY,
    value bytea NOT NULL
);
