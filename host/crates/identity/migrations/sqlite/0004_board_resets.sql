-- Admins' resets of a leaderboard period (issue #13): the period of a score
-- board that holds `at_ms` counts only the games that ended at or after it.
-- Every node reads them all (a few rows) with its ban reload.
CREATE TABLE board_resets (
    game TEXT NOT NULL,
    mode TEXT NOT NULL,
    board TEXT NOT NULL,
    period TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    reset_by TEXT,
    PRIMARY KEY (game, mode, board, period, at_ms)
);
