//! How requests travel: bearer token on every call, one renewal and retry on a 401, proactive
//! renewal shortly before the access token expires, uploads with progress through
//! `XMLHttpRequest`, downloads saved through a blob link.
//!
//! No token is ever written to `sessionStorage`, `localStorage` or anywhere else a script could
//! read it later: the access token lives only in this module's memory, and the refresh token
//! only in the `HttpOnly`, `SameSite=Strict` cookie the server sets on sign-in and rotates on
//! each renewal (path `/api/v1/auth`, out of this app's reach). The calls that start, renew or
//! end a session carry [`SESSION_MODE_HEADER`] to ask for that cookie mode (see
//! [`asks_for_cookie`]); a reload keeps only the cookie, and the app starts by renewing with it
//! ([`resume_session`]).
//!
//! Renewal is single-flight: refresh tokens rotate and the server revokes the whole session when
//! a spent one is reused, so two requests meeting a 401 together must not both renew.
//!
//! Every signed-in request (never a renewal, which the server does not count either) is
//! recorded as the session's last activity, for the idle sign-out (`crate::ui::idle`). That
//! time (not a secret) is also kept in `sessionStorage`, so a reload does not restart the idle
//! clock the server keeps running.

use std::cell::{Cell, RefCell};

use gloo_net::http::{Method, RequestBuilder};
use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;

use super::dto::{SESSION_MODE_COOKIE, SESSION_MODE_HEADER, TokenResponse, UserSummary};
use crate::logic::{download::file_name_from_disposition, errors::ApiError, session};

/// `sessionStorage` key of the last activity time (ms since the epoch); never a token.
const LAST_ACTIVITY_KEY: &str = "medvault.last_activity";
/// Where versions before the cookie session kept their tokens; wiped on start.
const LEGACY_SESSION_KEY: &str = "medvault.session";
const API_BASE: &str = "/api/v1";
/// The renewal endpoint (by cookie, with no body).
const REFRESH_PATH: &str = "/auth/refresh";
/// The calls that start, renew or end a session: they ask for the refresh token as a cookie.
const COOKIE_SESSION_PATHS: [&str; 4] = [
    "/auth/login",
    "/auth/login/mfa",
    REFRESH_PATH,
    "/auth/logout",
];

/// The signed-in session as this tab knows it, in memory only.
#[derive(Debug, Clone)]
struct Session {
    /// Bearer token for API calls.
    access_token: String,
    /// Lifetime of the access token in seconds.
    expires_in: u64,
    /// When the access token was received (ms since the epoch).
    issued_at_ms: f64,
    /// The server ends the session after this many seconds without a request.
    idle_timeout_secs: u64,
    /// When the last signed-in request was sent (ms since the epoch).
    last_activity_ms: f64,
    /// The signed-in user, as last told by the server.
    user: UserSummary,
}

/// A callback run with the answer of a renewal.
type RenewedHook = Box<dyn Fn(&TokenResponse)>;

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
    static REFRESHING: Cell<bool> = const { Cell::new(false) };
    static TIMER: RefCell<Option<gloo_timers::callback::Timeout>> = const { RefCell::new(None) };
    static ON_EXPIRED: RefCell<Option<Box<dyn Fn()>>> = RefCell::new(None);
    static ON_RENEWED: RefCell<Option<RenewedHook>> = RefCell::new(None);
    static ON_MUST_CHANGE: RefCell<Option<Box<dyn Fn()>>> = RefCell::new(None);
    static ON_MFA_SETUP: RefCell<Option<Box<dyn Fn()>>> = RefCell::new(None);
}

/// A hook registered by the app, run when its moment comes.
type Hook = std::thread::LocalKey<RefCell<Option<Box<dyn Fn()>>>>;

fn fire(hook: &'static Hook) {
    hook.with(|cb| {
        if let Some(cb) = cb.borrow().as_ref() {
            cb();
        }
    });
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The last activity time this tab wrote before a reload, if any.
fn stored_last_activity() -> Option<f64> {
    let text = storage()?.get_item(LAST_ACTIVITY_KEY).ok().flatten()?;
    text.parse::<f64>().ok().filter(|ms| ms.is_finite())
}

fn store_last_activity(ms: f64) {
    if let Some(s) = storage() {
        let _ = s.set_item(LAST_ACTIVITY_KEY, &ms.to_string());
    }
}

/// Whether a call to `path` (under `/api/v1`) carries [`SESSION_MODE_HEADER`]: exactly the
/// calls that start, renew or end a session, so the refresh token only ever travels as the
/// `HttpOnly` cookie.
pub fn asks_for_cookie(path: &str) -> bool {
    COOKIE_SESSION_PATHS.contains(&path)
}

/// Registers what to do when the session ends for good (renewal refused): the app clears the
/// user and shows the sign-in screen with a message.
pub fn on_session_expired(f: impl Fn() + 'static) {
    ON_EXPIRED.with(|cell| *cell.borrow_mut() = Some(Box::new(f)));
}

/// Registers what to do after each renewal (the app refreshes the user it shows).
pub fn on_session_renewed(f: impl Fn(&TokenResponse) + 'static) {
    ON_RENEWED.with(|cell| *cell.borrow_mut() = Some(Box::new(f)));
}

/// Registers what to do when the server says the password must be changed first (an admin
/// reset it while this session was open): the app sends the user to the change screen.
pub fn on_password_change_required(f: impl Fn() + 'static) {
    ON_MUST_CHANGE.with(|cell| *cell.borrow_mut() = Some(Box::new(f)));
}

/// Registers what to do when the server says a sign-in authenticator app must be set up
/// first (a staff account without one): the app sends the user to the set-up screen.
pub fn on_mfa_setup_required(f: impl Fn() + 'static) {
    ON_MFA_SETUP.with(|cell| *cell.borrow_mut() = Some(Box::new(f)));
}

/// Starts a session from a sign-in answer; signing in counts as activity.
pub fn set_session(resp: &TokenResponse) {
    install(resp, now_ms());
}

/// Keeps the session going with a renewal's answer; the idle clock goes on from the last
/// request (a renewal is not activity).
fn renewed(resp: &TokenResponse) {
    let last = SESSION
        .with(|s| s.borrow().as_ref().map(|s| s.last_activity_ms))
        .unwrap_or_else(now_ms);
    install(resp, last);
}

/// Keeps the answer's access token in memory (never its refresh token, should one come) and
/// schedules the next renewal.
fn install(resp: &TokenResponse, last_activity_ms: f64) {
    let current = Session {
        access_token: resp.access_token.clone(),
        expires_in: resp.expires_in,
        issued_at_ms: now_ms(),
        idle_timeout_secs: resp.idle_timeout_secs,
        last_activity_ms,
        user: resp.user.clone(),
    };
    store_last_activity(last_activity_ms);
    schedule_refresh(&current);
    SESSION.with(|s| *s.borrow_mut() = Some(current));
}

/// Records a change to the signed-in user (password changed, profile renamed).
pub fn set_user(user: &UserSummary) {
    SESSION.with(|s| {
        if let Some(current) = s.borrow_mut().as_mut() {
            current.user = user.clone();
        }
    });
}

/// Records a signed-in request as the session's last activity.
fn record_activity() {
    let now = now_ms();
    let signed_in = SESSION.with(|s| {
        s.borrow_mut()
            .as_mut()
            .map(|current| current.last_activity_ms = now)
            .is_some()
    });
    if signed_in {
        store_last_activity(now);
    }
}

/// The idle clock of the current session: (last activity in ms since the epoch, idle limit in
/// seconds); `None` when signed out.
pub fn idle_clock() -> Option<(f64, u64)> {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .map(|s| (s.last_activity_ms, s.idle_timeout_secs))
    })
}

/// Ends the session on this side at once and hands back its access token, so one last call
/// ([`send_with`]) can still tell the server.
pub fn end_session() -> Option<String> {
    let token = access_token();
    clear_session();
    token
}

/// Ends the session on this side (access token forgotten, timer stopped, idle clock wiped).
/// The refresh cookie is the server's to clear, on sign-out.
pub fn clear_session() {
    SESSION.with(|s| *s.borrow_mut() = None);
    TIMER.with(|t| *t.borrow_mut() = None);
    if let Some(s) = storage() {
        let _ = s.remove_item(LAST_ACTIVITY_KEY);
    }
}

/// Picks up the session the refresh cookie still holds after a reload (or in a new tab): one
/// renewal by cookie. The signed-in user on success; `None` on any failure (no cookie, an
/// ended session, no network), which simply means signed out. The idle clock goes on from the
/// last activity this tab recorded before the reload, when there is one.
pub async fn resume_session() -> Option<UserSummary> {
    if let Some(s) = storage() {
        let _ = s.remove_item(LEGACY_SESSION_KEY);
    }
    let resp = refresh_by_cookie().await.ok()?;
    install(&resp, stored_last_activity().unwrap_or_else(now_ms));
    Some(resp.user)
}

fn access_token() -> Option<String> {
    SESSION.with(|s| s.borrow().as_ref().map(|s| s.access_token.clone()))
}

fn schedule_refresh(current: &Session) {
    let at = session::refresh_at_ms(current.issued_at_ms, current.expires_in);
    let delay = (at - now_ms()).max(0.0);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "non-negative and bounded by the token lifetime"
    )]
    let delay = delay.min(f64::from(u32::MAX)) as u32;
    let timeout = gloo_timers::callback::Timeout::new(delay, || {
        wasm_bindgen_futures::spawn_local(async {
            let _ = renew().await;
        });
    });
    TIMER.with(|t| *t.borrow_mut() = Some(timeout));
}

/// One renewal by the refresh cookie (no body), marked as in flight so no other starts
/// meanwhile.
async fn refresh_by_cookie() -> Result<TokenResponse, ApiError> {
    REFRESHING.with(|r| r.set(true));
    let result = send_json::<(), TokenResponse>(Method::POST, REFRESH_PATH, None, None).await;
    REFRESHING.with(|r| r.set(false));
    result
}

/// Renews the access token with the refresh cookie, once even when many callers ask at the
/// same time; a refused renewal ends the session.
async fn renew() -> Result<(), ApiError> {
    if REFRESHING.with(Cell::get) {
        while REFRESHING.with(Cell::get) {
            gloo_timers::future::TimeoutFuture::new(50).await;
        }
        return if access_token().is_some() {
            Ok(())
        } else {
            Err(ApiError::session_expired())
        };
    }
    if access_token().is_none() {
        return Err(ApiError::session_expired());
    }
    match refresh_by_cookie().await {
        Ok(resp) => {
            renewed(&resp);
            ON_RENEWED.with(|cb| {
                if let Some(cb) = cb.borrow().as_ref() {
                    cb(&resp);
                }
            });
            Ok(())
        }
        Err(e) if e.status == 0 || e.status >= 500 => Err(e),
        Err(_) => {
            expire();
            Err(ApiError::session_expired())
        }
    }
}

fn expire() {
    clear_session();
    fire(&ON_EXPIRED);
}

/// Renews now if the token is close to expiry (before a long upload).
pub async fn ensure_fresh() -> Result<(), ApiError> {
    let due = SESSION.with(|s| {
        s.borrow()
            .as_ref()
            .map(|s| session::is_due(s.issued_at_ms, s.expires_in, now_ms()))
    });
    match due {
        Some(true) => renew().await,
        Some(false) => Ok(()),
        None => Err(ApiError::session_expired()),
    }
}

fn url(path: &str) -> String {
    format!("{API_BASE}{path}")
}

/// Sends one request. Cookies go with it the browser's default way for `fetch`
/// (`same-origin`, set here so nobody turns it off): the refresh cookie reaches the session
/// calls, which also carry [`SESSION_MODE_HEADER`].
async fn raw_send<B: Serialize>(
    method: Method,
    path: &str,
    body: Option<&B>,
    token: Option<&str>,
) -> Result<gloo_net::http::Response, ApiError> {
    let mut builder = RequestBuilder::new(&url(path))
        .method(method)
        .credentials(web_sys::RequestCredentials::SameOrigin)
        .header("Accept", "application/json");
    if asks_for_cookie(path) {
        builder = builder.header(SESSION_MODE_HEADER, SESSION_MODE_COOKIE);
    }
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(b) => builder
            .json(b)
            .map_err(|_| ApiError::local(0, "encode", "Could not prepare the request."))?,
        None => builder
            .build()
            .map_err(|_| ApiError::local(0, "encode", "Could not prepare the request."))?,
    };
    request
        .send()
        .await
        .map_err(|e| ApiError::network(&e.to_string()))
}

async fn decode<T: DeserializeOwned>(resp: gloo_net::http::Response) -> Result<T, ApiError> {
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| ApiError::network(&e.to_string()))?;
    if (200..300).contains(&status) {
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        serde_json::from_str(text).map_err(|_| {
            ApiError::local(
                status,
                "decode",
                "medvault answered in an unexpected way. Reload the page and try again.",
            )
        })
    } else {
        Err(ApiError::from_response(status, &text))
    }
}

/// One JSON call without the session logic (sign-in, renewal).
async fn send_json<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&B>,
    token: Option<&str>,
) -> Result<T, ApiError> {
    decode(raw_send(method, path, body, token).await?).await
}

/// Sends with the current access token; on a 401 renews once and tries again.
async fn authed(
    method: Method,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<gloo_net::http::Response, ApiError> {
    let token = access_token().ok_or_else(ApiError::session_expired)?;
    record_activity();
    let resp = raw_send(method.clone(), path, body, Some(&token)).await?;
    if resp.status() != 401 {
        return Ok(resp);
    }
    // Someone may have renewed while this call was out; only renew if not.
    if access_token().as_deref() == Some(token.as_str()) {
        renew().await?;
    }
    let token = access_token().ok_or_else(ApiError::session_expired)?;
    let resp = raw_send(method, path, body, Some(&token)).await?;
    if resp.status() == 401 {
        expire();
        return Err(ApiError::session_expired());
    }
    Ok(resp)
}

/// An anonymous JSON call (sign-in).
pub async fn public<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    send_json(method, path, Some(body), None).await
}

/// An anonymous JSON call whose answer's shape depends on its success status (sign-in: 200
/// with tokens, or 202 with a second-factor challenge): the status and the answer as JSON.
pub async fn public_with_status<B: Serialize>(
    method: Method,
    path: &str,
    body: &B,
) -> Result<(u16, serde_json::Value), ApiError> {
    let resp = raw_send(method, path, Some(body), None).await?;
    let status = resp.status();
    let value = decode(resp).await?;
    Ok((status, value))
}

/// One JSON call with a given access token: no renewal, no retry, not counted as activity
/// (the last word of a session that already ended here).
pub async fn send_with<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&B>,
    token: &str,
) -> Result<T, ApiError> {
    send_json(method, path, body, Some(token)).await
}

/// An authenticated JSON call: `body` serialised as JSON when given, the answer decoded as `T`.
pub async fn call<B: Serialize, T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<&B>,
) -> Result<T, ApiError> {
    let value = match body {
        Some(b) => Some(
            serde_json::to_value(b)
                .map_err(|_| ApiError::local(0, "encode", "Could not prepare the request."))?,
        ),
        None => None,
    };
    let result = decode(authed(method, path, value.as_ref()).await?).await;
    if let Err(e) = &result {
        match e.code.as_str() {
            "password_change_required" => fire(&ON_MUST_CHANGE),
            "mfa_setup_required" => fire(&ON_MFA_SETUP),
            _ => {}
        }
    }
    result
}

/// A signed-in download: fetches `path`, then hands the bytes to the browser as a file named
/// from the answer's `Content-Disposition` (or `fallback_name`).
pub async fn download(path: &str, fallback_name: &str) -> Result<(), ApiError> {
    let resp = authed(Method::GET, path, None).await?;
    let status = resp.status();
    if !(200..300).contains(&status) {
        let text = resp.text().await.unwrap_or_default();
        return Err(ApiError::from_response(status, &text));
    }
    let name = resp
        .headers()
        .get("content-disposition")
        .and_then(|h| file_name_from_disposition(&h))
        .unwrap_or_else(|| fallback_name.to_string());
    // Re-wrap the body stream so the bytes go straight into a blob, never into wasm memory.
    let raw = web_sys::Response::new_with_opt_readable_stream(resp.body().as_ref())
        .map_err(|_| ApiError::local(0, "download", "The download could not be read."))?;
    let blob_promise = raw
        .blob()
        .map_err(|_| ApiError::local(0, "download", "The download could not be read."))?;
    let blob: web_sys::Blob = JsFuture::from(blob_promise)
        .await
        .map_err(|_| ApiError::network("blob"))?
        .unchecked_into();
    save_blob(&blob, &name)
}

fn save_blob(blob: &web_sys::Blob, name: &str) -> Result<(), ApiError> {
    let fail = || ApiError::local(0, "download", "The browser could not save the file.");
    let href = web_sys::Url::create_object_url_with_blob(blob).map_err(|_| fail())?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(fail)?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| fail())?
        .unchecked_into();
    anchor.set_href(&href);
    anchor.set_download(name);
    anchor.set_hidden(true);
    let body = document.body().ok_or_else(fail)?;
    body.append_child(&anchor).map_err(|_| fail())?;
    anchor.click();
    let _ = body.remove_child(&anchor);
    // Give the browser time to start the download before the blob URL goes away.
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&href);
    })
    .forget();
    Ok(())
}

/// Sends a multipart form with `XMLHttpRequest` so the upload's progress can be shown;
/// `on_progress` gets whole percentages. Renews the session first when due and once on a 401.
pub async fn upload<T: DeserializeOwned>(
    path: &str,
    form: &web_sys::FormData,
    on_progress: impl Fn(u8) + Clone + 'static,
) -> Result<T, ApiError> {
    ensure_fresh().await?;
    let token = access_token().ok_or_else(ApiError::session_expired)?;
    record_activity();
    let (mut status, mut text) = xhr_send(path, form, &token, on_progress.clone()).await?;
    if status == 401 {
        renew().await?;
        let token = access_token().ok_or_else(ApiError::session_expired)?;
        (status, text) = xhr_send(path, form, &token, on_progress).await?;
    }
    if (200..300).contains(&status) {
        serde_json::from_str(&text).map_err(|_| {
            ApiError::local(
                status,
                "decode",
                "The upload finished but the answer was unreadable.",
            )
        })
    } else {
        Err(ApiError::from_response(status, &text))
    }
}

async fn xhr_send(
    path: &str,
    form: &web_sys::FormData,
    token: &str,
    on_progress: impl Fn(u8) + 'static,
) -> Result<(u16, String), ApiError> {
    let net = |_| ApiError::network("xhr");
    let xhr = web_sys::XmlHttpRequest::new().map_err(net)?;
    // `withCredentials` stays at its default (false): a same-origin request still carries
    // cookies; the refresh cookie is scoped to `/api/v1/auth` and never goes with an upload.
    xhr.open("POST", &url(path)).map_err(net)?;
    xhr.set_request_header("Authorization", &format!("Bearer {token}"))
        .map_err(net)?;
    xhr.set_request_header("Accept", "application/json")
        .map_err(net)?;
    let progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() {
                on_progress(crate::logic::format::percent(ev.loaded(), ev.total()));
            }
        });
    xhr.upload()
        .map_err(net)?
        .set_onprogress(Some(progress.as_ref().unchecked_ref()));
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
    });
    xhr.send_with_opt_form_data(Some(form)).map_err(net)?;
    let outcome = JsFuture::from(done).await;
    drop(progress);
    outcome.map_err(|_: JsValue| ApiError::network("upload"))?;
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    Ok((xhr.status().map_err(net)?, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_session_calls_ask_for_the_cookie() {
        for path in [
            "/auth/login",
            "/auth/login/mfa",
            "/auth/refresh",
            "/auth/logout",
        ] {
            assert!(asks_for_cookie(path), "{path}");
        }
        for path in ["/auth/reauthenticate", "/me", "/records", "/auth/refresh/x"] {
            assert!(!asks_for_cookie(path), "{path}");
        }
    }
}
