//! The JSON request body extractor: actix's `web::Json` (content type, size limit, syntax
//! errors as 400, through the app's `JsonConfig`) plus one rule serde cannot state: the body
//! must be a JSON object. Serde reads a struct from an array of its fields in order too
//! (`[null, null]` would be a valid `PATCH`), which no client means and the schema forbids;
//! such a body is refused with 422 like any other body of the wrong shape.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A request body that is a JSON object deserialised into `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The deserialised body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            object(value).map(Json).map_err(Into::into)
        })
    }
}

/// `value` as a `T`, when it is a JSON object of `T`'s shape.
fn object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| ApiError::field("body", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        phone: Option<String>,
        city: Option<String>,
    }

    #[test]
    fn only_objects_are_bodies() {
        assert!(serde_json::from_value::<Patch>(json!([null, null])).is_ok());
        for not_an_object in [json!([null, null]), json!(null), json!("x"), json!(1)] {
            assert!(object::<Patch>(not_an_object).is_err());
        }
        assert_eq!(
            object::<Patch>(json!({"city": "Lagos"})).unwrap(),
            Patch {
                phone: None,
                city: Some("Lagos".into())
            }
        );
        assert!(object::<Patch>(json!({"town": "Lagos"})).is_err());
    }
}
