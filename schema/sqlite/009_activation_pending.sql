-- 009_activation_pending.sql (SQLite) -- accounts that registered and were never activated.
-- Registering again with the email of such an account, or staff, queue a fresh activation mail
-- (an activation mail lost to an SMTP outage must not lock the account out for good).  An
-- account deactivated by staff is inactive but not pending: it can never re-activate itself.
-- Activation and any staff (de)activation clear the flag.
ALTER TABLE users ADD COLUMN activation_pending INTEGER NOT NULL DEFAULT 0
    CHECK (activation_pending IN (0, 1));
-- Existing rows: inactive and never signed in is what a registration awaiting activation looks
-- like.
UPDATE users SET activation_pending = 1 WHERE is_active = 0 AND last_login IS NULL;
