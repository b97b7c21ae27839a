//! medvault server: the actix-web application, its configuration, database, authentication
//! and routes. The binary (`main.rs`), the black-box tests and the OpenAPI export all build
//! the app through [`build_app`].

pub mod access;
pub mod accounts;
pub mod auth;
pub mod bootstrap;
pub mod client_addr;
pub mod clock;
pub mod config;
pub mod consent;
pub mod db;
pub mod emergency;
pub mod error;
pub mod headers;
pub mod history;
pub mod keys;
pub mod ledger;
pub mod mail;
pub mod openapi;
pub mod overview;
pub mod panics;
pub mod patient_key;
pub mod read_models;
pub mod records;
pub mod routes;
pub mod secrets;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod time;
pub mod transfers;
pub mod transport;
pub mod validate;

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError as _, web};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::state::AppState;

/// The whole application for one worker.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (json, query, path) = error::extractor_configs(state.config.http.json_limit_bytes);
    App::new()
        .app_data(state)
        .app_data(json)
        .app_data(query)
        .app_data(path)
        .configure(routes::config)
        .service(
            SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi::ApiDoc::openapi()),
        )
        .default_service(web::to(fallback))
        .wrap(from_fn(panics::catch))
        .wrap(
            DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Referrer-Policy", "no-referrer"))
                .add(("Cache-Control", "no-store")),
        )
        .wrap(from_fn(headers::add))
        .wrap(from_fn(telemetry::log_requests))
}

/// Requests no route took: a known API path with another method is 405 (with the `Allow`
/// header RFC 9110 requires); otherwise the SPA's
/// `index.html` for browser paths when an SPA directory is configured, a 404 envelope
/// otherwise (always for `/api/...`).
async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    if let Some(allow) = routes::allowed_methods(path) {
        let mut response = ApiError::MethodNotAllowed.error_response();
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
            response
                .headers_mut()
                .insert(actix_web::http::header::ALLOW, value);
        }
        return Ok(response);
    }
    let Some(dir) = state.config.spa_dir.as_ref() else {
        return Err(ApiError::NotFound);
    };
    if path.starts_with("/api/") || path == "/api" || req.method() != actix_web::http::Method::GET {
        return Err(ApiError::NotFound);
    }
    // Static asset if it exists (no `..` components), else the SPA entry point.
    let relative = path.trim_start_matches('/');
    let safe = !relative
        .split('/')
        .any(|seg| seg == ".." || seg.starts_with('.'));
    let candidate = dir.join(relative);
    let file = if safe && !relative.is_empty() && candidate.is_file() {
        candidate
    } else {
        dir.join("index.html")
    };
    let named = actix_files::NamedFile::open_async(&file)
        .await
        .map_err(|_| ApiError::NotFound)?;
    Ok(named.into_response(&req))
}

/// Serves the app on `listener` until stopped.
pub fn run(listener: TcpListener, state: web::Data<AppState>) -> std::io::Result<Server> {
    let workers = state
        .config
        .http
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    if state.config.records.collector_interval_secs > 0 {
        tokio::spawn(records::collector::run(state.clone()));
    }
    if state.config.scrub.interval_secs > 0 {
        tokio::spawn(storage::scrubber::run(state.clone()));
    }
    tokio::spawn(emergency::lifecycle::sweep_forever(
        state.clone().into_inner(),
        std::time::Duration::from_secs(60),
    ));
    let tls = state
        .config
        .tls
        .as_ref()
        .map(transport::server_config)
        .transpose()
        .map_err(std::io::Error::other)?;
    let server = HttpServer::new(move || build_app(state.clone())).workers(workers);
    let server = match tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls)?,
        None => server.listen(listener)?,
    };
    Ok(server.run())
}
