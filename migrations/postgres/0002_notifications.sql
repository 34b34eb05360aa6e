-- Notifications: the outbox of deliveries (one row per event and receiver)
-- and the alerts Alertmanager sent us.

-- Fan-out marker: an event is routed once; re-routing after a crash is
-- harmless because deliveries are unique on (event_id, receiver).
ALTER TABLE events ADD COLUMN routed BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX events_unrouted ON events (id) WHERE NOT routed;

CREATE TABLE deliveries (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         BIGINT NOT NULL REFERENCES events (id),
    receiver         TEXT NOT NULL,
    -- the route's during_experiment decision for alerts a running experiment explains
    context          TEXT,
    state            TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ,
    UNIQUE (event_id, receiver)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_state ON deliveries (state, id);

CREATE TABLE alerts (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint   TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    labels        JSONB NOT NULL,
    annotations   JSONB NOT NULL,
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ,
    received_at   TIMESTAMPTZ NOT NULL,
    experiment_id UUID REFERENCES experiments (id)
);
CREATE INDEX alerts_fingerprint ON alerts (fingerprint, id);
CREATE INDEX alerts_experiment ON alerts (experiment_id) WHERE experiment_id IS NOT NULL;
