-- Parties (issue #12): players who queue together. An account is in at
-- most one party (the primary key of party_members); the leader is a
-- member too. The invite is stored as its SHA-256; the ticket the leader
-- queued is kept so that every member can follow it.
CREATE TABLE parties (
    id TEXT PRIMARY KEY,
    leader_id TEXT NOT NULL REFERENCES accounts (id),
    invite_hash TEXT NOT NULL,
    ticket_id TEXT,
    ticket_secret TEXT,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE party_members (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    party_id TEXT NOT NULL REFERENCES parties (id),
    joined_at_ms BIGINT NOT NULL
);

CREATE INDEX party_members_by_party ON party_members (party_id, joined_at_ms);
