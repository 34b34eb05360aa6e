//! The store's concurrency rules, on SQLite and Postgres: claims hand out
//! each due row once, an expired lease can be taken over, and a write with
//! a stale version changes nothing.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use uuid::Uuid;
use verdict::scheduler::lifecycle;
use verdict::store::{
    Backend, FaultType, NewEvent, NewExperiment, NewVerdict, SloSelector, Status, Store,
    VerdictOutcome, event_kind, utc_now,
};

use crate::support::db::TestDb;
use crate::support::on_both_backends;

on_both_backends!(
    concurrent_claims_hand_out_each_due_row_once,
    an_expired_lease_is_taken_over_and_the_old_holder_writes_nothing,
);

fn new_due_experiment(name: &str) -> NewExperiment {
    let now = utc_now();
    let state = lifecycle::initial_state(
        Some(now - TimeDelta::seconds(600)),
        Some(now - TimeDelta::seconds(300)),
        0,
        now,
    )
    .expect("a valid window");
    assert_eq!(state.status, Status::Recovering);
    NewExperiment {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        service: "checkout".to_owned(),
        namespace: None,
        target_labels: BTreeMap::new(),
        fault_type: FaultType::Custom,
        slo_selector: SloSelector::default(),
        slo_ids: vec!["checkout-availability".to_owned()],
        baseline_seconds: None,
        observe_seconds: 0,
        abort_webhook: None,
        routing_labels: BTreeMap::new(),
        links: Vec::new(),
        idempotency_key: None,
        request_hash: None,
        created_at: now,
        state,
    }
}

async fn concurrent_claims_hand_out_each_due_row_once(backend: Backend) {
    let db = TestDb::create(backend).await;
    let store = Store::connect(&db.url).await.expect("connect");
    for i in 0..30 {
        store
            .insert_experiment(&new_due_experiment(&format!("e{i}")))
            .await
            .expect("insert");
    }
    let now = utc_now();
    let until = now + TimeDelta::seconds(30);
    // Six claimers at once, five rows each at most.
    let claims = (0..6).map(|k| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .claim_due(&format!("owner-{k}"), now, until, 5)
                .await
                .expect("claim")
        })
    });
    let mut seen = Vec::new();
    for c in claims {
        for row in c.await.expect("task") {
            assert!(row.lease_owner.is_some());
            seen.push(row.id);
        }
    }
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total, "a row was claimed twice");
    assert_eq!(total, 30);
    assert_eq!(store.count_due(now).await.expect("count"), 0);
    assert!(
        store
            .claim_due("late", now, until, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    store.close().await;
}

async fn an_expired_lease_is_taken_over_and_the_old_holder_writes_nothing(backend: Backend) {
    let db = TestDb::create(backend).await;
    let store = Store::connect(&db.url).await.expect("connect");
    let row = store
        .insert_experiment(&new_due_experiment("contested"))
        .await
        .expect("insert");
    let t0 = utc_now();
    let a = store
        .claim_due("a", t0, t0 + TimeDelta::seconds(2), 1)
        .await
        .expect("claim")
        .pop()
        .expect("a claims it");
    assert_eq!(a.version, row.version + 1);
    // Within the lease nobody else gets it; after it, b does.
    assert!(
        store
            .claim_due(
                "b",
                t0 + TimeDelta::seconds(1),
                t0 + TimeDelta::seconds(31),
                1
            )
            .await
            .expect("claim")
            .is_empty()
    );
    let later = t0 + TimeDelta::seconds(3);
    let b = store
        .claim_due("b", later, later + TimeDelta::seconds(30), 1)
        .await
        .expect("claim")
        .pop()
        .expect("b takes over");
    assert_eq!(b.lease_owner.as_deref(), Some("b"));
    // a cannot renew, release or write any more.
    assert!(
        !store
            .renew_lease(a.id, a.version, "a", later + TimeDelta::seconds(60))
            .await
            .expect("renew")
    );
    assert!(
        !store
            .release_lease(a.id, a.version, "a")
            .await
            .expect("release")
    );
    let verdict = NewVerdict {
        outcome: VerdictOutcome::Pass,
        body: "{\"by\":\"a\"}".to_owned(),
    };
    let (state, event) = lifecycle::completed(&a, &verdict, later);
    assert_eq!(
        store
            .commit(a.id, a.version, &state, Some(&verdict), Some(&event))
            .await
            .expect("commit"),
        None
    );
    // b's write lands, exactly once.
    let verdict_b = NewVerdict {
        outcome: VerdictOutcome::Fail,
        body: "{\"by\":\"b\"}".to_owned(),
    };
    let (state, event) = lifecycle::completed(&b, &verdict_b, later);
    let done = store
        .commit(b.id, b.version, &state, Some(&verdict_b), Some(&event))
        .await
        .expect("commit")
        .expect("b's version is current");
    assert_eq!(done.status, Status::Completed);
    assert_eq!(done.lease_owner, None);
    let stored = store.list_verdicts().await.expect("verdicts");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, "{\"by\":\"b\"}");
    // Even with a current version, a second verdict or terminal event is refused.
    let again = store
        .commit(done.id, done.version, &done.state(), Some(&verdict_b), None)
        .await;
    assert!(
        matches!(again, Err(verdict::store::StoreError::Duplicate { .. })),
        "{again:?}"
    );
    let dup_event = NewEvent {
        kind: event_kind::COMPLETED,
        payload: serde_json::json!({}),
    };
    let again = store
        .commit(done.id, done.version, &done.state(), None, Some(&dup_event))
        .await;
    assert!(
        matches!(again, Err(verdict::store::StoreError::Duplicate { .. })),
        "{again:?}"
    );
    let events = store.list_events(done.id).await.expect("events");
    assert_eq!(events.len(), 1);
    // The refused transactions left the row as it was.
    let now_row = store
        .get_experiment(done.id)
        .await
        .expect("read")
        .expect("row")
        .experiment;
    assert_eq!(now_row.version, done.version);
    store.close().await;
}

#[tokio::test]
async fn an_in_memory_sqlite_database_keeps_its_data_across_statements() {
    let store = Store::connect("sqlite::memory:").await.expect("connect");
    let row = store
        .insert_experiment(&new_due_experiment("memory"))
        .await
        .expect("insert");
    for _ in 0..3 {
        let got = store.get_experiment(row.id).await.expect("read");
        assert_eq!(got.map(|g| g.experiment.name), Some("memory".to_owned()));
    }
    store.close().await;
}
