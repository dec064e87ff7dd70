-- Room seeds are 256-bit ChaCha20 keys recorded as "chacha20-v1:<hex>"
-- (host/src/seed.rs); games from before keep their splitmix64 number.
ALTER TABLE completed_games ALTER COLUMN seed TYPE TEXT USING seed::text;
