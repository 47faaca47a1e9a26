use std::collections::HashMap;
use std::sync::Arc;

use modelgate_testkit::google_token::{self as fake, FakeGoogleToken};
use serde_json::Value;

use super::*;

fn load(json: &Value) -> Result<Credentials, AuthError> {
    Credentials::from_setting_with(Some(&json.to_string()), &|_| None)
}

fn source(json: &Value) -> TokenSource {
    TokenSource::new(load(json).expect("the credentials load"))
}

/// A directory of its own under the system temp dir, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "modelgate-gauth-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    fn write(&self, name: &str, json: &Value) -> String {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, json.to_string()).expect("write file");
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_callers_share_one_exchange() {
    let google = FakeGoogleToken::start().await;
    let tokens = Arc::new(source(&google.service_account_json()));
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let tokens = tokens.clone();
            tokio::spawn(async move { tokens.token().await })
        })
        .collect();
    for call in calls {
        let token = call.await.expect("task").expect("a token");
        assert_eq!(token.expose(), "ya29.fake-1");
    }
    assert_eq!(google.exchanges(), 1);
    assert_eq!(google.requests(), 1);
    assert_eq!(google.last_kid().as_deref(), Some(fake::PRIVATE_KEY_ID));
    // Cached: a later call does not exchange either.
    assert_eq!(tokens.token().await.expect("token").expose(), "ya29.fake-1");
    assert_eq!(google.exchanges(), 1);
}

#[tokio::test]
async fn a_token_inside_the_refresh_margin_is_replaced() {
    let google = FakeGoogleToken::start().await;
    google.set_expires_in(REFRESH_MARGIN.as_secs() - 1);
    let tokens = source(&google.service_account_json());
    assert_eq!(tokens.token().await.expect("token").expose(), "ya29.fake-1");
    assert_eq!(tokens.token().await.expect("token").expose(), "ya29.fake-2");
    google.set_expires_in(3599);
    assert_eq!(tokens.token().await.expect("token").expose(), "ya29.fake-3");
    assert_eq!(tokens.token().await.expect("token").expose(), "ya29.fake-3");
    assert_eq!(google.exchanges(), 3);
}

#[tokio::test]
async fn a_key_the_endpoint_does_not_know_is_refused_with_a_diagnosis() {
    let google = FakeGoogleToken::start().await;
    let mut json = google.service_account_json();
    json["private_key"] = fake::OTHER_PRIVATE_KEY.into();
    let error = source(&json).token().await.expect_err("refused");
    assert_eq!(error.kind, AuthErrorKind::Refused);
    assert!(
        error.message.starts_with(
            "the token exchange was refused (invalid_grant): the system clock may be off, \
             or the key was deleted in the Cloud console"
        ),
        "{error}"
    );
    assert_eq!(google.exchanges(), 0);
    assert!(
        google.refusals()[0].contains("Signature"),
        "{:?}",
        google.refusals()
    );
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let google = FakeGoogleToken::start().await;
    let mut json = google.service_account_json();
    json["client_email"] = "someone-else@test-project.iam.gserviceaccount.com".into();
    let error = source(&json).token().await.expect_err("refused");
    assert_eq!(error.kind, AuthErrorKind::Refused);
    assert!(error.message.contains("invalid_grant"), "{error}");
    assert!(
        google.refusals()[0].contains("Issuer"),
        "{:?}",
        google.refusals()
    );
}

#[tokio::test]
async fn callers_waiting_on_a_failed_exchange_share_its_error_and_later_ones_retry() {
    let google = FakeGoogleToken::start().await;
    let mut json = google.service_account_json();
    json["private_key"] = fake::OTHER_PRIVATE_KEY.into();
    let tokens = source(&json);
    let outcomes = futures_util::future::join_all((0..10).map(|_| tokens.token())).await;
    assert!(outcomes.iter().all(Result::is_err));
    assert_eq!(google.requests(), 1);
    assert!(tokens.token().await.is_err());
    assert_eq!(google.requests(), 2);
}

#[test]
fn missing_and_malformed_fields_are_named_without_the_key() {
    let google_json = |edit: &dyn Fn(&mut Value)| {
        let mut json = serde_json::json!({
            "type": "service_account",
            "client_email": fake::CLIENT_EMAIL,
            "private_key": fake::TEST_PRIVATE_KEY,
        });
        edit(&mut json);
        load(&json).map(|_| ())
    };
    assert!(google_json(&|_| {}).is_ok());
    let error = google_json(&|j| {
        j.as_object_mut().expect("object").remove("private_key");
    })
    .expect_err("no key");
    assert_eq!(error.kind, AuthErrorKind::Credentials);
    assert_eq!(
        error.message,
        "the inline credentials: `private_key` is missing"
    );
    let error = google_json(&|j| {
        j.as_object_mut().expect("object").remove("client_email");
    })
    .expect_err("no email");
    assert!(
        error.message.contains("`client_email` is missing"),
        "{error}"
    );

    let error = google_json(&|j| j["private_key"] = "not-a-pem-key-at-all-secretvalue".into())
        .expect_err("not PEM");
    assert!(
        error.message.contains("`private_key` is not a PEM key"),
        "{error}"
    );
    assert!(!error.message.contains("secretvalue"), "{error}");

    // PEM armour around something that is not a key.
    let damaged = "-----BEGIN PRIVATE KEY-----\nAAAAsecretsecretAAAA\n-----END PRIVATE KEY-----\n";
    let error = google_json(&|j| j["private_key"] = damaged.into()).expect_err("damaged");
    assert!(error.message.contains("`private_key`"), "{error}");
    assert!(!error.message.contains("secretsecret"), "{error}");

    let error = google_json(&|j| j["type"] = "external_account".into()).expect_err("type");
    assert!(
        error.message.contains("`type` is `external_account`"),
        "{error}"
    );
    let error = google_json(&|j| j["token_uri"] = "not a url".into()).expect_err("uri");
    assert!(error.message.contains("`token_uri`"), "{error}");

    let error = Credentials::from_setting_with(Some("{\"type\": "), &|_| None).expect_err("json");
    assert!(error.message.contains("not valid JSON"), "{error}");
}

#[test]
fn defaults_and_debug_never_show_secrets() {
    let json = serde_json::json!({
        "type": "service_account",
        "client_email": fake::CLIENT_EMAIL,
        "private_key": fake::TEST_PRIVATE_KEY,
    });
    let credentials = load(&json).expect("loads");
    let Credentials::ServiceAccount(sa) = &credentials else {
        panic!("a service account: {credentials:?}");
    };
    assert_eq!(sa.token_uri, DEFAULT_TOKEN_URI);
    assert_eq!(sa.private_key_id, None);
    assert!(!format!("{credentials:?}").contains("PRIVATE"));

    let user = serde_json::json!({
        "type": "authorized_user",
        "client_id": fake::CLIENT_ID,
        "client_secret": fake::CLIENT_SECRET,
        "refresh_token": fake::REFRESH_TOKEN,
    });
    let debug = format!("{:?}", load(&user).expect("loads"));
    assert!(!debug.contains(fake::REFRESH_TOKEN), "{debug}");
    assert!(!debug.contains(fake::CLIENT_SECRET), "{debug}");
}

#[tokio::test]
async fn inline_json_and_a_file_path_load_the_same_account() {
    let google = FakeGoogleToken::start().await;
    let dir = TempDir::new("path");
    let path = dir.write("key.json", &google.service_account_json());
    let from_file = Credentials::from_setting_with(Some(&path), &|_| None).expect("file");
    assert_eq!(from_file.project_id(), Some(fake::PROJECT_ID));
    let token = TokenSource::new(from_file)
        .with_connect_timeout(std::time::Duration::from_secs(3))
        .token()
        .await
        .expect("token");
    assert_eq!(token.expose(), "ya29.fake-1");
    let header = token.header_value().expect("header");
    assert!(header.is_sensitive());
    assert_eq!(header.to_str().ok(), Some("Bearer ya29.fake-1"));
    assert!(!format!("{token:?}").contains("ya29.fake-1"));

    let inline = format!("  {}", google.service_account_json());
    let from_inline = Credentials::from_setting_with(Some(&inline), &|_| None).expect("inline");
    assert!(matches!(from_inline, Credentials::ServiceAccount(_)));

    let missing = dir.0.join("nope.json").display().to_string();
    let error = Credentials::from_setting_with(Some(&missing), &|_| None).expect_err("missing");
    assert_eq!(error.kind, AuthErrorKind::Credentials);
    assert!(
        error
            .message
            .starts_with(&format!("cannot read credentials file `{missing}`")),
        "{error}"
    );
}

#[tokio::test]
async fn application_default_credentials_are_searched_in_googles_order() {
    let google = FakeGoogleToken::start().await;
    let dir = TempDir::new("adc");
    let env_file = dir.write("env-key.json", &google.service_account_json());
    dir.write(
        "home/.config/gcloud/application_default_credentials.json",
        &google.authorized_user_json(),
    );
    let home = dir.0.join("home").display().to_string();
    let metadata_host = google.metadata_host();
    let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let adc = |vars: HashMap<String, String>| {
        Credentials::from_setting_with(None, &move |name| vars.get(name).cloned())
    };

    // 1. GOOGLE_APPLICATION_CREDENTIALS wins over the gcloud file.
    let all = env(&[
        ("GOOGLE_APPLICATION_CREDENTIALS", &env_file),
        ("HOME", &home),
        ("GCE_METADATA_HOST", &metadata_host),
    ]);
    assert!(matches!(
        adc(all).expect("adc"),
        Credentials::ServiceAccount(_)
    ));

    // 2. Then gcloud's file: a refresh-token grant.
    let user = adc(env(&[
        ("HOME", &home),
        ("GCE_METADATA_HOST", &metadata_host),
    ]))
    .expect("adc");
    assert!(matches!(user, Credentials::AuthorizedUser(_)));
    let token = TokenSource::new(user).token().await.expect("token");
    assert_eq!(token.expose(), "ya29.fake-1");

    // 3. Then the metadata server, at GCE_METADATA_HOST.
    let empty_home = dir.0.join("empty").display().to_string();
    let server = adc(env(&[
        ("HOME", &empty_home),
        ("GCE_METADATA_HOST", &metadata_host),
    ]))
    .expect("adc");
    let Credentials::Metadata(metadata) = &server else {
        panic!("the metadata server: {server:?}");
    };
    assert_eq!(metadata.host, metadata_host);
    let token = TokenSource::new(server).token().await.expect("token");
    assert_eq!(token.expose(), "ya29.fake-2");
    assert_eq!(google.exchanges(), 2);
    assert!(google.refusals().is_empty(), "{:?}", google.refusals());

    // Without the override, the real metadata server's name.
    let default = adc(env(&[("HOME", &empty_home)])).expect("adc");
    assert!(matches!(&default, Credentials::Metadata(m) if m.host == METADATA_HOST));

    // A broken file named by the variable is an error, not a fallback.
    let broken = dir.write(
        "broken.json",
        &serde_json::json!({"type": "service_account"}),
    );
    let error = adc(env(&[("GOOGLE_APPLICATION_CREDENTIALS", &broken)])).expect_err("broken");
    assert!(
        error
            .message
            .starts_with("GOOGLE_APPLICATION_CREDENTIALS: "),
        "{error}"
    );
    assert!(
        error.message.contains("`client_email` is missing"),
        "{error}"
    );
}

#[tokio::test]
async fn no_credentials_anywhere_says_what_was_searched() {
    // A port nothing listens on: bound, then released.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let vars = HashMap::from([
        ("HOME".to_owned(), "/nonexistent-home".to_owned()),
        ("GCE_METADATA_HOST".to_owned(), host),
    ]);
    let credentials =
        Credentials::from_setting_with(None, &|name| vars.get(name).cloned()).expect("adc");
    let error = TokenSource::new(credentials)
        .token()
        .await
        .expect_err("nothing");
    assert_eq!(error.kind, AuthErrorKind::Credentials);
    assert!(
        error.message.starts_with("no Google credentials found: "),
        "{error}"
    );
    assert!(
        error
            .message
            .contains("GOOGLE_APPLICATION_CREDENTIALS is not set"),
        "{error}"
    );
    assert!(
        error
            .message
            .contains("/nonexistent-home/.config/gcloud/application_default_credentials.json"),
        "{error}"
    );
}

#[tokio::test]
async fn a_revoked_refresh_token_is_diagnosed_and_never_echoed() {
    let google = FakeGoogleToken::start().await;
    let mut json = google.authorized_user_json();
    json["refresh_token"] = "1//revoked-refresh-token-secret".into();
    let error = source(&json).token().await.expect_err("refused");
    assert_eq!(error.kind, AuthErrorKind::Refused);
    assert!(
        error
            .message
            .contains("gcloud auth application-default login"),
        "{error}"
    );
    assert!(
        !error.message.contains("revoked-refresh-token-secret"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unreachable_or_strange_token_endpoint_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let google = FakeGoogleToken::start().await;
    let mut json = google.service_account_json();
    json["token_uri"] = format!("http://{addr}/token").into();
    let error = source(&json).token().await.expect_err("unreachable");
    assert_eq!(error.kind, AuthErrorKind::Unreachable);
    assert!(
        error.message.starts_with(&format!(
            "cannot reach the token endpoint http://{addr}/token"
        )),
        "{error}"
    );

    // A server that answers 200 with something else.
    let odd = modelgate_testkit::FakeUpstream::start(|_| {
        modelgate_testkit::Reply::json(200, &serde_json::json!({"hello": "world"}))
    })
    .await;
    json["token_uri"] = odd.url("/token").into();
    let error = source(&json).token().await.expect_err("malformed");
    assert_eq!(error.kind, AuthErrorKind::Malformed);
    assert!(error.message.contains("not a token"), "{error}");
}

#[tokio::test]
async fn the_assertion_audience_is_the_token_uri_the_endpoint_checks() {
    let google = FakeGoogleToken::start().await;
    let mut json = google.service_account_json();
    // The same server under another name: the JWT's `aud` no longer matches
    // the URL the fake knows itself by.
    json["token_uri"] = format!("http://localhost:{}/token", google.addr.port()).into();
    let error = source(&json).token().await.expect_err("refused");
    assert_eq!(error.kind, AuthErrorKind::Refused);
    assert!(
        google.refusals()[0].contains("Audience"),
        "{:?}",
        google.refusals()
    );
}

#[tokio::test]
async fn an_absurd_lifetime_is_capped_not_a_panic() {
    let odd = modelgate_testkit::FakeUpstream::start(|_| {
        modelgate_testkit::Reply::json(
            200,
            &serde_json::json!({"access_token": "ya29.long", "expires_in": u64::MAX}),
        )
    })
    .await;
    let google = FakeGoogleToken::start().await;
    let mut json = google.service_account_json();
    json["token_uri"] = odd.url("/token").into();
    let token = source(&json).token().await.expect("a token");
    assert!(
        token.expires_at() <= std::time::Instant::now() + std::time::Duration::from_secs(24 * 3600)
    );
}

#[tokio::test]
async fn a_failed_early_refresh_keeps_the_token_until_it_expires() {
    // First a token inside the refresh margin, then only errors.
    let mut answered = 0;
    let flaky = modelgate_testkit::FakeUpstream::start(move |_| {
        answered += 1;
        if answered == 1 {
            modelgate_testkit::Reply::json(
                200,
                &serde_json::json!({"access_token": "ya29.short-lived", "expires_in": 120}),
            )
        } else {
            modelgate_testkit::Reply::json(503, &serde_json::json!({"error": "backendError"}))
        }
    })
    .await;
    let google = FakeGoogleToken::start().await;
    let mut json = google.service_account_json();
    json["token_uri"] = flaky.url("/token").into();
    let tokens = source(&json);
    assert_eq!(
        tokens.token().await.expect("first").expose(),
        "ya29.short-lived"
    );
    // The refresh fails; the token still has two minutes.
    assert_eq!(
        tokens.token().await.expect("kept").expose(),
        "ya29.short-lived"
    );
    assert_eq!(flaky.hits(), 2);
}
