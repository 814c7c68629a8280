-- 007_sessions.sql (PostgreSQL) -- sessions ended by a logout.
-- A login starts a session: its access and refresh tokens carry the same random "sid".  Logout
-- lists the sid here, so the session's access token dies with its refresh token (CONTRACT.md:
-- "reusing either anywhere gives 401").  Kept until every token of the session has expired
-- anyway, then pruned by the worker.  Timestamps are microseconds since the epoch.
CREATE TABLE revoked_sessions (
    sid        TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_expires ON revoked_sessions (expires_at);
CREATE INDEX revoked_sessions_user ON revoked_sessions (user_id);
