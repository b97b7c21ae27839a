//! Bad uploads: every one a 4xx JSON error, and nothing kept (the record list, the storage
//! use and, for directory buckets, the files on disk are unchanged). Names are sanitised.

use std::collections::BTreeSet;
use std::path::PathBuf;

use medvault_tests::records::{
    AppPaths, Upload, download_identical, expect_code, my_records, my_storage, pdf_bytes,
    random_bytes, spawn_recording, stored_files, text_bytes, upload, upload_ok,
};
use medvault_tests::{Backend, TestApp, on_both_backends};
use reqwest::{Method, Response, StatusCode};

on_both_backends!(
    bad_uploads_keep_nothing,
    hostile_file_names_are_sanitised,
    other_types_round_trip
);

/// Largest file in the bad-input app.
const MAX_FILE: u64 = 256 * 1024;
/// The same as a length.
const MAX_FILE_LEN: usize = 256 * 1024;
/// Quota of the bad-input app.
const QUOTA: u64 = 400 * 1024;

/// What a patient has stored: records, used bytes, files under the data dir.
#[derive(Debug, PartialEq)]
struct Kept {
    records: u64,
    used_bytes: u64,
    files: BTreeSet<PathBuf>,
}

async fn kept(app: &TestApp, paths: &AppPaths, token: &str) -> Kept {
    Kept {
        records: my_records(app, token).await.total,
        used_bytes: my_storage(app, token).await.used_bytes,
        files: stored_files(&paths.data_dir),
    }
}

/// Sends a hand-made multipart body (for truncated bodies reqwest would never produce).
async fn raw_upload(app: &TestApp, token: &str, boundary: &str, body: Vec<u8>) -> Response {
    app.request(Method::POST, "/api/v1/records", Some(token))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("raw upload")
}

fn text_part(boundary: &str, name: &str, value: &str) -> Vec<u8> {
    format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
        .into_bytes()
}

#[allow(clippy::too_many_lines)] // one table of cases and their checks
async fn bad_uploads_keep_nothing(backend: Backend) {
    let (app, paths) = spawn_recording(backend, |cfg| {
        cfg.records.max_file_bytes = MAX_FILE;
        cfg.records.quota_bytes = QUOTA;
    })
    .await;
    let cast = app.cast().await;
    let token = cast.patient.token.clone();
    let storage = my_storage(&app, &token).await;
    assert_eq!(storage.max_file_bytes, MAX_FILE);
    assert_eq!(storage.quota_bytes, QUOTA);
    assert!(storage.allowed_types.iter().any(|t| t == "application/pdf"));

    let empty = kept(&app, &paths, &token).await;
    let first = upload_ok(&app, &token, &Upload::pdf(pdf_bytes(100 * 1024))).await;
    let mut before = kept(&app, &paths, &token).await;
    assert_eq!(before.records, 1);
    assert_eq!(before.used_bytes, 100 * 1024);
    if backend == Backend::Sqlite {
        assert!(
            before.files.len() > empty.files.len(),
            "an accepted upload adds shard files under the data dir"
        );
    }

    // Each bad upload: status, code, and nothing kept.
    let cases: Vec<(&str, Upload, StatusCode, &str)> = vec![
        (
            "oversize",
            Upload::pdf(pdf_bytes(MAX_FILE_LEN + 1)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "far oversize",
            Upload::pdf(pdf_bytes(3 * MAX_FILE_LEN)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "ELF executable",
            Upload::new(
                [b"\x7fELF\x02\x01\x01\x00".to_vec(), random_bytes(5_000)].concat(),
                "tool",
                "application/octet-stream",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "ELF declared as PDF",
            Upload::new(
                [b"\x7fELF\x02\x01\x01\x00".to_vec(), random_bytes(5_000)].concat(),
                "scan.pdf",
                "application/pdf",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "PNG declared as PDF",
            Upload::new(
                [b"\x89PNG\r\n\x1a\n".to_vec(), random_bytes(5_000)].concat(),
                "scan.pdf",
                "application/pdf",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "PDF declared as JPEG",
            Upload::new(pdf_bytes(5_000), "photo.jpg", "image/jpeg"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "binary declared as text",
            Upload::new(
                [b"MZ\x90\x00\x03\x00".to_vec(), random_bytes(5_000)].concat(),
                "notes.txt",
                "text/plain",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "empty file",
            Upload::pdf(Vec::new()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "no file",
            Upload {
                bytes: None,
                ..Upload::pdf(Vec::new())
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "no title",
            Upload {
                title: None,
                ..Upload::pdf(pdf_bytes(20_000))
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "blank title",
            Upload {
                title: Some("   ".into()),
                ..Upload::pdf(pdf_bytes(20_000))
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "no report date",
            Upload {
                report_date: None,
                ..Upload::pdf(pdf_bytes(20_000))
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "bad report date",
            Upload {
                report_date: Some("14/03/2026".into()),
                ..Upload::pdf(pdf_bytes(20_000))
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "future report date",
            Upload {
                report_date: Some("2999-01-01".into()),
                ..Upload::pdf(pdf_bytes(20_000))
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "no category",
            Upload {
                category: None,
                ..Upload::pdf(pdf_bytes(20_000))
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "unknown category",
            Upload {
                category: Some("selfie".into()),
                ..Upload::pdf(pdf_bytes(20_000))
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "notes too long",
            Upload {
                notes: Some("n".repeat(2_001)),
                ..Upload::pdf(pdf_bytes(20_000))
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ];
    for (what, bad, status, code) in cases {
        let err = expect_code(upload(&app, Some(&token), &bad).await, status, code).await;
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            let fields = err.error.fields.unwrap_or_default();
            assert!(!fields.is_empty(), "{what}: a 422 names the field");
        }
        assert_eq!(
            kept(&app, &paths, &token).await,
            before,
            "{what}: something was kept"
        );
    }

    // Truncated multipart bodies: 400, nothing kept.
    let boundary = "medvault-test-boundary-1f2e3d";
    let mut body = text_part(boundary, "title", "Chest X-ray report");
    body.extend(text_part(boundary, "report_date", "2026-02-01"));
    body.extend(text_part(boundary, "category", "imaging"));
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"xray.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .into_bytes(),
    );
    let file_start = body.len();
    body.extend(pdf_bytes(150_000));
    let mut complete = body.clone();
    complete.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    // Cut in the middle of the file, in the middle of the part headers, and just before the
    // closing boundary.
    for (what, cut) in [
        ("mid-file", file_start + 70_000),
        ("mid-headers", file_start - 20),
        ("no closing boundary", body.len()),
    ] {
        let resp = raw_upload(&app, &token, boundary, complete[..cut].to_vec()).await;
        expect_code(resp, StatusCode::BAD_REQUEST, "bad_request").await;
        assert_eq!(
            kept(&app, &paths, &token).await,
            before,
            "truncated {what}: something was kept"
        );
    }
    // The same body, complete, is accepted (so the cuts were the only fault).
    let resp = raw_upload(&app, &token, boundary, complete).await;
    assert_eq!(
        resp.status(),
        StatusCode::CREATED,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    before = kept(&app, &paths, &token).await;
    assert_eq!(before.records, 2);

    // Quota: 100 KiB + ~150 KiB stored of 400 KiB; 200 KiB (under the file limit) no longer fits.
    let err = expect_code(
        upload(&app, Some(&token), &Upload::pdf(pdf_bytes(200 * 1024))).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
    )
    .await;
    assert!(!err.error.message.is_empty());
    assert_eq!(
        kept(&app, &paths, &token).await,
        before,
        "quota: something was kept"
    );
    // What still fits is accepted; the quota is exact.
    let left = QUOTA - before.used_bytes;
    upload_ok(
        &app,
        &token,
        &Upload::pdf(pdf_bytes(usize::try_from(left).expect("small"))),
    )
    .await;
    assert_eq!(my_storage(&app, &token).await.used_bytes, QUOTA);
    expect_code(
        upload(&app, Some(&token), &Upload::pdf(pdf_bytes(10))).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
    )
    .await;
    // Deleting frees quota.
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/v1/records/{}", first.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    upload_ok(&app, &token, &Upload::pdf(pdf_bytes(50 * 1024))).await;

    // Wrong roles and no token.
    let good = Upload::pdf(pdf_bytes(1_000));
    expect_code(
        upload(&app, None, &good).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    for t in [&cast.doctor.token, &cast.admin.token] {
        expect_code(
            upload(&app, Some(t), &good).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    }
}

async fn hostile_file_names_are_sanitised(backend: Backend) {
    let (app, _) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let token = &cast.patient.token;
    let huge = format!("{}.pdf", "a".repeat(10 * 1024));
    let cases: Vec<(String, Vec<u8>, &str)> = vec![
        (huge, pdf_bytes(3_000), "application/pdf"),
        ("../../etc/passwd".into(), text_bytes(500), "text/plain"),
        (
            "..\\..\\windows\\system32\\config.txt".into(),
            text_bytes(400),
            "text/plain",
        ),
        (
            "/absolute/path/report.pdf".into(),
            pdf_bytes(2_000),
            "application/pdf",
        ),
        (
            "résultats d'analyse;2026.pdf".into(),
            pdf_bytes(2_000),
            "application/pdf",
        ),
        ("....".into(), pdf_bytes(2_000), "application/pdf"),
    ];
    for (name, bytes, mime) in cases {
        let meta = upload_ok(&app, token, &Upload::new(bytes.clone(), &name, mime)).await;
        let stored = &meta.file_name;
        assert!(!stored.is_empty(), "{name:.40}: empty stored name");
        assert!(
            !stored.contains('/') && !stored.contains('\\'),
            "{name:.40}: stored {stored:?}"
        );
        assert!(!stored.starts_with('.'), "{name:.40}: stored {stored:?}");
        assert!(
            stored.chars().count() <= 255,
            "{name:.40}: stored name of {} chars",
            stored.chars().count()
        );
        assert!(
            !stored
                .chars()
                .any(|c| c.is_control() || c == '"' || c == ';'),
            "{stored:?}"
        );
        let d = download_identical(&app, token, &meta, &bytes).await;
        let cd = d.header("content-disposition");
        assert!(!cd.contains('/') && !cd.contains('\\'), "{cd:?}");
    }
    let all = my_records(&app, token).await;
    let names: Vec<&str> = all.items.iter().map(|m| m.file_name.as_str()).collect();
    assert!(names.contains(&"passwd"), "{names:?}");
    assert!(names.contains(&"config.txt"), "{names:?}");
    assert!(names.contains(&"report.pdf"), "{names:?}");
    let long = names
        .iter()
        .find(|n| n.starts_with("aaaa"))
        .expect("the long name");
    assert!(
        std::path::Path::new(long)
            .extension()
            .is_some_and(|e| e == "pdf")
            && long.len() < 1_000,
        "{long}"
    );
}

/// Every allowed type round-trips with the type detected from its bytes.
async fn other_types_round_trip(backend: Backend) {
    let (app, _) = spawn_recording(backend, |_| {}).await;
    let cast = app.cast().await;
    let token = &cast.patient.token;
    let mut dicom = vec![0u8; 128];
    dicom.extend_from_slice(b"DICM");
    dicom.extend(random_bytes(70_000));
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "scan.png",
            [b"\x89PNG\r\n\x1a\n".to_vec(), random_bytes(80_000)].concat(),
            "image/png",
            "image/png",
        ),
        (
            "photo.jpg",
            [vec![0xFF, 0xD8, 0xFF, 0xE0], random_bytes(80_000)].concat(),
            "image/jpeg",
            "image/jpeg",
        ),
        (
            "ct.dcm",
            dicom,
            "application/octet-stream",
            "application/dicom",
        ),
        (
            "labs.csv",
            b"test,value,unit\nhb,13.2,g/dL\n".to_vec(),
            "text/csv",
            "text/csv",
        ),
        (
            "labs.json",
            br#"{"hb": 13.2, "unit": "g/dL"}"#.to_vec(),
            "application/json",
            "application/json",
        ),
        ("letter.txt", text_bytes(1), "text/plain", "text/plain"),
        (
            "no-type.pdf",
            pdf_bytes(10_000),
            "application/octet-stream",
            "application/pdf",
        ),
    ];
    for (name, bytes, declared, detected) in cases {
        let meta = upload_ok(&app, token, &Upload::new(bytes.clone(), name, declared)).await;
        assert_eq!(meta.content_type, detected, "{name}");
        download_identical(&app, token, &meta, &bytes).await;
    }
}
