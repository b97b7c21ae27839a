//! Typed extractors: a handler states who may call it by its argument type.
//!
//! * [`SignedIn`]: any valid session, even one that must still change its password (only
//!   `GET /me`, `POST /me/password` and logout take this).
//! * [`AnyUser`]: any role, password already changed.
//! * [`AdminUser`], [`DoctorUser`], [`PatientUser`]: that role, built on [`AnyUser`].
//! * [`ClinicalUser`]: a doctor or a patient (the parties to care and consent); admins get 403.
//!
//! Missing or invalid token -> 401; wrong role or pending password change -> 403. Every
//! request re-reads the user row and the session, so deactivation, logout and password change
//! take effect at the next request, not at token expiry.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use medvault_types::{Role, SessionId, UserId};

use crate::accounts::users;
use crate::auth::sessions;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// Who is calling, as verified against the database for this request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// User id.
    pub id: UserId,
    /// Login email.
    pub email: String,
    /// Role.
    pub role: Role,
    /// Session of the access token.
    pub session_id: SessionId,
    /// Temporary password still in use.
    pub must_change_password: bool,
}

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::Unauthorized)?
        .to_str()
        .map_err(|_| ApiError::Unauthorized)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized);
    }
    Ok(token.trim().to_string())
}

/// Verifies the token, then loads the user and session; any mismatch is 401.
fn authenticate(req: &HttpRequest) -> Fut<AuthUser> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| ApiError::internal("app state missing"))?;
        let claims = state.jwt.verify(&token?)?;
        db::run(&state.pool, move |conn| {
            let user = users::find(conn, UserId::from(claims.sub))?
                .filter(|u| u.active)
                .ok_or(ApiError::Unauthorized)?;
            let role = user.role()?;
            if role != claims.role || !sessions::is_live(conn, &claims.sid.to_string(), &user.id)? {
                return Err(ApiError::Unauthorized);
            }
            Ok(AuthUser {
                id: UserId::from(claims.sub),
                email: user.email,
                role,
                session_id: SessionId::from(claims.sid),
                must_change_password: user.must_change_password,
            })
        })
        .await
    })
}

/// Any valid session, including one that must still change its password.
#[derive(Debug, Clone)]
pub struct SignedIn(pub AuthUser);

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move { fut.await.map(SignedIn) })
    }
}

/// Any role, with a password of their own.
#[derive(Debug, Clone)]
pub struct AnyUser(pub AuthUser);

impl FromRequest for AnyUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move {
            let user = fut.await?;
            if user.must_change_password {
                return Err(ApiError::PasswordChangeRequired);
            }
            Ok(AnyUser(user))
        })
    }
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub AuthUser);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Fut<Self>;

            fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
                let fut = AnyUser::from_request(req, payload);
                Box::pin(async move {
                    let AnyUser(user) = fut.await?;
                    if user.role != $role {
                        return Err(ApiError::Forbidden);
                    }
                    Ok($name(user))
                })
            }
        }
    };
}

role_extractor!(
    /// An administrator.
    AdminUser,
    Role::Admin
);
role_extractor!(
    /// A doctor.
    DoctorUser,
    Role::Doctor
);
role_extractor!(
    /// A patient.
    PatientUser,
    Role::Patient
);

/// A doctor or a patient: the parties to care, consent and clinical history. Admins manage
/// accounts and get 403 here.
#[derive(Debug, Clone)]
pub struct ClinicalUser(pub AuthUser);

impl FromRequest for ClinicalUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = AnyUser::from_request(req, payload);
        Box::pin(async move {
            let AnyUser(user) = fut.await?;
            match user.role {
                Role::Doctor | Role::Patient => Ok(ClinicalUser(user)),
                Role::Admin => Err(ApiError::Forbidden),
            }
        })
    }
}
