-- 008_login_sources.sql (PostgreSQL) -- the client addresses each account has signed in from.
-- Login limits: failures count per account and address; an account's looser limit over all
-- addresses holds back only addresses it never signed in from, so failures from elsewhere never
-- lock the owner out of a known address.  Pruned after 90 days without a login.
-- Timestamps are microseconds since the epoch.
CREATE TABLE login_sources (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    addr       TEXT   NOT NULL,
    last_login BIGINT NOT NULL,
    PRIMARY KEY (user_id, addr)
);
CREATE INDEX login_sources_last ON login_sources (last_login);
