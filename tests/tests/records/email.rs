//! The consent code by email: a real SMTP server (`aiosmtpd`, from `PyPI`) receives it; the test
//! reads the code from the delivered message and the doctor redeems it. With a zero code
//! lifetime the emailed code is refused as expired.

use std::time::Duration;

use medvault_tests::records::{
    SmtpSink, TEMPORARY_PASSWORD_SUBJECT, access_body, assert_ledger_ok, code_in_email,
    expect_code, message_body, patient_view, pending_code, redeem, redeem_ok, request_access,
    spawn_mailing, temporary_password_in,
};
use medvault_tests::{Backend, expect_json, on_both_backends};
use medvault_types::{AccessLogEntry, Page, TemporaryPassword, User};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(
    code_arrives_by_email_and_redeems,
    emailed_code_expires,
    a_staff_email_change_is_told_and_holds_codes_back,
    an_authenticator_lock_is_emailed,
    temporary_passwords_go_by_email,
    a_locked_owner_unlocks_by_email
);

const CODE_SUBJECT: &str = "Your medvault consent code";

/// The one consent-code message that arrived besides `earlier` (Maildir file names do not sort
/// by arrival), checked to be addressed to `email`, and its code.
async fn code_for(sink: &SmtpSink, earlier: &[String], email: &str) -> (String, String) {
    let n = earlier.len() + 1;
    let messages = sink
        .wait_for(CODE_SUBJECT, n, Duration::from_secs(30))
        .await;
    assert_eq!(messages.len(), n, "exactly {n} consent-code email(s)");
    let message = messages
        .into_iter()
        .find(|m| !earlier.contains(m))
        .expect("a new message");
    let lower = message.to_ascii_lowercase();
    assert!(
        lower.contains(&format!("to: {email}")) || lower.contains(&format!("<{email}>")),
        "{message}"
    );
    assert!(
        lower.contains("subject: your medvault consent code"),
        "{message}"
    );
    (code_in_email(&message), message)
}

async fn code_arrives_by_email_and_redeems(backend: Backend) {
    let (sink, app) = spawn_mailing(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let req = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let (code, message) = code_for(&sink, &[], &patient.email).await;
    assert!(
        message.contains("Dr Grace Okafor"),
        "the email names the doctor: {message}"
    );
    // The email carries the same code as the patient's inbox.
    assert_eq!(
        patient_view(&app, &patient.token, req.id)
            .await
            .code
            .as_deref(),
        Some(code.as_str())
    );
    let grant = redeem_ok(&app, &doctor.token, req.id, &code).await;
    assert_eq!(grant.patient_id, patient.id);

    // Each request has its own code: the first one does not open a second request.
    let req2 = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let (code2, _) = code_for(&sink, std::slice::from_ref(&message), &patient.email).await;
    if code2 != code {
        let resp = redeem(&app, &doctor.token, req2.id, &code).await;
        expect_code(resp, StatusCode::UNPROCESSABLE_ENTITY, "wrong_code").await;
    }
    redeem_ok(&app, &doctor.token, req2.id, &code2).await;
    assert_ledger_ok(&app, &cast.admin.token).await;
}

async fn emailed_code_expires(backend: Backend) {
    let (sink, app) = spawn_mailing(backend, |c| c.consent.code_ttl_minutes = 0).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let req = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let (code, _) = code_for(&sink, &[], &patient.email).await;
    assert_eq!(
        patient_view(&app, &patient.token, req.id).await.code,
        None,
        "an expired code is shown"
    );
    expect_code(
        redeem(&app, &doctor.token, req.id, &code).await,
        StatusCode::GONE,
        "expired",
    )
    .await;
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// Staff change a patient's e-mail: the old address is told, the change is on the patient's
/// access log, and consent codes are not e-mailed to the new address until the patient
/// confirms it (they stay in the app inbox).
async fn a_staff_email_change_is_told_and_holds_codes_back(backend: Backend) {
    let (sink, app) = spawn_mailing(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let new_email = "amara.elsewhere@home.example";
    let patched = app
        .send(
            Method::PATCH,
            &format!("/api/v1/admin/patients/{}", patient.id),
            Some(&cast.admin.token),
            Some(&json!({ "email": new_email })),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);

    // The old address is told, naming the new one.
    let notice = sink
        .wait_for("e-mail address was changed", 1, Duration::from_secs(30))
        .await
        .remove(0);
    let lower = notice.to_ascii_lowercase();
    assert!(
        lower.contains(&patient.email),
        "to the old address: {notice}"
    );
    assert!(
        lower.contains("subject: your medvault e-mail address was changed"),
        "{notice}"
    );
    assert!(message_body(&notice).contains(new_email), "{notice}");
    let me: User = expect_json(
        app.get("/api/v1/me", Some(&patient.token)).await,
        StatusCode::OK,
    )
    .await;
    assert!(
        me.email_changed_by_staff_at.is_some(),
        "the patient sees the change"
    );

    // A request now: its code is in the app inbox, not e-mailed to the new address.
    let held = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    assert_eq!(pending_code(&app, &patient.token, held.id).await.len(), 8);

    // The patient confirms the address; the next code is e-mailed to it, and it is the only
    // code e-mail (the held one was never sent).
    let confirmed = app
        .send(
            Method::POST,
            "/api/v1/me/email/confirm",
            Some(&patient.token),
            None,
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    let req = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let (code, _) = code_for(&sink, &[], new_email).await;
    assert_eq!(code, pending_code(&app, &patient.token, req.id).await);
    redeem_ok(&app, &doctor.token, req.id, &code).await;

    let log: Page<AccessLogEntry> = expect_json(
        app.get("/api/v1/me/access-log?per_page=100", Some(&patient.token))
            .await,
        StatusCode::OK,
    )
    .await;
    for action in ["user.email_change", "user.email_confirm"] {
        assert!(
            log.items.iter().any(|e| e.action == action),
            "{action} in the patient's access log"
        );
    }
    assert_ledger_ok(&app, &cast.admin.token).await;
}

/// When a doctor's wrong authenticator codes lock them out of a patient's codes, the patient is
/// told by e-mail (besides the access log and the Security page).
async fn an_authenticator_lock_is_emailed(backend: Backend) {
    let (sink, app) = spawn_mailing(backend, |_| {}).await;
    let cast = app.cast().await;
    let (doctor, patient) = (&cast.doctor, &cast.patient);
    let r1 = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    let r2 = request_access(&app, &doctor.token, &access_body(patient.id, None)).await;
    // Five wrong six-digit codes over two requests (waiting out the per-patient delay).
    for (id, wait) in [(r1.id, 0), (r1.id, 0), (r1.id, 0), (r2.id, 2), (r2.id, 3)] {
        app.clock.advance(chrono::Duration::seconds(wait));
        expect_code(
            redeem(&app, &doctor.token, id, "000000").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_code",
        )
        .await;
    }
    // The lock notice (besides the two code e-mails).
    let messages = sink
        .wait_for(
            "wrong authenticator codes were given",
            1,
            Duration::from_secs(30),
        )
        .await;
    let notice = messages
        .iter()
        .find(|m| {
            m.to_ascii_lowercase()
                .contains("subject: wrong authenticator codes were given")
        })
        .unwrap_or_else(|| panic!("a lock notice among {messages:?}"));
    assert!(
        notice.to_ascii_lowercase().contains(&patient.email),
        "{notice}"
    );
    assert!(message_body(notice).contains("Security page"), "{notice}");
}

/// With SMTP, staff never see a temporary password: the answer carries none, the user's e-mail
/// does (new account and reset alike), and it signs in once.
async fn temporary_passwords_go_by_email(backend: Backend) {
    let (sink, app) = spawn_mailing(backend, |_| {}).await;
    let admin = app.admin_token().await;
    let created = app.create_doctor(&admin, "dr.mail@clinic.example").await;
    assert_eq!(created.temporary_password, None, "staff never see it");
    let first = app
        .handed_over("dr.mail@clinic.example", &created.temporary_password)
        .await;
    let tokens = app.login("dr.mail@clinic.example", &first).await;
    assert!(tokens.user.must_change_password);

    let reset: TemporaryPassword = expect_json(
        app.send(
            Method::POST,
            &format!("/api/v1/admin/users/{}/reset-password", created.doctor.id),
            Some(&admin),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(reset.temporary_password, None);
    let mails = sink
        .wait_for(TEMPORARY_PASSWORD_SUBJECT, 2, Duration::from_secs(30))
        .await;
    let second = mails
        .iter()
        .map(|m| temporary_password_in(m))
        .find(|p| *p != first)
        .expect("a second, different password");
    assert!(
        app.try_login("dr.mail@clinic.example", &first)
            .await
            .is_err()
    );
    app.activate("dr.mail@clinic.example", &second).await;
}

/// Failed sign-ins lock an account from one address; its owner gets an e-mail with a link
/// (the server knows its public address here) whose code lifts the lock once, ledgered as the
/// owner's `user.unlock`. An e-mail naming no account sends nothing.
async fn a_locked_owner_unlocks_by_email(backend: Backend) {
    let (sink, app) = spawn_mailing(backend, |c| {
        c.auth.slowdown_after = 100;
        c.auth.lock_after = 3;
        c.http.public_url = Some("https://medvault.hospital.example/".into());
    })
    .await;
    let cast = app.cast().await;
    let elsewhere = medvault_tests::TestApp::client_from([127, 0, 0, 8]);
    for _ in 0..3 {
        let r = app
            .login_with(&elsewhere, &cast.patient.email, "not my password")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    for _ in 0..3 {
        app.login_with(&elsewhere, "nobody@home.example", "guess")
            .await;
    }
    let locked = app
        .login_with(
            &elsewhere,
            &cast.patient.email,
            medvault_tests::USER_PASSWORD,
        )
        .await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let notices = sink
        .wait_for("sign-in is locked", 1, Duration::from_secs(30))
        .await;
    assert_eq!(notices.len(), 1, "one notice, for the one real account");
    let body = message_body(&notices[0]);
    let link_start = body
        .find("https://medvault.hospital.example/unlock#")
        .expect("a link to the unlock page");
    let code: String = body[link_start..]
        .split('#')
        .nth(1)
        .expect("the code")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let app_ref = &app;
    let unlock = move |token: String| async move {
        app_ref
            .post("/api/v1/auth/unlock", None, &json!({ "token": token }))
            .await
            .status()
    };
    assert_eq!(unlock("not-a-code".into()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(unlock(code.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(unlock(code).await, StatusCode::UNAUTHORIZED, "once");
    let back = app
        .login_with(
            &elsewhere,
            &cast.patient.email,
            medvault_tests::USER_PASSWORD,
        )
        .await;
    assert_eq!(back.status(), StatusCode::OK);
    let admin = app.admin_token().await;
    let unlocks: Vec<_> = medvault_tests::records::ledger_all(&app, &admin)
        .await
        .into_iter()
        .filter(|e| e.action == "user.unlock")
        .collect();
    assert_eq!(unlocks.len(), 1);
    assert_eq!(unlocks[0].actor, Some(cast.patient.id), "by the owner");
}
