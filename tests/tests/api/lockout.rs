//! A sign-in lock that holds and cannot be turned against the owner: keyed on (account, client
//! address), with a per-address limit against spraying, no lost counts under concurrency, and
//! `X-Forwarded-For` believed only from a configured trusted proxy. Clients act as other
//! machines by binding to 127.0.0.2, 127.0.0.3, ...

use futures_util::future::join_all;
use medvault_tests::records::ledger_all;
use medvault_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, on_both_backends};
use reqwest::StatusCode;

on_both_backends!(
    a_stranger_cannot_lock_the_owner_out,
    spraying_from_one_address_trips_its_throttle,
    successes_do_not_add_up_to_an_address_lock,
    concurrent_guesses_lose_no_counts,
    a_trusted_proxy_names_the_client,
);

async fn statuses(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    n: usize,
) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            app.login_with(client, email, password)
                .await
                .status()
                .as_u16(),
        );
    }
    out
}

async fn a_stranger_cannot_lock_the_owner_out(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.auth.slowdown_after = 100;
        c.auth.lock_after = 4;
    })
    .await;
    let stranger = TestApp::client_from([127, 0, 0, 2]);
    let seen = statuses(&app, &stranger, ADMIN_EMAIL, "wrong password", 6).await;
    assert_eq!(seen, [401, 401, 401, 401, 429, 429]);
    // The right password from the stranger's address is refused during the lock...
    let right = app.login_with(&stranger, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but the owner, elsewhere, signs in.
    let owner = TestApp::client_from([127, 0, 0, 1]);
    let ok = app.login_with(&owner, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let admin = app.admin_token().await;
    let failures = ledger_all(&app, &admin)
        .await
        .into_iter()
        .filter(|e| e.action == "auth.login_failed")
        .count();
    assert_eq!(failures, 4, "only evaluated attempts are failures");
}

async fn spraying_from_one_address_trips_its_throttle(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.auth.address_lock_after = 20;
    })
    .await;
    let sprayer = TestApp::client_from([127, 0, 0, 3]);
    let mut seen = Vec::new();
    for i in 0..50 {
        let email = format!("user{i}@clinic.example");
        seen.push(
            app.login_with(&sprayer, &email, "Summer2026!")
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(seen[..20].iter().all(|s| *s == 401), "{seen:?}");
    assert!(seen[20..].iter().all(|s| *s == 429), "{seen:?}");
    // Locked for every account from there, the admin's right password too; not elsewhere.
    let from_there = app.login_with(&sprayer, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(from_there.status(), StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = TestApp::client_from([127, 0, 0, 4]);
    let ok = app
        .login_with(&elsewhere, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

/// Many users signing in from one address (a hospital's NAT) never lock it: a success takes
/// back its own attempt. The failures of a spray around them still add up to the lock.
async fn successes_do_not_add_up_to_an_address_lock(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.auth.address_lock_after = 5;
    })
    .await;
    let ward = TestApp::client_from([127, 0, 0, 7]);
    let signed_in = statuses(&app, &ward, ADMIN_EMAIL, ADMIN_PASSWORD, 12).await;
    assert!(signed_in.iter().all(|s| *s == 200), "{signed_in:?}");
    let mut seen = Vec::new();
    for i in 0..4 {
        let email = format!("user{i}@clinic.example");
        seen.extend(statuses(&app, &ward, &email, "Summer2026!", 1).await);
    }
    // A success between the failures takes back only itself.
    seen.extend(statuses(&app, &ward, ADMIN_EMAIL, ADMIN_PASSWORD, 1).await);
    seen.extend(statuses(&app, &ward, "user9@clinic.example", "Summer2026!", 2).await);
    assert_eq!(seen, [401, 401, 401, 401, 200, 401, 429], "{seen:?}");
}

/// 200 concurrent wrong passwords on one account (no lock in reach): 200 failures counted,
/// each with its own count, none lost.
async fn concurrent_guesses_lose_no_counts(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.auth.slowdown_after = 1000;
        c.auth.lock_after = 1000;
        c.auth.address_lock_after = 1000;
        c.db_pool_size = 8;
    })
    .await;
    let client = TestApp::client_from([127, 0, 0, 5]);
    let answers =
        join_all((0..200).map(|_| app.login_with(&client, ADMIN_EMAIL, "not the password"))).await;
    assert!(
        answers
            .iter()
            .all(|r| r.status() == StatusCode::UNAUTHORIZED)
    );
    let admin = app.admin_token().await;
    let mut counts: Vec<i64> = ledger_all(&app, &admin)
        .await
        .into_iter()
        .filter(|e| e.action == "auth.login_failed")
        .filter_map(|e| e.payload["failures"].as_i64())
        .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=200).collect::<Vec<i64>>(),
        "every attempt counted once"
    );
}

async fn a_trusted_proxy_names_the_client(backend: Backend) {
    let lock_of_three = |c: &mut medvault_server::config::Config| {
        c.auth.slowdown_after = 100;
        c.auth.lock_after = 3;
    };
    let via_proxy = TestApp::spawn_with(backend, |c| {
        lock_of_three(c);
        c.http.trusted_proxies = vec!["127.0.0.6".parse().expect("ip")];
    })
    .await;
    let proxy = TestApp::client_from([127, 0, 0, 6]);
    let attempt = |app: &TestApp, client: &reqwest::Client, forwarded: &str, password: &str| {
        client
            .post(format!("{}/api/v1/auth/login", app.address))
            .header("x-forwarded-for", forwarded.to_owned())
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": password}))
            .send()
    };
    for _ in 0..3 {
        let r = attempt(&via_proxy, &proxy, "198.51.100.7", "wrong")
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = attempt(&via_proxy, &proxy, "198.51.100.7", ADMIN_PASSWORD)
        .await
        .expect("request");
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is someone else.
    let other = attempt(&via_proxy, &proxy, "198.51.100.8", ADMIN_PASSWORD)
        .await
        .expect("request");
    assert_eq!(other.status(), StatusCode::OK);

    // From a peer that is not a trusted proxy the header is ignored: a guesser cannot dodge
    // the lock by inventing addresses.
    let direct = TestApp::spawn_with(backend, lock_of_three).await;
    let guesser = TestApp::client_from([127, 0, 0, 7]);
    for forwarded in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let r = attempt(&direct, &guesser, forwarded, "wrong")
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let dodged = attempt(&direct, &guesser, "203.0.113.4", ADMIN_PASSWORD)
        .await
        .expect("request");
    assert_eq!(dodged.status(), StatusCode::TOO_MANY_REQUESTS);
}
