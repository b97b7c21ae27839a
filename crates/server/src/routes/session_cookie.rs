//! The browser app's refresh token as a cookie: `HttpOnly` (no script reads it), `SameSite=Strict`
//! (no other site's request carries it), scoped to `/api/v1/auth`, and `Secure` unless the
//! server speaks plain HTTP on loopback (development). A client asks for it with the
//! `X-Medvault-Session: cookie` header, which a refresh by cookie needs too: another site cannot
//! set that header, so the cookie alone never renews a session. API clients that send no header
//! keep getting the token in the JSON body.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, HttpResponse};
use medvault_types::{REFRESH_COOKIE, SESSION_MODE_COOKIE, SESSION_MODE_HEADER, TokenResponse};

use crate::state::AppState;

/// The path the cookie is sent to: sign-in, refresh and sign-out.
const COOKIE_PATH: &str = "/api/v1/auth";

/// Whether the client asked for its refresh token as a cookie.
pub fn wanted(req: &HttpRequest) -> bool {
    req.headers()
        .get(SESSION_MODE_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case(SESSION_MODE_COOKIE))
}

/// The refresh token the cookie carries, if any.
pub fn token(req: &HttpRequest) -> Option<String> {
    req.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned())
}

fn secure(state: &AppState) -> bool {
    state.config.tls.is_some() || !state.config.bind.ip().is_loopback()
}

fn base(state: &AppState, value: String) -> Cookie<'static> {
    let mut cookie = Cookie::new(REFRESH_COOKIE, value);
    cookie.set_path(COOKIE_PATH);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_secure(secure(state));
    cookie
}

/// The `200` answer of a sign-in or refresh: in cookie mode the refresh token moves from the
/// body into the cookie, which lives as long as the session.
pub fn tokens_answer(
    state: &AppState,
    cookie_mode: bool,
    mut tokens: TokenResponse,
) -> HttpResponse {
    let mut answer = HttpResponse::Ok();
    if cookie_mode && let Some(token) = tokens.refresh_token.take() {
        let left = (tokens.session_expires_at - state.clock.now_utc())
            .num_seconds()
            .max(0);
        let mut cookie = base(state, token);
        cookie.set_max_age(actix_web::cookie::time::Duration::seconds(left));
        answer.cookie(cookie);
    }
    answer.json(tokens)
}

/// A cookie that removes the refresh cookie (sign-out).
pub fn removal(state: &AppState) -> Cookie<'static> {
    let mut cookie = base(state, String::new());
    cookie.make_removal();
    cookie
}
