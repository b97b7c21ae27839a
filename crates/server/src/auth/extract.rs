//! Typed extractors: a handler states who may call it by its argument type.
//!
//! * [`SignedIn`]: any valid session, even one that must still change its password (only
//!   `GET /me`, `POST /me/password` and logout take this).
//! * [`PasswordSet`]: password already changed, second factor perhaps not yet set up (only the
//!   second-factor set-up endpoints take this).
//! * [`AnyUser`]: any role, password already changed, and a second factor set up where the
//!   role requires one (`auth.staff_mfa_required`).
//! * [`AdminUser`], [`DoctorUser`], [`PatientUser`]: that role, built on [`AnyUser`].
//! * [`ClinicalUser`]: a doctor or a patient (the parties to care and consent); admins get 403.
//!
//! Missing or invalid token, or a session that ended (revoked, idle too long, past its absolute
//! end) -> 401; wrong role, pending password change or pending second-factor set-up -> 403.
//! Every request re-reads the user row and the session, so deactivation, logout and password
//! change take effect at the next request, not at token expiry. A request is the session's
//! activity: its time is written when the stored one is about a minute old (`sessions`).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use medvault_types::{Role, SessionId, UserId};

use crate::auth::mfa;
use crate::auth::sessions::{self, Lifetime, Use};
use crate::client_addr::ClientAddr;
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
    /// The role requires a second factor and none is set up yet.
    pub mfa_setup_required: bool,
    /// Where the request came from (`client_addr`), which the sign-in throttle keys on when the
    /// user confirms a password or code.
    pub address: std::net::IpAddr,
    /// The account as read for this request: `GET /me` answers with it instead of reading the
    /// row a second time.
    pub account: medvault_types::User,
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

/// Verifies the token, then loads the user and session (one query); any mismatch, or a
/// session that has ended, is 401. Records the request as the session's activity when the stored time is stale.
fn authenticate(req: &HttpRequest) -> Fut<AuthUser> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    let address = ClientAddr::extract(req).into_inner().map(|a| a.0);
    Box::pin(async move {
        let address = address?;
        let state = state.ok_or_else(|| ApiError::internal("app state missing"))?;
        let claims = state.jwt.verify(&token?)?;
        let now = state.clock.now();
        let config = state.config.auth.clone();
        let (user, seen) = db::run(&state.pool, move |conn| {
            let id = UserId::from(claims.sub);
            let sid = claims.sid.to_string();
            let bearer = sessions::load_bearer(conn, id, &sid)?
                .filter(|b| b.user.active)
                .ok_or(ApiError::Unauthorized)?;
            let role = bearer.user.role()?;
            if role != claims.role {
                return Err(ApiError::Unauthorized);
            }
            let seen = bearer
                .session_use(Lifetime::of(&config, role), now)
                .ok_or(ApiError::Unauthorized)?;
            let mfa_setup_required = mfa::required_for(&config, role) && !bearer.mfa_enabled;
            let user = bearer.user;
            let account = user.to_dto()?;
            let user = AuthUser {
                id,
                email: user.email,
                role,
                session_id: SessionId::from(claims.sid),
                must_change_password: user.must_change_password,
                mfa_setup_required,
                address,
                account,
            };
            Ok((user, seen))
        })
        .await?;
        if seen == Use::LiveStale {
            let sid = user.session_id.to_string();
            db::write(&state.pool, move |conn| sessions::touch(conn, &sid, now)).await?;
        }
        Ok(user)
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

/// Any role, with a password of their own; a second factor perhaps not yet set up.
#[derive(Debug, Clone)]
pub struct PasswordSet(pub AuthUser);

impl FromRequest for PasswordSet {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = authenticate(req);
        Box::pin(async move {
            let user = fut.await?;
            if user.must_change_password {
                return Err(ApiError::PasswordChangeRequired);
            }
            Ok(PasswordSet(user))
        })
    }
}

/// Any role, with a password of their own and a second factor where the role requires one.
#[derive(Debug, Clone)]
pub struct AnyUser(pub AuthUser);

impl FromRequest for AnyUser {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = PasswordSet::from_request(req, payload);
        Box::pin(async move {
            let PasswordSet(user) = fut.await?;
            if user.mfa_setup_required {
                return Err(ApiError::MfaSetupRequired);
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
