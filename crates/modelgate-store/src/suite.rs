//! The behaviour every [`Store`] implementation must have, written against
//! `&dyn Store` so the PostgreSQL store can run the same suite.

use modelgate_config::EndpointConfig;
use serde_json::json;

use crate::{
    EndpointEdit, Store, StoreError, USAGE_TEXT_MAX_BYTES, UsageRecord, UsageSummaryRow,
    hash_gateway_token,
};

/// An endpoint built from JSON, the way the admin API receives one.
pub(crate) fn endpoint(value: serde_json::Value) -> EndpointConfig {
    serde_json::from_value(value).expect("valid endpoint JSON")
}

pub(crate) fn simple(name: &str, key: &str) -> EndpointConfig {
    endpoint(json!({
        "name": name,
        "spec": "openai-chat-completions",
        "base_url": "http://localhost:11434/v1",
        "api_key": key,
    }))
}

pub(crate) async fn endpoint_crud(store: &dyn Store) {
    let ep = simple("local", "sk-one-aaaaaaaaaaaa");
    store.create_endpoint(&ep).await.expect("create");
    let got = store
        .get_endpoint("local")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.keys(), vec!["sk-one-aaaaaaaaaaaa"]);
    assert_eq!(got.base_url, "http://localhost:11434/v1");

    let err = store.create_endpoint(&ep).await.expect_err("duplicate");
    assert!(
        matches!(err, StoreError::AlreadyExists { what: "endpoint", ref name } if name == "local")
    );
    assert_eq!(err.to_string(), "endpoint `local` already exists");

    // Update replaces the whole record: old key gone, new ones in order.
    let mut rotated = simple("local", "sk-two-bbbbbbbbbbbb");
    rotated.api_keys = vec!["sk-three-cccccccccc".into()];
    rotated.base_url = "http://other:8080/v1".into();
    store.update_endpoint(&rotated).await.expect("update");
    let got = store
        .get_endpoint("local")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        got.api_keys,
        vec!["sk-two-bbbbbbbbbbbb", "sk-three-cccccccccc"]
    );
    assert_eq!(got.base_url, "http://other:8080/v1");

    let err = store
        .update_endpoint(&simple("ghost", "k"))
        .await
        .expect_err("missing");
    assert!(
        matches!(
            err,
            StoreError::NotFound {
                what: "endpoint",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.to_string(), "endpoint `ghost` not found");

    assert!(store.delete_endpoint("local").await.expect("delete"));
    assert!(!store.delete_endpoint("local").await.expect("delete again"));
    assert!(store.get_endpoint("local").await.expect("get").is_none());
}

pub(crate) async fn endpoint_round_trip_normalizes_keys(store: &dyn Store) {
    let written = endpoint(json!({
        "name": "full",
        "spec": "anthropic",
        "base_url": "https://api.example.com",
        "direct_endpoint": true,
        "api_key": "sk-primary-111111",
        "api_keys": ["sk-backup-222222"],
        "models": { "default": ["m1", "m2"], "fetch": true },
        "model_map": { "fast": "m1" },
        "headers": { "x-api-key": "hdr-secret-333333" },
        "add_params": { "temperature": 0.5, "nested": { "a": 1 } },
        "drop_params": ["seed"],
        "description": "a test endpoint",
        "tags": ["prod", "eu"],
    }));
    store.create_endpoint(&written).await.expect("create");
    let got = store
        .get_endpoint("full")
        .await
        .expect("get")
        .expect("exists");
    let mut want = written.clone();
    want.api_key = None;
    want.api_keys = vec!["sk-primary-111111".into(), "sk-backup-222222".into()];
    assert_eq!(got, want);
    assert_eq!(got.keys(), written.keys());
}

pub(crate) async fn endpoints_listed_sorted(store: &dyn Store) {
    for name in ["zeta", "alpha", "mid"] {
        store
            .create_endpoint(&simple(name, "sk-x-000000000000"))
            .await
            .expect("create");
    }
    let listing = store.list_endpoints().await.expect("list");
    assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
    let names: Vec<String> = listing.endpoints.into_iter().map(|e| e.name).collect();
    assert_eq!(names, ["alpha", "mid", "zeta"]);
}

/// Adds `tag` to the endpoint's tags, through the store's atomic edit.
fn add_tag(tag: &str) -> EndpointEdit {
    let tag = tag.to_owned();
    Box::new(move |mut ep: EndpointConfig| {
        ep.tags.push(tag);
        Ok(ep)
    })
}

pub(crate) async fn update_with_edits_atomically(store: &dyn Store) {
    store
        .create_endpoint(&simple("shared", "sk-one-aaaaaaaaaaaa"))
        .await
        .expect("create");
    // Concurrent read-modify-writes: each must see the others' changes.
    // Read-then-write in two steps loses all but one of these tags.
    let (a, b, c, d) = tokio::join!(
        store.update_endpoint_with("shared", add_tag("a")),
        store.update_endpoint_with("shared", add_tag("b")),
        store.update_endpoint_with("shared", add_tag("c")),
        store.update_endpoint_with("shared", add_tag("d")),
    );
    for result in [a, b, c, d] {
        result.expect("edit");
    }
    let mut tags = store
        .get_endpoint("shared")
        .await
        .expect("get")
        .expect("exists")
        .tags;
    tags.sort();
    assert_eq!(tags, ["a", "b", "c", "d"]);
}

pub(crate) async fn update_with_returns_normalized_and_refuses(store: &dyn Store) {
    store
        .create_endpoint(&simple("e", "sk-one-aaaaaaaaaaaa"))
        .await
        .expect("create");
    let updated = store
        .update_endpoint_with(
            "e",
            Box::new(|mut ep: EndpointConfig| {
                ep.api_key = Some("sk-new-bbbbbbbbbbbb".into());
                ep.api_keys = vec!["sk-backup-cccccccccc".into()];
                ep.description = Some("edited".into());
                Ok(ep)
            }),
        )
        .await
        .expect("edit");
    assert_eq!(updated.api_key, None);
    assert_eq!(
        updated.api_keys,
        ["sk-new-bbbbbbbbbbbb", "sk-backup-cccccccccc"]
    );
    let stored = store.get_endpoint("e").await.expect("get").expect("exists");
    assert_eq!(stored, updated);

    // The edit's refusal comes back as is, and nothing is written.
    let err = store
        .update_endpoint_with("e", Box::new(|_| Err("bad patch: no".to_owned())))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, StoreError::Rejected(ref m) if m == "bad patch: no"),
        "{err}"
    );
    let err = store
        .update_endpoint_with(
            "e",
            Box::new(|mut ep: EndpointConfig| {
                ep.name = "renamed".into();
                Ok(ep)
            }),
        )
        .await
        .expect_err("rename");
    assert!(matches!(err, StoreError::Rejected(_)), "{err}");
    assert!(err.to_string().contains("cannot be renamed"), "{err}");
    assert!(store.get_endpoint("renamed").await.expect("get").is_none());
    assert_eq!(
        store.get_endpoint("e").await.expect("get").expect("exists"),
        updated
    );

    let err = store
        .update_endpoint_with("ghost", add_tag("x"))
        .await
        .expect_err("missing");
    assert!(
        matches!(err, StoreError::NotFound { what: "endpoint", ref name } if name == "ghost"),
        "{err}"
    );
}

pub(crate) async fn gateway_keys(store: &dyn Store) {
    let new = store.create_gateway_key("ci").await.expect("create");
    assert!(
        new.token.starts_with("mg-") && new.token.len() == 46,
        "{}",
        new.token.len()
    );
    assert_eq!(new.key.prefix, new.token[..8]);
    assert_eq!(new.key.hash, hash_gateway_token(&new.token));
    assert!(
        new.key.id.starts_with("key_") && new.key.id.len() == 16,
        "{}",
        new.key.id
    );
    assert!(new.key.id[4..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(new.key.revoked_at, None);

    let err = store.create_gateway_key("ci").await.expect_err("dup name");
    assert!(
        matches!(
            err,
            StoreError::AlreadyExists {
                what: "gateway key",
                ..
            }
        ),
        "{err}"
    );

    let other = store.create_gateway_key("dev").await.expect("create dev");
    assert_ne!(other.token, new.token);
    let keys = store.list_gateway_keys().await.expect("list");
    assert_eq!(keys, vec![new.key.clone(), other.key.clone()]);
    // Authentication: hash what the caller presents, compare hashes.
    let presented = hash_gateway_token(&new.token);
    let found = keys
        .iter()
        .find(|k| k.hash == presented)
        .expect("found by hash");
    assert_eq!(found.id, new.key.id);
    assert!(
        !keys
            .iter()
            .any(|k| k.hash == hash_gateway_token("mg-wrong"))
    );

    assert!(
        store
            .revoke_gateway_key("ci")
            .await
            .expect("revoke by name")
    );
    assert!(!store.revoke_gateway_key("ci").await.expect("revoke twice"));
    assert!(
        store
            .revoke_gateway_key(&other.key.id)
            .await
            .expect("revoke by id")
    );
    assert!(
        !store
            .revoke_gateway_key("nobody")
            .await
            .expect("revoke unknown")
    );
    let keys = store.list_gateway_keys().await.expect("list");
    assert_eq!(keys.len(), 2);
    assert!(
        keys.iter()
            .all(|k| k.revoked_at.is_some() && !k.is_active())
    );

    // A revoked key's name can be reused.
    let again = store.create_gateway_key("ci").await.expect("reuse name");
    assert_ne!(again.key.id, new.key.id);
    let active: Vec<_> = store
        .list_gateway_keys()
        .await
        .expect("list")
        .into_iter()
        .filter(|k| k.is_active())
        .collect();
    assert_eq!(active, vec![again.key]);
}

fn usage(endpoint: &str, model: &str, input: Option<u64>, output: Option<u64>) -> UsageRecord {
    UsageRecord {
        at: 1_700_000_000_000,
        endpoint: endpoint.into(),
        model: model.into(),
        caller: Some("key_000000000000".into()),
        status: 200,
        stream: true,
        input_tokens: input,
        output_tokens: output,
        cached_tokens: input.map(|i| i / 10),
        latency_ms: 123,
    }
}

pub(crate) async fn usage_summary(store: &dyn Store) {
    assert!(store.usage_summary().await.expect("empty").is_empty());
    store.record_usage(&[]).await.expect("empty batch");
    store
        .record_usage(&[
            usage("b", "m1", Some(100), Some(10)),
            usage("a", "m2", Some(5), None),
            usage("b", "m1", None, Some(7)),
        ])
        .await
        .expect("batch");
    store
        .record_usage(&[UsageRecord {
            caller: None,
            status: 502,
            stream: false,
            cached_tokens: Some(3),
            ..usage("a", "m2", Some(u64::MAX), Some(1))
        }])
        .await
        .expect("second batch");
    let rows = store.usage_summary().await.expect("summary");
    let row =
        |endpoint: &str, model: &str, requests, input_tokens, output_tokens, cached_tokens| {
            UsageSummaryRow {
                endpoint: endpoint.into(),
                model: model.into(),
                requests,
                input_tokens,
                output_tokens,
                cached_tokens,
            }
        };
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1], row("b", "m1", 2, 100, 17, 10));
    // An absurd count saturates instead of breaking the summary for good.
    assert_eq!(rows[0], row("a", "m2", 2, i64::MAX as u64, 1, 3));

    // A batch larger than one INSERT statement holds (100 rows) is written whole.
    let big: Vec<UsageRecord> = (0..250)
        .map(|_| usage("c", "m3", Some(2), Some(1)))
        .collect();
    store.record_usage(&big).await.expect("big batch");
    let rows = store.usage_summary().await.expect("summary");
    assert_eq!(rows.last(), Some(&row("c", "m3", 250, 500, 250, 0)));
}

pub(crate) async fn usage_strings_are_bounded(store: &dyn Store) {
    // 255 ASCII bytes then a 4-byte character: cutting at 256 bytes would
    // split it, so the model keeps 255 bytes.
    let model = format!("{}🦀{}", "m".repeat(255), "x".repeat(1000));
    let endpoint = "e".repeat(300);
    store
        .record_usage(&[UsageRecord {
            caller: Some("c".repeat(10_000)),
            ..usage(&endpoint, &model, Some(1), Some(1))
        }])
        .await
        .expect("record");
    let rows = store.usage_summary().await.expect("summary");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].model, "m".repeat(255));
    assert_eq!(rows[0].endpoint.len(), USAGE_TEXT_MAX_BYTES);
    assert!(endpoint.starts_with(&rows[0].endpoint));
}

pub(crate) async fn recent_usage_is_newest_first(store: &dyn Store) {
    let older = UsageRecord {
        at: 1,
        ..usage("a", "old", Some(1), Some(2))
    };
    let newer = UsageRecord {
        at: 2,
        status: 499,
        caller: None,
        ..usage("b", "new", None, None)
    };
    store
        .record_usage(&[older.clone(), newer.clone()])
        .await
        .expect("record");
    assert_eq!(
        store.recent_usage(10).await.expect("read"),
        vec![newer.clone(), older]
    );
    assert_eq!(store.recent_usage(1).await.expect("read"), vec![newer]);
}
