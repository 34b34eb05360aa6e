//! Client tests against wiremock servers on 127.0.0.1: retries, timeouts,
//! error mapping, request encoding, headers and secret redaction.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

const BAD_DATA_BODY: &str = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:33: parse error: unclosed left parenthesis"}"#;
const EXECUTION_BODY: &str = r#"{"status":"error","errorType":"execution","error":"found duplicate series for the match group {} on the right hand-side of the operation: [{a=\"x\", b=\"y\"}, {a=\"x\"}];many-to-many matching not allowed: matching labels must be unique on one side"}"#;
const VECTOR_BODY: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[1700000000.500,"+Inf"]},{"metric":{"job":"db"},"value":[1700000000.500,"NaN"]},{"metric":{"job":"x"},"value":[1700000000.500,"0.25"]}]}}"#;
const MATRIX_BODY: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","instance":"a:9"},"values":[[1700000000,"1"],[1700000015,"NaN"],[1700000030,"0"]]}]}}"#;

fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn config_for(base_url: String) -> PromConfig {
    PromConfig {
        base_url,
        timeout: Duration::from_secs(5),
        max_retries: 3,
        backoff_initial: Duration::from_millis(1),
        ..PromConfig::default()
    }
}

fn client_for(server: &MockServer) -> PromClient {
    PromClient::new(config_for(server.uri())).expect("valid config")
}

async fn request_count(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .len()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The form fields of a recorded request body, decoded, in order.
fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    let text = std::str::from_utf8(body).expect("form body is UTF-8");
    let url = Url::parse(&format!("http://form.invalid/?{text}")).expect("form body parses");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn prometheus_not_listening_is_a_connect_error_after_every_attempt() {
    install_crypto();
    // Bind and release a port so nothing listens on it.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = PromClient::new(PromConfig {
        max_retries: 2,
        ..config_for(format!("http://127.0.0.1:{port}"))
    })
    .expect("valid config");

    let started = Instant::now();
    let err = client
        .query_instant("up", 1_700_000_000.0)
        .await
        .expect_err("nothing listens");

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let PromError::Connect {
        url,
        query,
        attempts,
        ..
    } = &err
    else {
        panic!("expected Connect, got {err:?}")
    };
    assert_eq!(url, &format!("http://127.0.0.1:{port}/api/v1/query"));
    assert_eq!(query.as_deref(), Some("up"));
    assert_eq!(*attempts, 3);
    assert_eq!(err.attempts(), 3);
    assert!(err.is_retryable());
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "could not connect to Prometheus at http://127.0.0.1:{port}/api/v1/query for query `up` after 3 attempts: "
        )),
        "{message}"
    );
}

#[tokio::test]
async fn server_error_then_success_is_retried_and_succeeds() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(500).set_body_string("internal error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(200).set_body_string(VECTOR_BODY))
        .with_priority(2)
        .mount(&server)
        .await;

    let result = client_for(&server)
        .query_instant("up", 1_700_000_000.5)
        .await
        .expect("second attempt succeeds");

    assert_eq!(request_count(&server).await, 2);
    let QueryData::Vector(samples) = result.data else {
        panic!("expected a vector")
    };
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0].labels, labels(&[("job", "api")]));
    assert_eq!(samples[0].v, f64::INFINITY);
}

#[tokio::test]
async fn persistent_unavailability_gives_up_after_one_plus_max_retries_requests() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/-/ready"))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .mount(&server)
        .await;
    let client = PromClient::new(PromConfig {
        max_retries: 2,
        ..config_for(server.uri())
    })
    .expect("valid config");

    let err = client.ready().await.expect_err("never ready");

    assert_eq!(request_count(&server).await, 3);
    let PromError::Http {
        status,
        body,
        attempts,
        query,
        ..
    } = &err
    else {
        panic!("expected Http, got {err:?}")
    };
    assert_eq!(
        (*status, body.as_str(), *attempts),
        (503, "Service Unavailable", 3)
    );
    assert_eq!(query, &None);
    assert_eq!(
        err.to_string(),
        format!(
            "Prometheus at {}/-/ready answered HTTP 503 after 3 attempts: Service Unavailable",
            server.uri()
        )
    );
}

#[tokio::test]
async fn ready_server_answers_ok() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/-/ready"))
        .respond_with(ResponseTemplate::new(200).set_body_string("Prometheus Server is Ready.\n"))
        .expect(1)
        .mount(&server)
        .await;
    client_for(&server).ready().await.expect("ready");
}

#[tokio::test]
async fn bad_query_400_is_an_api_error_and_not_retried() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/json")
                .set_body_string(BAD_DATA_BODY),
        )
        .mount(&server)
        .await;

    let err = client_for(&server)
        .query_instant("sum(rate(http_requests_total[5m]", 1_700_000_000.0)
        .await
        .expect_err("bad query");

    assert_eq!(request_count(&server).await, 1);
    let PromError::Api {
        status,
        error_type,
        error,
        attempts,
        ..
    } = &err
    else {
        panic!("expected Api, got {err:?}")
    };
    assert_eq!(*status, 400);
    assert_eq!(error_type, "bad_data");
    assert_eq!(
        error,
        "invalid parameter \"query\": 1:33: parse error: unclosed left parenthesis"
    );
    assert_eq!(*attempts, 1);
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        format!(
            "Prometheus at {}/api/v1/query rejected the request for query `sum(rate(http_requests_total[5m]` \
             with HTTP 400 after 1 attempt: bad_data: invalid parameter \"query\": 1:33: parse error: unclosed left parenthesis",
            server.uri()
        )
    );
}

#[tokio::test]
async fn execution_error_422_is_an_api_error_and_not_retried() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query_range"))
        .respond_with(ResponseTemplate::new(422).set_body_string(EXECUTION_BODY))
        .mount(&server)
        .await;

    let err = client_for(&server)
        .query_range(
            "a + on() group_left b",
            1_700_000_000.0,
            1_700_000_600.0,
            15.0,
        )
        .await
        .expect_err("execution error");

    assert_eq!(request_count(&server).await, 1);
    let PromError::Api {
        status,
        error_type,
        error,
        attempts,
        ..
    } = &err
    else {
        panic!("expected Api, got {err:?}")
    };
    assert_eq!(
        (*status, error_type.as_str(), *attempts),
        (422, "execution", 1)
    );
    assert!(
        error.starts_with("found duplicate series for the match group {}"),
        "{error}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn answer_slower_than_the_timeout_is_a_timeout_error() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(VECTOR_BODY)
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let client = PromClient::new(PromConfig {
        timeout: Duration::from_millis(200),
        max_retries: 1,
        ..config_for(server.uri())
    })
    .expect("valid config");

    let started = Instant::now();
    let err = client
        .query_instant("up", 1_700_000_000.0)
        .await
        .expect_err("too slow");
    let elapsed = started.elapsed();

    let PromError::Timeout {
        timeout, attempts, ..
    } = &err
    else {
        panic!("expected Timeout, got {err:?}")
    };
    assert_eq!((*timeout, *attempts), (Duration::from_millis(200), 2));
    assert_eq!(request_count(&server).await, 2);
    // two attempts of 200ms each, far below the server's 3s delay
    assert!(
        elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(2500),
        "took {elapsed:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "Prometheus at {}/api/v1/query did not answer within 200ms for query `up` after 2 attempts",
            server.uri()
        )
    );
}

#[tokio::test]
async fn instant_query_posts_the_query_and_the_exact_time_as_a_form() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_string(VECTOR_BODY))
        .expect(1)
        .mount(&server)
        .await;
    let query = r#"sum(rate(http_requests_total{job="api",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="api"}[5m]))"#;

    let result = client_for(&server)
        .query_instant(query, 1_700_000_000.123)
        .await
        .expect("decodes");

    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(
        form_fields(&requests[0].body),
        vec![
            ("query".to_owned(), query.to_owned()),
            ("time".to_owned(), "1700000000.123".to_owned()),
        ]
    );
    assert!(result.warnings.is_empty());
    let QueryData::Vector(samples) = &result.data else {
        panic!("expected a vector, got {:?}", result.data)
    };
    assert_eq!(samples.len(), 3);
    assert_eq!(
        (&samples[0].labels, samples[0].t, samples[0].v),
        (&labels(&[("job", "api")]), 1_700_000_000.5, f64::INFINITY)
    );
    assert_eq!(
        (&samples[1].labels, samples[1].t),
        (&labels(&[("job", "db")]), 1_700_000_000.5)
    );
    assert!(samples[1].v.is_nan(), "{}", samples[1].v);
    assert_eq!(
        samples[2],
        InstantSample {
            labels: labels(&[("job", "x")]),
            t: 1_700_000_000.5,
            v: 0.25
        }
    );
}

#[tokio::test]
async fn range_query_under_a_path_prefix_posts_start_end_step_and_decodes_the_matrix() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/prometheus/api/v1/query_range"))
        .respond_with(ResponseTemplate::new(200).set_body_string(MATRIX_BODY))
        .expect(1)
        .mount(&server)
        .await;
    let client =
        PromClient::new(config_for(format!("{}/prometheus/", server.uri()))).expect("valid config");
    assert_eq!(client.base_url(), format!("{}/prometheus", server.uri()));

    let result = client
        .query_range("up", 1_700_000_000.0, 1_700_000_030.0, 15.0)
        .await
        .expect("decodes");

    let requests = server.received_requests().await.expect("recording on");
    assert_eq!(
        form_fields(&requests[0].body),
        vec![
            ("query".to_owned(), "up".to_owned()),
            ("start".to_owned(), "1700000000.000".to_owned()),
            ("end".to_owned(), "1700000030.000".to_owned()),
            ("step".to_owned(), "15.000".to_owned()),
        ]
    );
    let QueryData::Matrix(series) = &result.data else {
        panic!("expected a matrix, got {:?}", result.data)
    };
    assert_eq!(series.len(), 1);
    assert_eq!(
        series[0].labels,
        labels(&[("__name__", "up"), ("instance", "a:9")])
    );
    let points = &series[0].points;
    assert_eq!(points.len(), 3);
    assert_eq!(points[0], (1_700_000_000.0, 1.0));
    assert_eq!(points[1].0, 1_700_000_015.0);
    assert!(points[1].1.is_nan());
    assert_eq!(points[2], (1_700_000_030.0, 0.0));
}

#[tokio::test]
async fn scalar_result_decodes_through_the_client() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000.123,"-Inf"]}}"#,
        ))
        .mount(&server)
        .await;
    let result = client_for(&server)
        .query_instant("scalar(vector(-1/0))", 1_700_000_000.123)
        .await
        .expect("decodes");
    assert_eq!(
        result,
        QueryResult {
            data: QueryData::Scalar {
                t: 1_700_000_000.123,
                v: f64::NEG_INFINITY
            },
            warnings: vec![]
        }
    );
}

#[tokio::test]
async fn warnings_and_infos_are_surfaced() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["partial response: store 10.0.0.7:10901 unavailable"],"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (1:6)"]}"#,
        ))
        .mount(&server)
        .await;
    let result = client_for(&server)
        .query_instant("rate(foo[5m])", 1_700_000_000.0)
        .await
        .expect("decodes");
    assert_eq!(
        result,
        QueryResult {
            data: QueryData::Vector(vec![]),
            warnings: vec![
                "partial response: store 10.0.0.7:10901 unavailable".to_owned(),
                "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (1:6)".to_owned(),
            ]
        }
    );
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error_and_not_retried() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1700000000,{"count":"1","sum":"0.5"}]}]}}"#,
        ))
        .mount(&server)
        .await;
    let err = client_for(&server)
        .query_instant("http_request_duration_seconds", 1_700_000_000.0)
        .await
        .expect_err("native histograms are unsupported");
    assert_eq!(request_count(&server).await, 1);
    let PromError::Decode {
        status,
        attempts,
        reason,
        ..
    } = &err
    else {
        panic!("expected Decode, got {err:?}")
    };
    assert_eq!((*status, *attempts), (200, 1));
    assert!(
        reason.starts_with("result[0] {} has native histogram samples (\"histogram\")"),
        "{reason}"
    );
}

#[tokio::test]
async fn bearer_token_and_tenant_header_are_sent_on_every_request() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .and(header("authorization", "Bearer tok-0123456789"))
        .and(header("x-scope-orgid", "tenant-a"))
        .respond_with(ResponseTemplate::new(200).set_body_string(MATRIX_BODY))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/-/ready"))
        .and(header("authorization", "Bearer tok-0123456789"))
        .and(header("x-scope-orgid", "tenant-a"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let client = PromClient::new(PromConfig {
        auth: Some(PromAuth::Bearer("tok-0123456789".to_owned())),
        headers: vec![("X-Scope-OrgID".to_owned(), "tenant-a".to_owned())],
        ..config_for(server.uri())
    })
    .expect("valid config");

    // Without the headers wiremock answers 404, which would fail these calls.
    client
        .query_instant("up", 1_700_000_000.0)
        .await
        .expect("headers matched");
    client.ready().await.expect("headers matched");
}

#[tokio::test]
async fn basic_auth_header_is_sent() {
    install_crypto();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        // base64("alice:s3cret-pa55")
        .and(header("authorization", "Basic YWxpY2U6czNjcmV0LXBhNTU="))
        .and(body_string_contains("query=up"))
        .respond_with(ResponseTemplate::new(200).set_body_string(VECTOR_BODY))
        .expect(1)
        .mount(&server)
        .await;
    let client = PromClient::new(PromConfig {
        auth: Some(PromAuth::Basic {
            username: "alice".to_owned(),
            password: "s3cret-pa55".to_owned(),
        }),
        ..config_for(server.uri())
    })
    .expect("valid config");
    client
        .query_instant("up", 1_700_000_000.0)
        .await
        .expect("basic auth matched");
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output_or_error_messages() {
    install_crypto();
    const TOKEN: &str = "tok-SUPERSECRET-9f8e7d";
    const PASSWORD: &str = "pw-SUPERSECRET-1a2b3c";
    const API_KEY: &str = "key-SUPERSECRET-4d5e6f";
    let server = MockServer::start().await;
    // A misbehaving gateway that echoes the request's credentials back.
    Mock::given(method("POST"))
        .and(path("/api/v1/query"))
        .respond_with(ResponseTemplate::new(502).set_body_string(format!(
            "bad gateway; you sent Authorization: Bearer {TOKEN} and X-Api-Key: {API_KEY}"
        )))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/query_range"))
        .respond_with(ResponseTemplate::new(401).set_body_string(format!(
            r#"{{"status":"error","errorType":"unauthorized","error":"wrong password {PASSWORD} (Basic YWxpY2U6{})"}}"#,
            "cHctU1VQRVJTRUNSRVQtMWEyYjNj"
        )))
        .mount(&server)
        .await;

    let bearer_config = PromConfig {
        auth: Some(PromAuth::Bearer(TOKEN.to_owned())),
        headers: vec![
            ("X-Api-Key".to_owned(), API_KEY.to_owned()),
            ("X-Scope-OrgID".to_owned(), "tenant-a".to_owned()),
        ],
        max_retries: 0,
        ..config_for(server.uri())
    };
    let basic_config = PromConfig {
        auth: Some(PromAuth::Basic {
            username: "alice".to_owned(),
            password: PASSWORD.to_owned(),
        }),
        max_retries: 0,
        ..config_for(server.uri())
    };
    let bearer = PromClient::new(bearer_config.clone()).expect("valid config");
    let basic = PromClient::new(basic_config.clone()).expect("valid config");

    let bearer_err = bearer
        .query_instant("up", 1_700_000_000.0)
        .await
        .expect_err("502");
    let basic_err = basic
        .query_range("up", 1_700_000_000.0, 1_700_000_060.0, 15.0)
        .await
        .expect_err("401");
    assert!(
        matches!(bearer_err, PromError::Http { status: 502, .. }),
        "{bearer_err:?}"
    );
    assert!(
        matches!(&basic_err, PromError::Api { status: 401, error_type, .. } if error_type == "unauthorized"),
        "{basic_err:?}"
    );
    let bad_header = PromClient::new(PromConfig {
        headers: vec![("X-Api-Key".to_owned(), format!("{API_KEY}\n"))],
        ..PromConfig::default()
    })
    .expect_err("newline in header value");
    let bad_url = PromClient::new(PromConfig {
        base_url: format!("http://alice:{PASSWORD}@127.0.0.1:9090"),
        ..PromConfig::default()
    })
    .expect_err("credentials in URL");
    let unparseable_url = PromClient::new(PromConfig {
        base_url: format!("http://alice:{PASSWORD}@127.0.0.1:notaport"),
        ..PromConfig::default()
    })
    .expect_err("bad port");

    let outputs = [
        format!("{bearer_config:?}"),
        format!("{basic_config:?}"),
        format!("{bearer:?}"),
        format!("{basic:?}"),
        format!("{bearer_err:?}"),
        format!("{bearer_err}"),
        format!("{basic_err:?}"),
        format!("{basic_err}"),
        format!("{bad_header:?}"),
        format!("{bad_header}"),
        format!("{bad_url:?}"),
        format!("{bad_url}"),
        format!("{unparseable_url:?}"),
        format!("{unparseable_url}"),
    ];
    for output in &outputs {
        for secret in [TOKEN, PASSWORD, API_KEY, "cHctU1VQRVJTRUNSRVQtMWEyYjNj"] {
            assert!(!output.contains(secret), "{secret:?} leaked in: {output}");
        }
    }
    // The redacted texts still say what happened.
    assert_eq!(
        format!("{bearer_config:?}"),
        format!(
            "PromConfig {{ base_url: \"{}\", timeout: 5s, max_retries: 0, backoff_initial: 1ms, auth: Some(Bearer(<redacted>)), headers: [(\"X-Api-Key\", <redacted>), (\"X-Scope-OrgID\", \"tenant-a\")] }}",
            server.uri()
        )
    );
    assert_eq!(
        format!("{basic:?}"),
        format!(
            "PromClient {{ base_url: \"{}\", timeout: 5s, max_retries: 0, backoff_initial: 1ms, auth: basic, headers: [] }}",
            server.uri()
        )
    );
    assert_eq!(
        format!("{:?}", basic_config.auth),
        "Some(Basic { username: \"alice\", password: <redacted> })"
    );
    let PromError::Http { body, .. } = &bearer_err else {
        unreachable!()
    };
    assert_eq!(
        body,
        "bad gateway; you sent Authorization: Bearer <redacted> and X-Api-Key: <redacted>"
    );
    let PromError::Api { error, .. } = &basic_err else {
        unreachable!()
    };
    assert_eq!(error, "wrong password <redacted> (Basic <redacted>)");
}

#[tokio::test]
async fn invalid_timestamps_are_rejected_before_anything_is_sent() {
    install_crypto();
    let server = MockServer::start().await;
    let client = client_for(&server);

    let cases = [
        (
            client.query_instant("up", f64::NAN).await,
            "time NaN is not a finite number",
        ),
        (
            client
                .query_range("up", 1_700_000_000.0, f64::INFINITY, 15.0)
                .await,
            "end inf is not a finite number",
        ),
        (
            client
                .query_range("up", 1_700_000_060.0, 1_700_000_000.0, 15.0)
                .await,
            "end 1700000000.000 is before start 1700000060.000",
        ),
        (
            client
                .query_range("up", 1_700_000_000.0, 1_700_000_060.0, 0.0)
                .await,
            "step 0s is below the 1ms resolution of the API",
        ),
    ];
    for (result, expected_reason) in cases {
        match result {
            Err(PromError::InvalidRequest { reason, query, .. }) => {
                assert_eq!(reason, expected_reason);
                assert_eq!(query.as_deref(), Some("up"));
            }
            other => panic!("expected InvalidRequest({expected_reason}), got {other:?}"),
        }
    }
    assert_eq!(request_count(&server).await, 0);
}

#[test]
fn base_url_is_normalised_without_trailing_slashes() {
    install_crypto();
    for (raw, expected) in [
        ("http://127.0.0.1:9090", "http://127.0.0.1:9090"),
        ("http://127.0.0.1:9090/", "http://127.0.0.1:9090"),
        (
            "  https://127.0.0.1/prometheus//  ",
            "https://127.0.0.1/prometheus",
        ),
    ] {
        let client = PromClient::new(config_for(raw.to_owned())).expect("valid config");
        assert_eq!(client.base_url(), expected, "from {raw:?}");
    }
}

#[test]
fn bad_configurations_are_rejected_with_a_reason() {
    install_crypto();
    let cases: Vec<(PromConfig, &str)> = vec![
        (
            config_for("127.0.0.1:9090".to_owned()),
            "base_url \"127.0.0.1:9090\" must start with http:// or https://",
        ),
        (
            config_for("ftp://127.0.0.1".to_owned()),
            "base_url \"ftp://127.0.0.1\" must start with http:// or https://",
        ),
        (
            config_for("localhost:9090".to_owned()),
            "base_url \"localhost:9090\" must start with http:// or https://",
        ),
        (
            config_for("http://127.0.0.1:99999".to_owned()),
            "base_url \"http://127.0.0.1:99999\" is not a valid URL: invalid port number",
        ),
        (
            config_for("bob:hunter2@127.0.0.1:9090".to_owned()),
            "base_url (not shown: it contains '@') must start with http:// or https://",
        ),
        (
            config_for("http://bob:hunter2@127.0.0.1:x".to_owned()),
            "base_url (not shown: it contains '@') is not a valid URL: invalid port number",
        ),
        (
            config_for("http://127.0.0.1:9090/?x=1".to_owned()),
            "base_url \"http://127.0.0.1:9090/?x=1\" must not have a query string or fragment",
        ),
        (
            config_for("http://bob:hunter2@127.0.0.1:9090".to_owned()),
            "base_url \"http://127.0.0.1:9090/\" contains credentials; put them in `auth` instead",
        ),
        (
            PromConfig {
                timeout: Duration::ZERO,
                ..PromConfig::default()
            },
            "timeout must be greater than zero",
        ),
        (
            PromConfig {
                headers: vec![("X Bad".to_owned(), "v".to_owned())],
                ..PromConfig::default()
            },
            "header name \"X Bad\" is not a valid HTTP header name",
        ),
        (
            PromConfig {
                headers: vec![("X-Scope-OrgID".to_owned(), "a\r\nb".to_owned())],
                ..PromConfig::default()
            },
            "value of header \"X-Scope-OrgID\" contains characters not allowed in an HTTP header (e.g. a newline)",
        ),
        (
            PromConfig {
                headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
                ..PromConfig::default()
            },
            "header \"Content-Type\" is set by the client itself and cannot be configured",
        ),
        (
            PromConfig {
                auth: Some(PromAuth::Bearer("t0ken".to_owned())),
                headers: vec![("Authorization".to_owned(), "Bearer other".to_owned())],
                ..PromConfig::default()
            },
            "both `auth` and an Authorization header are configured; use one",
        ),
        (
            PromConfig {
                auth: Some(PromAuth::Bearer("line\nbreak".to_owned())),
                ..PromConfig::default()
            },
            "bearer token contains characters not allowed in an HTTP header (e.g. a newline)",
        ),
        (
            PromConfig {
                auth: Some(PromAuth::Bearer(String::new())),
                ..PromConfig::default()
            },
            "bearer token is empty",
        ),
        (
            PromConfig {
                auth: Some(PromAuth::Basic {
                    username: "a:b".to_owned(),
                    password: "pw".to_owned(),
                }),
                ..PromConfig::default()
            },
            "basic auth username must not contain ':' (RFC 7617)",
        ),
    ];
    for (config, expected) in cases {
        let shown = format!("{config:?}");
        match PromClient::new(config) {
            Err(PromError::InvalidConfig { reason }) => assert_eq!(reason, expected, "{shown}"),
            Err(other) => panic!("{shown}: expected InvalidConfig, got {other:?}"),
            Ok(_) => panic!("{shown}: accepted"),
        }
    }
}

#[test]
fn default_config_matches_the_documented_defaults() {
    let config = PromConfig::default();
    assert_eq!(config.base_url, "http://127.0.0.1:9090");
    assert_eq!(config.timeout, Duration::from_secs(30));
    assert_eq!(config.max_retries, 3);
    assert_eq!(config.backoff_initial, Duration::from_millis(200));
    assert_eq!(config.auth, None);
    assert!(config.headers.is_empty());
}

#[test]
fn base64_matches_rfc_4648_test_vectors() {
    for (input, expected) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
        ("alice:s3cret-pa55", "YWxpY2U6czNjcmV0LXBhNTU="),
    ] {
        assert_eq!(base64_encode(input.as_bytes()), expected, "{input:?}");
    }
}

#[test]
fn retryability_follows_the_status_class() {
    let api = |status| PromError::Api {
        url: "http://127.0.0.1:9090/api/v1/query".to_owned(),
        query: Some("up".to_owned()),
        attempts: 1,
        status,
        error_type: "x".to_owned(),
        error: "y".to_owned(),
    };
    let http = |status| PromError::Http {
        url: "http://127.0.0.1:9090/api/v1/query".to_owned(),
        query: Some("up".to_owned()),
        attempts: 1,
        status,
        body: String::new(),
    };
    assert!(!api(400).is_retryable());
    assert!(!api(422).is_retryable());
    assert!(api(503).is_retryable());
    assert!(!http(404).is_retryable());
    assert!(!http(429).is_retryable());
    assert!(http(500).is_retryable());
    assert!(http(502).is_retryable());
    assert!(
        !PromError::InvalidConfig {
            reason: String::new()
        }
        .is_retryable()
    );
}
