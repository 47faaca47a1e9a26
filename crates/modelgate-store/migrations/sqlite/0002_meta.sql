-- Facts about the store itself, one row each. (Endpoint secrets sealed by
-- 0001's rule, AAD "endpoint:<name>", are resealed on open: src/codec.rs.)
--
--   master_key_kdf  Argon2id parameters and salt when the master key comes
--                   from a passphrase (JSON); kept here, not in the data
--                   directory, so every instance sharing a database derives
--                   the same key.
--   master_key_id   the id of the key the store's secrets are sealed under,
--                   to refuse a wrong key when the store opens.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
