-- 003_jobs.sql (SQLite) -- the durable job queue; also the email outbox (kind 'mail').
-- Timestamps are microseconds since the epoch.  max_attempts 0 = the worker's JOB_MAX_ATTEMPTS.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 31),
    payload       TEXT    NOT NULL DEFAULT '{}',
    state         TEXT    NOT NULL DEFAULT 'queued'
                          CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts  INTEGER NOT NULL DEFAULT 0 CHECK (max_attempts >= 0),
    run_after     BIGINT  NOT NULL,
    lease_owner   TEXT,
    lease_expires BIGINT,
    progress      INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    last_error    TEXT,
    result        TEXT,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT
);
-- The claim scans runnable jobs in run_after order; the sweep scans running leases.
CREATE INDEX jobs_queued ON jobs (run_after, id) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs (lease_expires) WHERE state = 'running';
CREATE INDEX jobs_state ON jobs (state, updated_at);
