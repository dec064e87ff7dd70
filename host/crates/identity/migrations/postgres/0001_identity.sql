-- Identity schema, PostgreSQL dialect (the SQLite one in ../sqlite/ has
-- the same tables and columns; only the audit id and the detail type differ).
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE
);

-- device_hash: SHA-256 (hex) of the device id.
CREATE TABLE device_credentials (
    device_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX device_credentials_account ON device_credentials (account_id);

-- username_key: lowercased NFC username (unique); phc: argon2id PHC string.
CREATE TABLE password_credentials (
    username_key TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    account_id TEXT NOT NULL UNIQUE REFERENCES accounts (id),
    phc TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE external_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX external_identities_account ON external_identities (account_id);

-- token_hash: SHA-256 (hex) of the refresh token.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    issued_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used BOOLEAN NOT NULL DEFAULT FALSE,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account ON refresh_tokens (account_id);

-- until_ms NULL: permanent.
CREATE TABLE bans (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    reason TEXT NOT NULL,
    until_ms BIGINT,
    banned_by TEXT,
    at_ms BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    account_id TEXT,
    actor TEXT,
    ip TEXT,
    detail JSONB NOT NULL
);
CREATE INDEX audit_events_account ON audit_events (account_id, id);
CREATE INDEX audit_events_kind ON audit_events (kind, id);
