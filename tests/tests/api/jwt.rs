//! Forged, expired, re-targeted and garbage access tokens are all 401.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use medvault_tests::{Backend, TestApp, expect_error, on_both_backends};
use reqwest::StatusCode;
use serde_json::Value;

on_both_backends!(bad_tokens_are_rejected);

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64")).expect("json")
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).expect("key"),
    )
    .expect("sign")
}

async fn bad_tokens_are_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cast = app.cast().await;
    let token = cast.patient.token.clone();
    let claims = payload(&token);
    let me = |t: String| {
        let app = &app;
        async move { app.get("/api/v1/me", Some(&t)).await }
    };

    // Control: the same claims signed with the server's key are accepted, so every rejection
    // below is due to the one thing changed.
    assert_eq!(
        me(sign(&claims, &app.jwt_secret)).await.status(),
        StatusCode::OK
    );

    let mut cases: Vec<(&str, String)> = Vec::new();
    // alg: none, unsigned.
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = token.split('.').nth(1).expect("payload").to_string();
    cases.push(("alg none", format!("{none_header}.{body}.")));
    // HS512 with the right key (algorithm not pinned would accept it).
    cases.push((
        "other alg",
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims,
            &EncodingKey::from_secret(app.jwt_secret.as_bytes()).expect("key"),
        )
        .expect("sign"),
    ));
    cases.push((
        "wrong key",
        sign(&claims, "some-other-key-some-other-key-000"),
    ));
    let now = chrono::Utc::now().timestamp();
    let mut expired = claims.clone();
    expired["exp"] = (now - 120).into();
    expired["iat"] = (now - 1000).into();
    expired["nbf"] = (now - 1000).into();
    cases.push(("expired", sign(&expired, &app.jwt_secret)));
    let mut future = claims.clone();
    future["nbf"] = (now + 600).into();
    cases.push(("not yet valid", sign(&future, &app.jwt_secret)));
    let mut aud = claims.clone();
    aud["aud"] = "someone-else".into();
    cases.push(("wrong audience", sign(&aud, &app.jwt_secret)));
    let mut iss = claims.clone();
    iss["iss"] = "someone-else".into();
    cases.push(("wrong issuer", sign(&iss, &app.jwt_secret)));
    let mut typ = claims.clone();
    typ["typ"] = "refresh".into();
    cases.push(("wrong typ", sign(&typ, &app.jwt_secret)));
    // Role edited in the payload, original signature kept.
    let mut admin_claims = claims.clone();
    admin_claims["role"] = "admin".into();
    let edited = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&admin_claims).expect("json"));
    let parts: Vec<&str> = token.split('.').collect();
    cases.push(("edited role", format!("{}.{edited}.{}", parts[0], parts[2])));
    // Role edited and re-signed with the real key: the database disagrees.
    cases.push(("re-signed role", sign(&admin_claims, &app.jwt_secret)));
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().expect("object").remove("exp");
    cases.push(("missing exp", sign(&no_exp, &app.jwt_secret)));
    let mut foreign_session = claims.clone();
    foreign_session["sid"] = uuid::Uuid::new_v4().to_string().into();
    cases.push(("unknown session", sign(&foreign_session, &app.jwt_secret)));
    cases.push(("garbage", "garbage".into()));
    cases.push(("empty segments", "..".into()));

    for (name, bad) in cases {
        let resp = me(bad).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{name}");
        expect_error(resp, StatusCode::UNAUTHORIZED).await;
    }
    // Admin route with the re-signed admin role: still 401, never 200.
    let resp = app
        .get(
            "/api/v1/admin/doctors",
            Some(&sign(&admin_claims, &app.jwt_secret)),
        )
        .await;
    expect_error(resp, StatusCode::UNAUTHORIZED).await;
    // Wrong scheme.
    let resp = app
        .request(reqwest::Method::GET, "/api/v1/me", None)
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .expect("send");
    expect_error(resp, StatusCode::UNAUTHORIZED).await;
}
