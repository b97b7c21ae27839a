//! A panic in request handling never takes a connection down silently.
//!
//! Before the response head is sent, a panic becomes a 500 with the error envelope (the cause
//! is logged, never sent), exactly like any other internal error. After the head (a body
//! streaming out, e.g. a download), the status is already on the wire: the body ends with an
//! error, so the connection is aborted and the client sees a truncated transfer, never a
//! "complete" one; the panic is logged, and the body's own drop guards run (a download's
//! failure watch ledgers it as `record.download_failed`).

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::Error;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::FutureExt;

use crate::error::ApiError;

/// Middleware: answers a handler's panic with a 500 envelope and guards the body stream.
///
/// The 500 goes out as the service's error (the request cannot be kept to build a response
/// from: routing needs it unshared), which actix renders through [`ApiError`]'s envelope; the
/// access log still records it.
pub async fn catch(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<PanicGuard<impl MessageBody>>, Error> {
    let method = req.method().clone();
    let path = req.path().to_owned();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result.map(|res| res.map_body(|_, body| PanicGuard(Box::pin(body)))),
        Err(panic) => {
            tracing::error!(
                %method,
                %path,
                panic = %message(panic.as_ref()),
                "handler panicked before the response"
            );
            Err(ApiError::internal("handler panicked").into())
        }
    }
}

/// A response body whose panics end the body with an error instead of unwinding through the
/// server. (Boxed: one allocation per response buys a safe `Unpin` projection.)
pub struct PanicGuard<B>(Pin<Box<B>>);

impl<B: MessageBody> MessageBody for PanicGuard<B> {
    type Error = Error;

    fn size(&self) -> BodySize {
        self.0.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let inner = self.get_mut().0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll_next(cx))) {
            Ok(Poll::Ready(Some(Err(e)))) => {
                Poll::Ready(Some(Err(ApiError::internal(e.into()).into())))
            }
            Ok(Poll::Ready(Some(Ok(bytes)))) => Poll::Ready(Some(Ok(bytes))),
            Ok(Poll::Ready(None)) => Poll::Ready(None),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => {
                tracing::error!(
                    panic = %message(panic.as_ref()),
                    "response body panicked after the head; aborting the transfer"
                );
                Poll::Ready(Some(Err(ApiError::internal("body panicked").into())))
            }
        }
    }
}

/// The panic's message, when it carries one.
fn message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;
    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test, web};
    use futures_util::stream;
    use medvault_types::ErrorBody;

    use super::catch;

    async fn boom() -> HttpResponse {
        panic!("a bug in a handler");
    }

    async fn fine() -> HttpResponse {
        HttpResponse::Ok().body("ok")
    }

    async fn boom_mid_body() -> HttpResponse {
        let mut sent = false;
        let body = stream::poll_fn(move |_| {
            assert!(!sent, "a bug while streaming");
            sent = true;
            std::task::Poll::Ready(Some(Ok::<_, actix_web::Error>(web::Bytes::from_static(
                b"first part",
            ))))
        });
        HttpResponse::Ok().streaming(body)
    }

    #[actix_web::test]
    async fn a_panic_before_the_head_is_a_500_envelope_and_the_worker_lives_on() {
        let app = test::init_service(
            App::new()
                .route("/boom", web::get().to(boom))
                .route("/fine", web::get().to(fine))
                .wrap(from_fn(catch)),
        )
        .await;
        let err = test::try_call_service(&app, test::TestRequest::get().uri("/boom").to_request())
            .await
            .expect_err("the panic becomes the service's error");
        let res = err.error_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body.error.code, "internal");
        assert!(!body.error.message.contains("bug"), "the cause is not sent");
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/fine").to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[actix_web::test]
    async fn a_panic_after_the_head_ends_the_body_with_an_error() {
        let app = test::init_service(
            App::new()
                .route("/stream", web::get().to(boom_mid_body))
                .wrap(from_fn(catch)),
        )
        .await;
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/stream").to_request()).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = actix_web::body::to_bytes(res.into_body()).await;
        assert!(body.is_err(), "the transfer must not look complete");
    }
}
