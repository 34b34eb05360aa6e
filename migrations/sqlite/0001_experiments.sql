-- verdict's schema on SQLite. Times are RFC 3339 text in UTC written by the
-- server (never CURRENT_TIMESTAMP), so text order is time order; ids are
-- 16-byte UUID blobs; JSON columns are text.

CREATE TABLE experiments (
    id                 BLOB PRIMARY KEY NOT NULL,
    name               TEXT NOT NULL,
    service            TEXT NOT NULL,
    namespace          TEXT,
    target_labels      TEXT NOT NULL,
    fault_type         TEXT NOT NULL
        CHECK (fault_type IN ('pod-kill', 'network-delay', 'cpu-stress', 'memory-stress', 'custom')),
    slo_selector       TEXT NOT NULL,
    slo_ids            TEXT NOT NULL,
    baseline_seconds   INTEGER,
    observe_seconds    INTEGER NOT NULL CHECK (observe_seconds >= 0),
    abort_webhook      TEXT,
    routing_labels     TEXT NOT NULL,
    links              TEXT NOT NULL,
    status             TEXT NOT NULL
        CHECK (status IN ('scheduled', 'running', 'recovering', 'evaluating', 'completed', 'aborted', 'error')),
    fault_start        TEXT,
    fault_end          TEXT,
    abort_reason       TEXT,
    error              TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    finished_at        TEXT,
    idempotency_key    TEXT UNIQUE,
    request_hash       TEXT,
    -- work scheduling: when the scheduler should look at the row next, and
    -- who holds it until when; version is bumped by every write (fencing).
    due_at             TEXT,
    lease_owner        TEXT,
    lease_expires_at   TEXT,
    version            INTEGER NOT NULL DEFAULT 0,
    eval_attempts      INTEGER NOT NULL DEFAULT 0,
    webhook_state      TEXT NOT NULL DEFAULT 'none'
        CHECK (webhook_state IN ('none', 'pending', 'delivered', 'failed')),
    webhook_attempts   INTEGER NOT NULL DEFAULT 0,
    webhook_last_error TEXT,
    CHECK (fault_end IS NULL OR (fault_start IS NOT NULL AND fault_end > fault_start))
);

CREATE INDEX experiments_due ON experiments (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX experiments_service ON experiments (service, id);
CREATE INDEX experiments_status ON experiments (status, id);
CREATE INDEX experiments_created ON experiments (created_at);

-- One verdict per experiment, ever: the primary key is the exactly-once guard.
CREATE TABLE verdicts (
    experiment_id BLOB PRIMARY KEY NOT NULL REFERENCES experiments (id),
    outcome       TEXT NOT NULL CHECK (outcome IN ('pass', 'warn', 'fail', 'inconclusive')),
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- Lifecycle events, read by notifications later.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id BLOB REFERENCES experiments (id),
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX events_experiment ON events (experiment_id, id);
-- Terminal events happen at most once per experiment.
CREATE UNIQUE INDEX events_terminal_once ON events (experiment_id, kind)
    WHERE kind IN ('experiment.completed', 'experiment.aborted', 'experiment.error');

-- API tokens: only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
