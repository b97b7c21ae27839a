//! Access tokens: HS256 JWTs with the algorithm pinned and `exp`, `nbf`, `iss`, `aud`, `typ`
//! checked. They name the session (`sid`), which the extractor checks is still live.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use medvault_types::Role;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;

/// The `typ` claim of access tokens (refresh tokens are opaque, never JWTs).
const ACCESS_TYP: &str = "access";
/// Seconds of clock skew tolerated on `exp`/`nbf`.
const LEEWAY_SECS: u64 = 5;
/// Shortest accepted signing key.
pub const MIN_SECRET_BYTES: usize = 32;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    /// Role at issue time (re-checked against the database on every request).
    pub role: Role,
    /// Session id.
    pub sid: Uuid,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Token type, always `access`.
    pub typ: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
}

/// Signing and verification keys with the one accepted algorithm.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: u64,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from `secret` (at least 32 bytes); tokens live `ttl_secs`.
    pub fn new(secret: &SecretString, issuer: &str, ttl_secs: u64) -> anyhow::Result<Self> {
        let bytes = secret.expose_secret().as_bytes();
        anyhow::ensure!(
            bytes.len() >= MIN_SECRET_BYTES,
            "the JWT secret must be at least {MIN_SECRET_BYTES} bytes"
        );
        let audience = format!("{issuer}-api");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Ok(Self {
            encoding: EncodingKey::from_secret(bytes)?,
            decoding: DecodingKey::from_secret(bytes)?,
            validation,
            issuer: issuer.to_string(),
            audience,
            ttl_secs,
        })
    }

    /// Access token lifetime in seconds.
    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    /// The audience tokens are issued for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Signs a fresh access token for `user` in session `sid`.
    pub fn issue(&self, user: Uuid, role: Role, sid: Uuid) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user,
            role,
            sid,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            typ: ACCESS_TYP.into(),
            iat: now,
            nbf: now,
            exp: now + i64::try_from(self.ttl_secs).map_err(ApiError::internal)?,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// Verifies signature, algorithm and claims; any failure is a plain 401.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::Unauthorized)?;
        if data.claims.typ != ACCESS_TYP || data.header.alg != Algorithm::HS256 {
            return Err(ApiError::Unauthorized);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn keys(secret: &str) -> JwtKeys {
        JwtKeys::new(&SecretString::from(secret.to_string()), "medvault", 900).unwrap()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

    fn sign(claims: &Claims, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn valid_claims(k: &JwtKeys) -> Claims {
        k.verify(
            &k.issue(Uuid::new_v4(), Role::Doctor, Uuid::new_v4())
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn round_trip() {
        let k = keys(SECRET);
        let user = Uuid::new_v4();
        let sid = Uuid::new_v4();
        let claims = k
            .verify(&k.issue(user, Role::Patient, sid).unwrap())
            .unwrap();
        assert_eq!(
            (claims.sub, claims.role, claims.sid),
            (user, Role::Patient, sid)
        );
    }

    #[test]
    fn short_secret_refused() {
        assert!(JwtKeys::new(&SecretString::from("short".to_string()), "m", 900).is_err());
    }

    #[test]
    fn rejects_tampering_and_wrong_claims() {
        let k = keys(SECRET);
        let base = valid_claims(&k);
        // Wrong key.
        assert!(
            k.verify(&sign(&base, "another-secret-another-secret-xx"))
                .is_err()
        );
        // Expired.
        let mut expired = base.clone();
        expired.exp = Utc::now().timestamp() - 60;
        assert!(k.verify(&sign(&expired, SECRET)).is_err());
        // Not yet valid.
        let mut early = base.clone();
        early.nbf = Utc::now().timestamp() + 600;
        assert!(k.verify(&sign(&early, SECRET)).is_err());
        // Wrong audience, issuer, type.
        let mut aud = base.clone();
        aud.aud = "other".into();
        assert!(k.verify(&sign(&aud, SECRET)).is_err());
        let mut iss = base.clone();
        iss.iss = "other".into();
        assert!(k.verify(&sign(&iss, SECRET)).is_err());
        let mut typ = base.clone();
        typ.typ = "refresh".into();
        assert!(k.verify(&sign(&typ, SECRET)).is_err());
        // Payload edited after signing (role escalation).
        let token = k
            .issue(Uuid::new_v4(), Role::Patient, Uuid::new_v4())
            .unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        payload["role"] = "admin".into();
        let edited = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
        assert!(
            k.verify(&format!("{}.{edited}.{}", parts[0], parts[2]))
                .is_err()
        );
        // alg: none.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(k.verify(&format!("{header}.{}.", parts[1])).is_err());
        // Garbage.
        assert!(k.verify("not.a.jwt").is_err());
        assert!(k.verify("").is_err());
    }
}
