//! Bearer-token authentication and role checks.
//!
//! Tokens are `vdt_` + 64 hex digits (256 random bits). Only their SHA-256
//! is stored: a fast hash is enough for a secret with that much entropy
//! (nobody can guess one, so slow hashing buys nothing), and it keeps the
//! check to one indexed lookup. Validated tokens are remembered for
//! `http.auth_cache_ttl` (revocations through this server apply at once).
//!
//! Handlers state the role they need with an extractor ([`Viewer`],
//! [`Operator`], [`Admin`]) as their first argument, so authentication runs
//! before the body is read. Must not: log or return a token, or tell apart
//! "unknown" and "revoked" to the caller.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::AppState;
use super::error::ApiError;
use crate::store::Role;

/// The prefix of every verdict API token.
pub const TOKEN_PREFIX: &str = "vdt_";
/// Most entries the token cache holds before it starts over.
const CACHE_CAPACITY: usize = 10_000;

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's id (not the token).
    pub token_id: Uuid,
    /// The token's name.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// A new random token. Show it once; store [`hash_token`] of it.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex(&bytes))
}

/// The hex SHA-256 of a token, as stored in `api_tokens.token_hash`.
pub fn hash_token(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// The hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

/// Remembers validated tokens (by hash) for a short time.
#[derive(Debug)]
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl TokenCache {
    /// A cache keeping entries for `ttl` (zero: no caching).
    pub fn new(ttl: Duration) -> Self {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, hash: &str) -> Option<Principal> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(p, _)| p.clone())
    }

    fn put(&self, hash: String, principal: Principal) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(hash, (principal, Instant::now()));
        }
    }

    /// Forgets a token (after it was revoked).
    pub fn forget(&self, token_id: Uuid) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (p, _)| p.token_id != token_id);
        }
    }
}

/// Authenticates the request's bearer token.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let header = headers.get(AUTHORIZATION).ok_or(ApiError::Unauthorized(
        "this route needs an `Authorization: Bearer <token>` header",
    ))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ))?;
    let hash = hash_token(token);
    if let Some(p) = state.tokens.get(&hash) {
        return Ok(p);
    }
    let row = state
        .store
        .find_active_token(&hash)
        .await?
        .ok_or(ApiError::Unauthorized("the token is unknown or revoked"))?;
    let principal = Principal {
        token_id: row.id,
        name: row.name,
        role: row.role,
    };
    state.tokens.put(hash, principal.clone());
    Ok(principal)
}

/// Authenticates and checks the role.
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    role: Role,
) -> Result<Principal, ApiError> {
    let p = authenticate(state, headers).await?;
    if p.role.allows(role) {
        Ok(p)
    } else {
        Err(ApiError::Forbidden {
            required: role,
            have: p.role,
        })
    }
}

macro_rules! role_extractor {
    ($(#[$meta:meta])* $name:ident => $role:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Principal);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;
            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, Self::Rejection> {
                require(state, &parts.headers, $role).await.map($name)
            }
        }
    };
}

role_extractor!(
    /// A request by a token with at least the viewer role.
    Viewer => Role::Viewer
);
role_extractor!(
    /// A request by a token with at least the operator role.
    Operator => Role::Operator
);
role_extractor!(
    /// A request by an admin token.
    Admin => Role::Admin
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_in_hex_with_a_prefix() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert!(a.starts_with("vdt_"));
        assert!(a[4..].bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_stored_hash_is_the_sha256_of_the_token() {
        // sha256("abc"), a published test vector.
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_cache_forgets_revoked_tokens_and_expires() {
        let cache = TokenCache::new(Duration::from_secs(60));
        let p = Principal {
            token_id: Uuid::nil(),
            name: "ci".into(),
            role: Role::Operator,
        };
        cache.put("h".into(), p.clone());
        assert_eq!(cache.get("h"), Some(p));
        cache.forget(Uuid::nil());
        assert_eq!(cache.get("h"), None);
        let off = TokenCache::new(Duration::ZERO);
        off.put(
            "h".into(),
            Principal {
                token_id: Uuid::nil(),
                name: "x".into(),
                role: Role::Admin,
            },
        );
        assert_eq!(off.get("h"), None);
    }
}
