-- Archive of finished games (host/src/archive/postgres.rs).
-- One row per game in completed_games (the full compressed record in
-- `record`, the rest for querying) and one row per plugin event in
-- game_events. Games are immutable once archived: writers insert with
-- ON CONFLICT DO NOTHING, so re-archiving a game is harmless.

-- Unix milliseconds to a timestamp, exactly (no float rounding).
CREATE FUNCTION arcade_unix_ms_to_timestamptz(ms BIGINT) RETURNS TIMESTAMPTZ
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN TIMESTAMPTZ 'epoch' + ms * INTERVAL '1 millisecond';

CREATE FUNCTION arcade_timestamptz_to_unix_ms(at TIMESTAMPTZ) RETURNS BIGINT
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN round(extract(epoch FROM at) * 1000)::BIGINT;

-- A JSON array of strings to TEXT[], keeping the order.
CREATE FUNCTION arcade_json_text_array(items JSONB) RETURNS TEXT[]
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT item FROM jsonb_array_elements_text(items) WITH ORDINALITY AS t(item, position) ORDER BY position);

CREATE TABLE completed_games (
    game_id         TEXT PRIMARY KEY,
    room_id         TEXT NOT NULL,
    plugin_name     TEXT NOT NULL,
    plugin_version  TEXT NOT NULL,
    plugin_hash     TEXT NOT NULL,
    config          JSONB NOT NULL,
    players         TEXT[] NOT NULL,
    -- u64 seeds do not fit BIGINT.
    seed            NUMERIC(20, 0) NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    completed_at    TIMESTAMPTZ NOT NULL,
    duration_ms     BIGINT NOT NULL,
    winners         TEXT[] NOT NULL,
    -- NULL for aborted games.
    final_scores    JSONB,
    status          TEXT NOT NULL CHECK (status IN ('finished', 'aborted')),
    -- The whole GameRecord: magic + format version + zstd(JSON).
    record          BYTEA NOT NULL
);

CREATE INDEX completed_games_room_id_idx ON completed_games (room_id);
CREATE INDEX completed_games_completed_at_idx ON completed_games (completed_at DESC, game_id DESC);
CREATE INDEX completed_games_plugin_idx ON completed_games (plugin_name, completed_at DESC, game_id DESC);
CREATE INDEX completed_games_winners_idx ON completed_games USING GIN (winners);
CREATE INDEX completed_games_players_idx ON completed_games USING GIN (players);

CREATE TABLE game_events (
    game_id TEXT NOT NULL REFERENCES completed_games (game_id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    type    TEXT NOT NULL,
    data    JSONB NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (game_id, seq)
);
