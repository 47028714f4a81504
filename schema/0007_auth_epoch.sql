-- 0007: the authentication epoch. One counter that every change able to
-- end or alter an authenticated session advances, in the same transaction
-- as the change: a session revoked, expired early, moved or deleted while
-- still valid; any change to a user row or a role row; a second factor
-- enrolled, confirmed or removed. Triggers keep it, so changes made by any
-- code path, by any node or by hand in SQL are all counted.
--
-- Workers read the counter once per batch of concurrent requests (a read
-- that starts after each request of the batch arrived) and reuse the
-- session rows they read while the counter is unchanged; see
-- docs/internals/auth.md. last_seen_at, last_step and updated_at-only
-- writes do not advance it.
CREATE TABLE IF NOT EXISTS auth_epoch (
    id   TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    gen  BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO auth_epoch (id, gen) VALUES (1, 1);

CREATE TRIGGER IF NOT EXISTS auth_epoch_sessions_upd AFTER UPDATE ON sessions
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1
    WHERE id = 1 AND NOT (NEW.revoked_at <=> OLD.revoked_at
                          AND NEW.expires_at <=> OLD.expires_at
                          AND NEW.user_id <=> OLD.user_id
                          AND NEW.sid <=> OLD.sid);

CREATE TRIGGER IF NOT EXISTS auth_epoch_sessions_del AFTER DELETE ON sessions
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1
    WHERE id = 1 AND OLD.revoked_at IS NULL AND OLD.expires_at > NOW(6);

CREATE TRIGGER IF NOT EXISTS auth_epoch_users_upd AFTER UPDATE ON users
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1;

CREATE TRIGGER IF NOT EXISTS auth_epoch_users_del AFTER DELETE ON users
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1;

CREATE TRIGGER IF NOT EXISTS auth_epoch_roles_upd AFTER UPDATE ON roles
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1;

CREATE TRIGGER IF NOT EXISTS auth_epoch_roles_del AFTER DELETE ON roles
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1;

CREATE TRIGGER IF NOT EXISTS auth_epoch_totp_ins AFTER INSERT ON user_totp
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1;

CREATE TRIGGER IF NOT EXISTS auth_epoch_totp_upd AFTER UPDATE ON user_totp
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1
    WHERE id = 1 AND NOT (NEW.confirmed_at <=> OLD.confirmed_at
                          AND NEW.user_id <=> OLD.user_id);

CREATE TRIGGER IF NOT EXISTS auth_epoch_totp_del AFTER DELETE ON user_totp
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1;
