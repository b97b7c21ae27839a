//! Security headers on every response: a strict Content-Security-Policy for the browser app
//! and the API (a looser one only for the API docs page, whose Swagger UI needs inline script
//! and style), plus `Permissions-Policy` and `Cross-Origin-Opener-Policy`. The static ones
//! (`nosniff`, `X-Frame-Options`, `Referrer-Policy`, `Cache-Control`) are set in `build_app`.
//!
//! The app's policy allows scripts from this origin only, WebAssembly compilation
//! (`'wasm-unsafe-eval'`), no inline script or style, `data:` images (the authenticator QR code),
//! requests to this origin only, no plugins, no framing and no `<base>`. When the server
//! terminates TLS itself (`tls` in the configuration) every response also carries HSTS
//! (two years, subdomains); otherwise that is the TLS terminator's job.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{CONTENT_SECURITY_POLICY, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The policy of the browser app and every API answer.
pub const APP_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
    object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The policy of the API docs page (`/api/docs/`): Swagger UI needs inline script and style.
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Browser features the app never uses, switched off.
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=()";

/// `Strict-Transport-Security` when the server terminates TLS.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Middleware: sets the policies on the response.
pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let docs = req.path().starts_with("/api/docs");
    let tls = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|s| s.config.tls.is_some());
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if tls {
        headers.insert(
            actix_web::http::header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if docs { DOCS_CSP } else { APP_CSP }),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    Ok(res)
}
