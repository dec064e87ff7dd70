-- Who may publish versions of a plugin name: the first publisher (issue
-- #12). Names the server loaded itself (preloaded, or published with the
-- admin token) have no row: only admins publish those.
CREATE TABLE plugin_owners (
    plugin TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    claimed_at_ms BIGINT NOT NULL
);
