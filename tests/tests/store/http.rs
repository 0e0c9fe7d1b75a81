//! The HTTP source against a small server on 127.0.0.1: conditional polling with ETags, reloads,
//! and a broken or failing server keeping the last good snapshot.

use super::{arn, example};
use iamlet_store::{AccountSource, Store, StoreConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Default)]
struct Served {
    status: u16,
    body: String,
    etag: String,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicUsize,
    not_modified: AtomicUsize,
}

async fn handle(
    mut sock: tokio::net::TcpStream,
    served: Arc<Mutex<Served>>,
    counters: Arc<Counters>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    counters.requests.fetch_add(1, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let if_none_match = head
        .lines()
        .find_map(|l| l.strip_prefix("if-none-match:"))
        .map(|v| v.trim().to_owned());
    let response = {
        let s = served.lock().unwrap();
        if s.status == 200 && if_none_match.as_deref() == Some(s.etag.to_ascii_lowercase().as_str())
        {
            counters.not_modified.fetch_add(1, Ordering::SeqCst);
            format!("HTTP/1.1 304 Not Modified\r\nETag: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", s.etag)
        } else {
            format!(
                "HTTP/1.1 {} X\r\nETag: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                s.status,
                s.etag,
                s.body.len(),
                s.body
            )
        }
    };
    let _ = sock.write_all(response.as_bytes()).await;
    let _ = sock.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_with_etags_and_keeps_the_last_good_export() {
    let text = std::fs::read_to_string(example("account.json")).unwrap();
    let served = Arc::new(Mutex::new(Served {
        status: 200,
        body: text.clone(),
        etag: "\"v1\"".into(),
    }));
    let counters = Arc::new(Counters::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (s2, c2) = (served.clone(), counters.clone());
    let server = tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(handle(sock, s2.clone(), c2.clone()));
        }
    });

    let config = StoreConfig {
        accounts: AccountSource::Url(format!("http://{addr}/account.json")),
        ..StoreConfig::path("unused")
    }
    .watching(Duration::from_millis(20));
    let store = Store::open(config).await.unwrap();
    let alice = arn("user/alice");
    assert_eq!(
        store
            .resolve(&alice, None)
            .await
            .unwrap()
            .summary()
            .policies
            .len(),
        3
    );

    let wait = |what: &'static str, cond: Box<dyn Fn() -> bool + Send>| async move {
        for _ in 0..200 {
            if cond() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for {what}");
    };

    // Unchanged: the server answers 304 and nothing is rebuilt.
    let c = counters.clone();
    wait(
        "304s",
        Box::new(move || c.not_modified.load(Ordering::SeqCst) >= 3),
    )
    .await;
    assert_eq!(store.accounts_status().unwrap().loads, 1);

    // A new version.
    let mut export: serde_json::Value = serde_json::from_str(&text).unwrap();
    export["UserDetailList"][0]["UserPolicyList"] = serde_json::json!([]);
    *served.lock().unwrap() = Served {
        status: 200,
        body: export.to_string(),
        etag: "\"v2\"".into(),
    };
    let st = || store.accounts_status().unwrap();
    for _ in 0..200 {
        if st().loads == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(st().loads, 2);
    assert_eq!(
        store
            .resolve(&alice, None)
            .await
            .unwrap()
            .summary()
            .policies
            .len(),
        2
    );

    // A broken version, then a failing server: the last good export stays in force.
    *served.lock().unwrap() = Served {
        status: 200,
        body: "{\"UserDetailList\": 5}".into(),
        etag: "\"v3\"".into(),
    };
    for _ in 0..200 {
        if st().failures >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let err = st().last_error.unwrap().to_string();
    assert!(err.contains("UserDetailList: invalid type"), "{err}");
    served.lock().unwrap().status = 503;
    let before = st().failures;
    for _ in 0..200 {
        if st().failures > before + 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let err = st().last_error.unwrap().to_string();
    assert!(err.contains("answered 503"), "{err}");
    assert_eq!(st().loads, 2);
    assert_eq!(
        store
            .resolve(&alice, None)
            .await
            .unwrap()
            .summary()
            .policies
            .len(),
        2
    );
    drop(store);
    server.abort();
}

#[tokio::test]
async fn a_bad_url_is_a_clear_error() {
    let config = StoreConfig {
        accounts: AccountSource::Url("ftp://example.com/x".into()),
        ..StoreConfig::path("unused")
    };
    let err = Store::open(config).await.unwrap_err().to_string();
    assert!(err.contains("must be http:// or https://"), "{err}");
    // Nothing listens on this port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let config = StoreConfig {
        accounts: AccountSource::Url(format!("http://127.0.0.1:{port}/a.json")),
        ..StoreConfig::path("unused")
    };
    let err = Store::open(config).await.unwrap_err().to_string();
    assert!(err.contains("request failed"), "{err}");
}
