//! `/api/v1/tokens` (admin): create, list and revoke API tokens, plus the
//! functions `verdict token` uses directly on the database.
//!
//! A token is shown once, when created; only its SHA-256 is stored.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::auth::{Admin, generate_token, hash_token};
use super::error::{ApiError, Problem, invalid_field};
use super::extract::{ApiJson, parse_id};
use crate::store::{Role, Store, StoreError, TokenRow, utc_now};

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token may do.
    pub role: Role,
    /// A name to recognise it by (e.g. `ci-pipeline`). Default: the role.
    #[serde(default)]
    pub name: Option<String>,
}

/// A token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new token: the only time `token` is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// The bearer token. Store it now: it cannot be shown again.
    pub token: String,
}

impl From<TokenRow> for TokenInfo {
    fn from(t: TokenRow) -> Self {
        TokenInfo {
            id: t.id,
            name: t.name,
            role: t.role,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// Creates and stores a token (used by the API and by `verdict token create`).
pub async fn issue_token(
    store: &Store,
    role: Role,
    name: Option<&str>,
) -> Result<CreatedToken, StoreError> {
    let token = generate_token();
    let row = TokenRow {
        id: Uuid::now_v7(),
        name: name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(role.as_str())
            .to_owned(),
        role,
        token_hash: hash_token(&token),
        created_at: utc_now(),
        revoked_at: None,
    };
    store.insert_token(&row).await?;
    Ok(CreatedToken {
        id: row.id,
        name: row.name,
        role: row.role,
        created_at: row.created_at,
        token,
    })
}

/// Creates a token.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    request_body = CreateToken,
    responses(
        (status = 201, description = "Created; the token is in the body, once", body = CreatedToken),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role or name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
pub async fn create_token(
    _who: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    if req.name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        return Err(invalid_field("name", "must be at most 100 characters"));
    }
    let created = issue_token(&state.store, req.role, req.name.as_deref()).await?;
    tracing::info!(token_id = %created.id, role = %created.role, "API token created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists tokens (without the tokens).
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "tokens",
    responses(
        (status = 200, description = "Every token, revoked ones included", body = Vec<TokenInfo>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
pub async fn list_tokens(
    _who: Admin,
    State(state): State<AppState>,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    let rows = state.store.list_tokens().await?;
    Ok(Json(rows.into_iter().map(TokenInfo::from).collect()))
}

/// Revokes a token; it stops working at once on this server.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "tokens",
    params(("id" = Uuid, Path, description = "Token id")),
    responses(
        (status = 200, description = "Revoked", body = TokenInfo),
        (status = 404, description = "No such token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["admin"]))
)]
pub async fn revoke_token(
    _who: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    let id = parse_id("a token", &id)?;
    let row = state
        .store
        .revoke_token(id, utc_now())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no token with id {id}")))?;
    state.tokens.forget(id);
    Ok(Json(row.into()))
}
