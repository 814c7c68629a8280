-- 002_accounts.sql (PostgreSQL) -- users, refresh-token revocations, rate-limit counters.
-- Timestamps are microseconds since the epoch; booleans INTEGER 0/1.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    -- stored lower-cased by the application; the CHECK keeps direct SQL honest
    email         TEXT    NOT NULL UNIQUE CHECK (email <> '' AND email = lower(email)),
    password      TEXT    NOT NULL,
    is_active     INTEGER NOT NULL DEFAULT 0 CHECK (is_active IN (0, 1)),
    is_staff      INTEGER NOT NULL DEFAULT 0 CHECK (is_staff IN (0, 1)),
    is_superuser  INTEGER NOT NULL DEFAULT 0 CHECK (is_superuser IN (0, 1)),
    -- bumped to invalidate every JWT and link token of the user at once
    token_version BIGINT  NOT NULL DEFAULT 0,
    last_login    BIGINT,
    created_at    BIGINT  NOT NULL
);

-- Refresh tokens that may no longer be used (logout, rotation).  The primary key
-- makes revocation atomic: of N concurrent inserts of one jti exactly one succeeds.
CREATE TABLE revoked_tokens (
    jti        TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
CREATE INDEX revoked_tokens_user ON revoked_tokens (user_id);

-- Fixed-window counters ("login:ip:127.0.0.1", "login:email:a@b.c", ...).
CREATE TABLE rate_limits (
    bucket       TEXT    PRIMARY KEY,
    window_start BIGINT  NOT NULL,
    hits         INTEGER NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
