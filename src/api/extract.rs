//! Request extractors whose every rejection is a problem+json [`ApiError`]:
//! JSON bodies (malformed → 400, wrong shape or unknown fields → 422, too
//! large → 413, wrong content type → 415), query strings and ids.
//!
//! Must not: accept a body it did not fully parse, or echo a whole body back.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;

/// A JSON request body.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

/// A JSON body that may be absent (empty body: `T::default()`).
#[derive(Debug, Clone)]
pub struct OptionalJson<T>(pub T);

async fn read_body(req: Request, state: &AppState) -> Result<(Option<String>, Bytes), ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)").to_owned());
    let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) if is_length_limit(&e) => ApiError::PayloadTooLarge {
            limit: state.config.http.body_limit,
        },
        other => ApiError::MalformedJson(format!("cannot read the body: {}", other.body_text())),
    })?;
    Ok((content_type, bytes))
}

fn is_length_limit(e: &BytesRejection) -> bool {
    e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::InvalidBody(e.to_string()),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::MalformedJson(e.to_string())
            }
        }
    })
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (content_type, bytes) = read_body(req, state).await?;
        match content_type.as_deref() {
            Some(ct) if is_json(ct) => {}
            Some(ct) => return Err(ApiError::UnsupportedMediaType(ct.to_owned())),
            None => return Err(ApiError::UnsupportedMediaType("no Content-Type".to_owned())),
        }
        parse(&bytes).map(ApiJson)
    }
}

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (content_type, bytes) = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        match content_type.as_deref() {
            Some(ct) if is_json(ct) => {}
            Some(ct) => return Err(ApiError::UnsupportedMediaType(ct.to_owned())),
            None => return Err(ApiError::UnsupportedMediaType("no Content-Type".to_owned())),
        }
        parse(&bytes).map(OptionalJson)
    }
}

/// A query string parsed into `T`; errors are 400 `invalid-parameter`.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::InvalidParameter(e.body_text()))
    }
}

/// Parses a path segment as an id.
pub fn parse_id(what: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::InvalidParameter(format!(
            "{:?} is not {what} id (expected a UUID)",
            raw.chars().take(64).collect::<String>()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_recognised() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
    }

    #[test]
    fn syntax_errors_and_shape_errors_are_told_apart() {
        let e = parse::<Body>(b"{\"name\": ").expect_err("eof");
        assert_eq!(e.slug(), "malformed-json");
        let e = parse::<Body>(b"{\"nmae\": \"x\"}").expect_err("unknown field");
        assert_eq!(e.slug(), "invalid-body");
        assert!(
            e.to_string()
                .contains("unknown field `nmae`, expected `name`"),
            "{e}"
        );
    }
}
