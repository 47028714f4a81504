-- 0002_identity: sessions, API keys, two-factor secrets and backup codes,
-- login failure counters, settings, and the hash-chained audit log.

CREATE TABLE IF NOT EXISTS sessions (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    sid           CHAR(32) NOT NULL,
    user_id       BIGINT UNSIGNED NOT NULL,
    created_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at    DATETIME(6) NOT NULL,
    last_seen_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    revoked_at    DATETIME(6) NULL,
    client_addr   VARCHAR(64) NOT NULL DEFAULT '',
    user_agent    VARCHAR(255) NOT NULL DEFAULT '',
    UNIQUE KEY sessions_sid (sid),
    KEY sessions_user (user_id, revoked_at),
    KEY sessions_expires (expires_at),
    CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS api_keys (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id       BIGINT UNSIGNED NOT NULL,
    name          VARCHAR(128) NOT NULL,
    prefix        VARCHAR(16) NOT NULL,
    token_hash    CHAR(64) NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    expires_at    DATETIME(6) NULL,
    last_used_at  DATETIME(6) NULL,
    revoked_at    DATETIME(6) NULL,
    UNIQUE KEY api_keys_hash (token_hash),
    KEY api_keys_user (user_id),
    CONSTRAINT api_keys_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- TOTP (RFC 6238). The secret is wrapped like every other secret at rest
-- (XChaCha20-Poly1305 under the master key, bound to the user id).
-- confirmed_at NULL: enrolment started but not confirmed.
CREATE TABLE IF NOT EXISTS user_totp (
    user_id        BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    secret_wrapped VARBINARY(255) NOT NULL,
    confirmed_at   DATETIME(6) NULL,
    last_step      BIGINT NOT NULL DEFAULT 0,
    created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT user_totp_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Backup codes: looked up by an HMAC of the code (lookup_hash) and then
-- verified against the Argon2id hash; consumed with a conditional UPDATE
-- so two concurrent logins cannot both use one code.
CREATE TABLE IF NOT EXISTS user_backup_codes (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id      BIGINT UNSIGNED NOT NULL,
    lookup_hash  CHAR(64) NOT NULL,
    code_hash    VARCHAR(255) NOT NULL,
    used_at      DATETIME(6) NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY backup_codes_lookup (lookup_hash),
    KEY backup_codes_user (user_id),
    CONSTRAINT backup_codes_user_fk FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Failed logins per subject ("user:<name>" or "addr:<ip>"), shared by all
-- workers and nodes.
CREATE TABLE IF NOT EXISTS login_failures (
    subject       VARCHAR(160) NOT NULL PRIMARY KEY,
    failures      INT UNSIGNED NOT NULL DEFAULT 0,
    window_start  DATETIME(6) NOT NULL,
    locked_until  DATETIME(6) NULL,
    KEY login_failures_window (window_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS settings (
    name        VARCHAR(64) NOT NULL PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_by  VARCHAR(64) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The audit log is a hash chain: each row stores the previous row's hash
-- and its own. seq orders the chain; it is assigned from audit_head, the
-- single row every append updates, which serializes appends on one server
-- and makes concurrent appends on two Galera nodes conflict (and retry)
-- instead of forking the chain.
CREATE TABLE IF NOT EXISTS audit_log (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    seq            BIGINT UNSIGNED NOT NULL,
    at             DATETIME(6) NOT NULL,
    user_id        BIGINT UNSIGNED NULL,
    username       VARCHAR(64) NOT NULL DEFAULT '',
    action         VARCHAR(64) NOT NULL,
    resource_type  VARCHAR(64) NOT NULL DEFAULT '',
    resource_id    VARCHAR(128) NOT NULL DEFAULT '',
    outcome        VARCHAR(16) NOT NULL,
    client_addr    VARCHAR(64) NOT NULL DEFAULT '',
    request_id     VARCHAR(40) NOT NULL DEFAULT '',
    detail         TEXT NOT NULL,
    prev_hash      CHAR(64) NOT NULL,
    hash           CHAR(64) NOT NULL,
    UNIQUE KEY audit_seq (seq),
    KEY audit_at (at),
    KEY audit_user (username, at),
    KEY audit_action (action, at),
    KEY audit_resource (resource_type, resource_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS audit_head (
    id           TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    last_seq     BIGINT UNSIGNED NOT NULL,
    last_hash    CHAR(64) NOT NULL,
    anchor_seq   BIGINT UNSIGNED NOT NULL,
    anchor_hash  CHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

INSERT IGNORE INTO audit_head (id, last_seq, last_hash, anchor_seq, anchor_hash)
    VALUES (1, 0, REPEAT('0', 64), 0, REPEAT('0', 64));
