//! Result types of the Prometheus query API and the pure decoding of its JSON
//! answers (`/api/v1/query`, `/api/v1/query_range`). No I/O here: the client
//! hands over an HTTP status and a body, and gets a value or a
//! [`ResponseProblem`] that it turns into a `PromError` with the request's
//! context.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny};

use super::error::truncate_chars;

/// Bytes of a response body kept in error messages.
pub(crate) const BODY_EXCERPT_BYTES: usize = 512;

/// A decoded query answer.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// The result, by result type.
    pub data: QueryData,
    /// Prometheus `warnings` followed by `infos`, in the order received. A
    /// warning can mean partial data (e.g. a Thanos store that did not answer).
    pub warnings: Vec<String>,
}

/// The four result types of the Prometheus query API.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryData {
    /// `resultType: "vector"`: one sample per series (instant queries).
    Vector(Vec<InstantSample>),
    /// `resultType: "matrix"`: a list of points per series (range queries).
    Matrix(Vec<RangeSeries>),
    /// `resultType: "scalar"`: a single number.
    Scalar {
        /// Evaluation time, unix seconds.
        t: f64,
        /// Value (may be NaN or ±Inf).
        v: f64,
    },
    /// `resultType: "string"`: a string literal.
    String {
        /// Evaluation time, unix seconds.
        t: f64,
        /// The string.
        v: String,
    },
}

impl QueryData {
    /// The Prometheus name of the result type: `vector`, `matrix`, `scalar` or `string`.
    pub fn result_type(&self) -> &'static str {
        match self {
            QueryData::Vector(_) => "vector",
            QueryData::Matrix(_) => "matrix",
            QueryData::Scalar { .. } => "scalar",
            QueryData::String { .. } => "string",
        }
    }
}

/// One series' sample of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    /// Series labels (including `__name__` when the query keeps it).
    pub labels: BTreeMap<String, String>,
    /// Sample time, unix seconds.
    pub t: f64,
    /// Sample value (may be NaN or ±Inf).
    pub v: f64,
}

/// One series of a range query, points in the order Prometheus sent them
/// (ascending time).
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// Series labels (including `__name__` when the query keeps it).
    pub labels: BTreeMap<String, String>,
    /// `(unix seconds, value)` pairs; values may be NaN or ±Inf.
    pub points: Vec<(f64, f64)>,
}

/// Formats a unix timestamp the way verdict sends it to Prometheus: decimal
/// seconds with millisecond precision (`1700000000.123`). The caller checks
/// that `unix` is finite; NaN formats as `NaN`, which Prometheus rejects.
pub fn format_prom_time(unix: f64) -> String {
    format!("{unix:.3}")
}

/// Parses a Prometheus sample value string (`"0.25"`, `"NaN"`, `"+Inf"`, `"-Inf"`).
pub(crate) fn parse_sample_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        // Rust also accepts "inf"/"nan" spellings; Prometheus sends only the
        // ones above, so anything else must look like a number.
        _ if s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) => {
            s.parse::<f64>().ok()
        }
        _ => None,
    }
}

/// Why a response could not be turned into a result (the client adds the
/// request's URL, query and attempt count).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResponseProblem {
    /// `"status": "error"` with `errorType` and `error`.
    Api { error_type: String, error: String },
    /// A non-2xx answer that is not a Prometheus error body.
    Http { body_excerpt: String },
    /// A 2xx answer that is not what the API documents.
    Decode { reason: String },
}

/// Decodes the answer of a query endpoint.
pub(crate) fn decode_query_response(
    status: u16,
    body: &[u8],
) -> Result<QueryResult, ResponseProblem> {
    if !(200..300).contains(&status) {
        return Err(decode_error_body(body));
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| ResponseProblem::Decode {
        reason: format!(
            "body is not a Prometheus query response ({e}); it starts with: {}",
            body_excerpt(body)
        ),
    })?;
    match envelope.status.as_str() {
        "success" => {}
        "error" => {
            return Err(ResponseProblem::Api {
                error_type: envelope.error_type.unwrap_or_else(|| "unknown".to_owned()),
                error: envelope.error.unwrap_or_default(),
            });
        }
        other => {
            return Err(ResponseProblem::Decode {
                reason: format!("\"status\" is {other:?}, expected \"success\" or \"error\""),
            });
        }
    }
    let data = envelope.data.ok_or_else(|| ResponseProblem::Decode {
        reason: "\"status\" is \"success\" but there is no \"data\"".to_owned(),
    })?;
    let data = convert_data(data)?;
    let mut warnings = envelope.warnings.unwrap_or_default();
    warnings.extend(envelope.infos.unwrap_or_default());
    Ok(QueryResult { data, warnings })
}

/// Classifies a non-2xx body: a Prometheus error object or something else.
pub(crate) fn decode_error_body(body: &[u8]) -> ResponseProblem {
    if let Ok(ErrorEnvelope {
        status: Some(status),
        error_type: Some(error_type),
        error,
    }) = serde_json::from_slice::<ErrorEnvelope>(body)
        && status == "error"
    {
        return ResponseProblem::Api {
            error_type,
            error: error.unwrap_or_default(),
        };
    }
    ResponseProblem::Http {
        body_excerpt: body_excerpt(body),
    }
}

/// The start of a body as readable text: lossy UTF-8, whitespace runs
/// collapsed, at most [`BODY_EXCERPT_BYTES`] bytes.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(BODY_EXCERPT_BYTES)];
    let text = String::from_utf8_lossy(head);
    let mut out = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if body.len() > BODY_EXCERPT_BYTES {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("(empty body)");
    }
    out
}

fn convert_data(data: RawData) -> Result<QueryData, ResponseProblem> {
    Ok(match data {
        RawData::Vector(samples) => {
            let mut out = Vec::with_capacity(samples.len());
            for (i, s) in samples.into_iter().enumerate() {
                if s.histogram.is_some() {
                    return Err(native_histogram(i, &s.metric, "histogram"));
                }
                let Some(RawPoint(t, SampleValue(v))) = s.value else {
                    return Err(ResponseProblem::Decode {
                        reason: format!(
                            "result[{i}] {} has no \"value\"",
                            format_labels(&s.metric)
                        ),
                    });
                };
                out.push(InstantSample {
                    labels: s.metric,
                    t,
                    v,
                });
            }
            QueryData::Vector(out)
        }
        RawData::Matrix(series) => {
            let mut out = Vec::with_capacity(series.len());
            for (i, s) in series.into_iter().enumerate() {
                if s.histograms.is_some() {
                    return Err(native_histogram(i, &s.metric, "histograms"));
                }
                out.push(RangeSeries {
                    labels: s.metric,
                    points: s
                        .values
                        .into_iter()
                        .map(|RawPoint(t, SampleValue(v))| (t, v))
                        .collect(),
                });
            }
            QueryData::Matrix(out)
        }
        RawData::Scalar(RawPoint(t, SampleValue(v))) => QueryData::Scalar { t, v },
        RawData::String((t, v)) => QueryData::String { t, v },
    })
}

fn native_histogram(i: usize, labels: &BTreeMap<String, String>, key: &str) -> ResponseProblem {
    ResponseProblem::Decode {
        reason: format!(
            "result[{i}] {} has native histogram samples (\"{key}\"), which verdict does not support; \
             query a float expression such as histogram_quantile(), histogram_count() or histogram_sum() instead",
            format_labels(labels)
        ),
    }
}

/// `{a="1", b="2"}` (labels are few and short; long values are cut).
fn format_labels(labels: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={:?}", truncate_chars(v, 100)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<RawData>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
    warnings: Option<Vec<String>>,
    infos: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    status: Option<String>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum RawData {
    Vector(Vec<RawSample>),
    Matrix(Vec<RawSeries>),
    Scalar(RawPoint),
    String((f64, String)),
}

#[derive(Deserialize)]
struct RawSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: Option<RawPoint>,
    histogram: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<RawPoint>,
    histograms: Option<IgnoredAny>,
}

/// `[<unix seconds>, "<value>"]`
#[derive(Deserialize)]
struct RawPoint(f64, SampleValue);

/// A sample value, sent by Prometheus as a JSON string.
struct SampleValue(f64);

impl<'de> Deserialize<'de> for SampleValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = SampleValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sample value string such as \"0.25\", \"NaN\" or \"+Inf\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<SampleValue, E> {
                parse_sample_value(s)
                    .map(SampleValue)
                    .ok_or_else(|| E::custom(format!("invalid sample value {s:?}")))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn decode_err(status: u16, body: &str) -> ResponseProblem {
        match decode_query_response(status, body.as_bytes()) {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => e,
        }
    }

    fn decode_reason(body: &str) -> String {
        match decode_err(200, body) {
            ResponseProblem::Decode { reason } => reason,
            other => panic!("expected Decode, got {other:?}"),
        }
    }

    #[test]
    fn sample_values_decode_including_nan_and_infinities() {
        assert_eq!(parse_sample_value("0.25"), Some(0.25));
        assert_eq!(parse_sample_value("-3"), Some(-3.0));
        assert_eq!(parse_sample_value("1e-05"), Some(1e-5));
        assert_eq!(parse_sample_value("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_sample_value("-Inf"), Some(f64::NEG_INFINITY));
        assert!(parse_sample_value("NaN").is_some_and(f64::is_nan));
        assert_eq!(parse_sample_value("abc"), None);
        assert_eq!(parse_sample_value(""), None);
        assert_eq!(parse_sample_value("nan"), None);
    }

    #[test]
    fn prom_time_has_millisecond_precision() {
        assert_eq!(format_prom_time(1_700_000_000.0), "1700000000.000");
        assert_eq!(format_prom_time(1_700_000_000.123), "1700000000.123");
        assert_eq!(format_prom_time(1_700_000_000.5), "1700000000.500");
        assert_eq!(format_prom_time(15.0), "15.000");
        assert_eq!(format_prom_time(0.25), "0.250");
    }

    // Bodies below were captured from Prometheus 2.42 (Debian package).

    #[test]
    fn vector_with_nan_and_infinities_decodes() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[1700000000.500,"+Inf"]},{"metric":{"job":"db"},"value":[1700000000.500,"NaN"]},{"metric":{"job":"web"},"value":[1700000000.500,"-Inf"]},{"metric":{"job":"x"},"value":[1700000000.500,"0.25"]}]}}"#;
        let r = decode_query_response(200, body.as_bytes()).expect("decodes");
        assert!(r.warnings.is_empty());
        let QueryData::Vector(samples) = r.data else {
            panic!("not a vector: {:?}", r.data)
        };
        assert_eq!(samples.len(), 4);
        assert_eq!(samples[0].labels, labels(&[("job", "api")]));
        assert_eq!(samples[0].t, 1_700_000_000.5);
        assert_eq!(samples[0].v, f64::INFINITY);
        assert_eq!(samples[1].labels, labels(&[("job", "db")]));
        assert!(samples[1].v.is_nan());
        assert_eq!(samples[2].v, f64::NEG_INFINITY);
        assert_eq!(samples[3].labels, labels(&[("job", "x")]));
        assert_eq!(samples[3].v, 0.25);
    }

    #[test]
    fn empty_vector_and_matrix_decode_to_empty_lists() {
        let r = decode_query_response(
            200,
            br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        );
        assert_eq!(
            r,
            Ok(QueryResult {
                data: QueryData::Vector(vec![]),
                warnings: vec![]
            })
        );
        let r = decode_query_response(
            200,
            br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        );
        assert_eq!(
            r,
            Ok(QueryResult {
                data: QueryData::Matrix(vec![]),
                warnings: vec![]
            })
        );
    }

    #[test]
    fn matrix_decodes_every_point_in_order() {
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"a:9"},"values":[[1700000000,"NaN"],[1700000015,"NaN"],[1700000030,"NaN"],[1700000045,"NaN"]]},{"metric":{"instance":"b:9"},"values":[[1700000000,"+Inf"],[1700000015,"+Inf"],[1700000030,"+Inf"],[1700000045,"+Inf"]]},{"metric":{"job":"api"},"values":[[1700000000,"0"],[1700000015,"0"],[1700000030,"0"],[1700000045,"1"]]}]}}"#;
        let r = decode_query_response(200, body.as_bytes()).expect("decodes");
        let QueryData::Matrix(series) = r.data else {
            panic!("not a matrix: {:?}", r.data)
        };
        assert_eq!(series.len(), 3);
        assert_eq!(series[0].labels, labels(&[("instance", "a:9")]));
        let times: Vec<f64> = series[0].points.iter().map(|p| p.0).collect();
        assert_eq!(
            times,
            vec![
                1_700_000_000.0,
                1_700_000_015.0,
                1_700_000_030.0,
                1_700_000_045.0
            ]
        );
        assert!(series[0].points.iter().all(|p| p.1.is_nan()));
        assert_eq!(
            series[1].points,
            vec![
                (1_700_000_000.0, f64::INFINITY),
                (1_700_000_015.0, f64::INFINITY),
                (1_700_000_030.0, f64::INFINITY),
                (1_700_000_045.0, f64::INFINITY)
            ]
        );
        assert_eq!(series[2].labels, labels(&[("job", "api")]));
        assert_eq!(
            series[2].points,
            vec![
                (1_700_000_000.0, 0.0),
                (1_700_000_015.0, 0.0),
                (1_700_000_030.0, 0.0),
                (1_700_000_045.0, 1.0)
            ]
        );
    }

    #[test]
    fn scalar_and_string_decode() {
        let r = decode_query_response(
            200,
            br#"{"status":"success","data":{"resultType":"scalar","result":[1700000000.123,"+Inf"]}}"#,
        );
        assert_eq!(
            r,
            Ok(QueryResult {
                data: QueryData::Scalar {
                    t: 1_700_000_000.123,
                    v: f64::INFINITY
                },
                warnings: vec![]
            })
        );
        let r = decode_query_response(
            200,
            br#"{"status":"success","data":{"resultType":"string","result":[1700000000.123,"hello"]}}"#,
        );
        assert_eq!(
            r,
            Ok(QueryResult {
                data: QueryData::String {
                    t: 1_700_000_000.123,
                    v: "hello".to_owned()
                },
                warnings: vec![]
            })
        );
    }

    #[test]
    fn warnings_then_infos_are_surfaced() {
        let body = r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"1"]},"warnings":["partial response: store 10.0.0.7:10901 unavailable"],"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (1:6)"]}"#;
        let r = decode_query_response(200, body.as_bytes()).expect("decodes");
        assert_eq!(
            r.warnings,
            vec![
                "partial response: store 10.0.0.7:10901 unavailable".to_owned(),
                "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"foo\" (1:6)".to_owned(),
            ]
        );
    }

    #[test]
    fn native_histogram_samples_are_rejected_by_name() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_request_duration_seconds"},"histogram":[1700000000,{"count":"2","sum":"0.3","buckets":[[0,"0.1","0.2","2"]]}]}]}}"#;
        let reason = decode_reason(body);
        assert!(
            reason.starts_with(
                "result[0] {__name__=\"http_request_duration_seconds\"} has native histogram samples (\"histogram\")"
            ),
            "{reason}"
        );
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1700000000,"1"]]},{"metric":{"job":"b"},"histograms":[[1700000000,{"count":"2","sum":"0.3"}]]}]}}"#;
        let reason = decode_reason(body);
        assert!(
            reason
                .starts_with("result[1] {job=\"b\"} has native histogram samples (\"histograms\")"),
            "{reason}"
        );
        assert!(reason.contains("not support"), "{reason}");
    }

    #[test]
    fn malformed_success_bodies_are_decode_errors() {
        let reason = decode_reason(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"abc"]}]}}"#,
        );
        assert!(reason.contains("invalid sample value \"abc\""), "{reason}");

        let reason = decode_reason(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,1.5]}]}}"#,
        );
        assert!(reason.contains("a sample value string"), "{reason}");

        let reason =
            decode_reason(r#"{"status":"success","data":{"resultType":"table","result":[]}}"#);
        assert!(reason.contains("unknown variant `table`"), "{reason}");

        let reason = decode_reason(r#"{"status":"success"}"#);
        assert_eq!(reason, "\"status\" is \"success\" but there is no \"data\"");

        let reason = decode_reason(r#"{"status":"pending","data":null}"#);
        assert_eq!(
            reason,
            "\"status\" is \"pending\", expected \"success\" or \"error\""
        );

        let reason = decode_reason(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"}}]}}"#,
        );
        assert_eq!(reason, "result[0] {job=\"a\"} has no \"value\"");

        let reason = decode_reason("<html><body>Sign in</body></html>");
        assert!(
            reason.starts_with("body is not a Prometheus query response ("),
            "{reason}"
        );
        assert!(
            reason.ends_with("it starts with: <html><body>Sign in</body></html>"),
            "{reason}"
        );
    }

    #[test]
    fn error_bodies_become_api_problems_whatever_the_status() {
        let body = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:33: parse error: unclosed left parenthesis"}"#;
        let expected = ResponseProblem::Api {
            error_type: "bad_data".to_owned(),
            error: "invalid parameter \"query\": 1:33: parse error: unclosed left parenthesis"
                .to_owned(),
        };
        assert_eq!(decode_err(400, body), expected);
        assert_eq!(decode_err(200, body), expected);
    }

    #[test]
    fn non_prometheus_error_bodies_become_http_problems_with_an_excerpt() {
        assert_eq!(
            decode_err(503, "Service Unavailable\n"),
            ResponseProblem::Http {
                body_excerpt: "Service Unavailable".to_owned()
            }
        );
        assert_eq!(
            decode_err(502, ""),
            ResponseProblem::Http {
                body_excerpt: "(empty body)".to_owned()
            }
        );
        // JSON, but not a Prometheus error object
        assert_eq!(
            decode_err(500, r#"{"message":"boom"}"#),
            ResponseProblem::Http {
                body_excerpt: r#"{"message":"boom"}"#.to_owned()
            }
        );
        let long = "x".repeat(2000);
        let ResponseProblem::Http { body_excerpt } = decode_err(502, &long) else {
            panic!("expected Http")
        };
        assert_eq!(body_excerpt, format!("{}…", "x".repeat(BODY_EXCERPT_BYTES)));
    }
}
