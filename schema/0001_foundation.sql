-- 0001_foundation: migrations ledger, cron leases and run history, roles
-- and users. Every table has a primary key and uses InnoDB (Galera
-- replicates only InnoDB, and needs primary keys for row events).
-- A statement ends with ';' at the end of a line.

CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INT UNSIGNED NOT NULL PRIMARY KEY,
    name        VARCHAR(128) NOT NULL,
    checksum    CHAR(64) NOT NULL,
    applied_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per cron task: the run lease (holder, locked_until) and the
-- schedule (next_run_at). A node runs a task only after winning the
-- conditional UPDATE on this row, so every task runs once per period across
-- all nodes (GET_LOCK is not replicated by Galera; this row is).
CREATE TABLE IF NOT EXISTS job_leases (
    name          VARCHAR(64) NOT NULL PRIMARY KEY,
    holder        VARCHAR(160) NOT NULL DEFAULT '',
    locked_until  DATETIME(6) NOT NULL DEFAULT '1970-01-02 00:00:00',
    next_run_at   DATETIME(6) NOT NULL DEFAULT '1970-01-02 00:00:00',
    last_run_at   DATETIME(6) NULL,
    last_status   VARCHAR(16) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS job_runs (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name         VARCHAR(64) NOT NULL,
    holder       VARCHAR(160) NOT NULL,
    started_at   DATETIME(6) NOT NULL,
    finished_at  DATETIME(6) NULL,
    status       VARCHAR(16) NOT NULL,
    detail       VARCHAR(512) NOT NULL DEFAULT '',
    KEY job_runs_name_started (name, started_at),
    KEY job_runs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS roles (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name         VARCHAR(64) NOT NULL,
    description  VARCHAR(255) NOT NULL DEFAULT '',
    builtin      TINYINT(1) NOT NULL DEFAULT 0,
    permissions  TEXT NOT NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY roles_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Built-in roles; their permission lists live in the code (auth/rbac.c)
-- and are immutable, so the column holds '*builtin*'.
INSERT IGNORE INTO roles (name, description, builtin, permissions) VALUES
    ('admin', 'Full administration', 1, '*builtin*'),
    ('operator', 'Issue, renew and revoke certificates; manage CAs', 1, '*builtin*'),
    ('auditor', 'Read everything, including the audit log', 1, '*builtin*'),
    ('viewer', 'Read certificates and CAs', 1, '*builtin*');

CREATE TABLE IF NOT EXISTS users (
    id                    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username              VARCHAR(64) NOT NULL,
    email                 VARCHAR(254) NULL,
    password_hash         VARCHAR(255) NOT NULL,
    role_id               BIGINT UNSIGNED NOT NULL,
    active                TINYINT(1) NOT NULL DEFAULT 1,
    must_change_password  TINYINT(1) NOT NULL DEFAULT 0,
    password_changed_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    created_at            DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at            DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY users_username (username),
    KEY users_role (role_id),
    CONSTRAINT users_role_fk FOREIGN KEY (role_id) REFERENCES roles (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
