-- Notifications: the outbox of deliveries (one row per event and receiver)
-- and the alerts Alertmanager sent us. Times are RFC 3339 text in UTC.

-- Fan-out marker: an event is routed once; re-routing after a crash is
-- harmless because deliveries are unique on (event_id, receiver).
ALTER TABLE events ADD COLUMN routed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX events_unrouted ON events (id) WHERE routed = 0;

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id         INTEGER NOT NULL REFERENCES events (id),
    receiver         TEXT NOT NULL,
    -- the route's during_experiment decision for alerts a running experiment explains
    context          TEXT,
    state            TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    lease_owner      TEXT,
    lease_expires_at TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT,
    UNIQUE (event_id, receiver)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_state ON deliveries (state, id);

CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint   TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    labels        TEXT NOT NULL,
    annotations   TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT,
    received_at   TEXT NOT NULL,
    experiment_id BLOB REFERENCES experiments (id)
);
CREATE INDEX alerts_fingerprint ON alerts (fingerprint, id);
CREATE INDEX alerts_experiment ON alerts (experiment_id) WHERE experiment_id IS NOT NULL;
