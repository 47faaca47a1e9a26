-- Endpoints created through the console, the CLI or the admin API.
-- `settings` is the EndpointConfig JSON without name, spec, api_key,
-- api_keys and headers; `secrets` is the sealed envelope of
-- {"api_keys": [...], "headers": {...}} with AAD "endpoint:<name>".
CREATE TABLE endpoints (
    name       TEXT PRIMARY KEY NOT NULL,
    spec       TEXT NOT NULL,
    settings   TEXT NOT NULL,
    secrets    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Gateway keys: only the SHA-256 of the token is kept.
CREATE TABLE gateway_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- A name may be reused once the key that had it is revoked.
CREATE UNIQUE INDEX gateway_keys_active_name ON gateway_keys (name) WHERE revoked_at IS NULL;

-- One row per request; `at` is unix milliseconds.
CREATE TABLE usage (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    endpoint      TEXT NOT NULL,
    model         TEXT NOT NULL,
    caller        TEXT,
    status        INTEGER NOT NULL,
    stream        INTEGER NOT NULL,
    input_tokens  INTEGER,
    output_tokens INTEGER,
    cached_tokens INTEGER,
    latency_ms    INTEGER NOT NULL
);

CREATE INDEX usage_endpoint_at ON usage (endpoint, at);
