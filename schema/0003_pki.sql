-- 0003_pki: certificate authorities and certificates. Certificates are
-- stored as DER plus extracted, indexed columns; private keys only wrapped
-- (XChaCha20-Poly1305 under the master key, bound to their row).

CREATE TABLE IF NOT EXISTS cas (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name            VARCHAR(128) NOT NULL,
    slug            VARCHAR(64) NOT NULL,
    type            VARCHAR(16) NOT NULL,
    origin          VARCHAR(16) NOT NULL DEFAULT 'created',
    parent_id       BIGINT UNSIGNED NULL,
    status          VARCHAR(24) NOT NULL DEFAULT 'pending',
    subject_dn      TEXT NOT NULL DEFAULT '',
    serial          VARCHAR(40) NOT NULL DEFAULT '',
    not_before      DATETIME NULL,
    not_after       DATETIME NULL,
    key_type        VARCHAR(16) NOT NULL,
    path_len        INT NULL,
    cert_der        BLOB NULL,
    csr_der         BLOB NULL,
    ski             VARCHAR(128) NOT NULL DEFAULT '',
    fp_sha256       CHAR(64) NULL,
    key_wrapped     VARBINARY(16384) NULL,
    key_state       VARCHAR(24) NOT NULL DEFAULT 'online',
    crl_url         VARCHAR(512) NULL,
    ocsp_url        VARCHAR(512) NULL,
    ca_issuers_url  VARCHAR(512) NULL,
    created_by      VARCHAR(64) NOT NULL DEFAULT '',
    created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY cas_slug (slug),
    KEY cas_parent (parent_id),
    CONSTRAINT cas_parent_fk FOREIGN KEY (parent_id) REFERENCES cas (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per certificate a CA of certward issued (a sub-CA's own
-- certificate is a row of its parent, so the parent's CRL and OCSP report
-- it). status: pending (serial reserved, not signed yet), valid, revoked.
CREATE TABLE IF NOT EXISTS certificates (
    id                 BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ca_id              BIGINT UNSIGNED NOT NULL,
    serial             VARCHAR(40) NOT NULL,
    status             VARCHAR(16) NOT NULL DEFAULT 'pending',
    template           VARCHAR(64) NOT NULL DEFAULT '',
    is_ca              TINYINT(1) NOT NULL DEFAULT 0,
    subject_dn         TEXT NOT NULL DEFAULT '',
    common_name        VARCHAR(255) NOT NULL DEFAULT '',
    sans               TEXT NULL,
    key_type           VARCHAR(16) NOT NULL DEFAULT '',
    not_before         DATETIME NULL,
    not_after          DATETIME NULL,
    fp_sha256          CHAR(64) NULL,
    der                BLOB NULL,
    key_wrapped        VARBINARY(16384) NULL,
    renewed_from       BIGINT UNSIGNED NULL,
    revoked_at         DATETIME(6) NULL,
    revocation_reason  VARCHAR(32) NULL,
    invalidity_date    DATETIME NULL,
    created_by         VARCHAR(64) NOT NULL DEFAULT '',
    created_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY certificates_serial (ca_id, serial),
    KEY certificates_serial_any (serial),
    KEY certificates_status (status, not_after),
    KEY certificates_not_after (not_after),
    KEY certificates_cn (common_name),
    KEY certificates_fp (fp_sha256),
    KEY certificates_template (template),
    KEY certificates_created (created_at),
    CONSTRAINT certificates_ca_fk FOREIGN KEY (ca_id) REFERENCES cas (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The names of each certificate (common name and every SAN value), lower
-- case, forwards and reversed: the certificate search matches a name that
-- starts or ends with the query ("www.exa", "example.com") with an index
-- range scan on either column, over the whole table.
CREATE TABLE IF NOT EXISTS certificate_names (
    id        BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cert_id   BIGINT UNSIGNED NOT NULL,
    name      VARCHAR(255) NOT NULL,
    name_rev  VARBINARY(255) NOT NULL,
    KEY certificate_names_name (name),
    KEY certificate_names_rev (name_rev),
    KEY certificate_names_cert (cert_id),
    CONSTRAINT certificate_names_cert_fk FOREIGN KEY (cert_id)
        REFERENCES certificates (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Certificate signing requests kept for review: uploaded, or generated
-- here with a key (wrapped, bound to the row; moved to the certificate
-- when the request is signed). status: pending, signed, rejected.
CREATE TABLE IF NOT EXISTS csrs (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name            VARCHAR(128) NOT NULL DEFAULT '',
    status          VARCHAR(16) NOT NULL DEFAULT 'pending',
    subject_dn      TEXT NOT NULL DEFAULT '',
    common_name     VARCHAR(255) NOT NULL DEFAULT '',
    key_type        VARCHAR(16) NOT NULL DEFAULT '',
    der             BLOB NOT NULL,
    key_wrapped     VARBINARY(16384) NULL,
    certificate_id  BIGINT UNSIGNED NULL,
    reject_reason   VARCHAR(255) NULL,
    created_by      VARCHAR(64) NOT NULL DEFAULT '',
    created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    KEY csrs_status (status, id),
    KEY csrs_cn (common_name),
    CONSTRAINT csrs_cert_fk FOREIGN KEY (certificate_id)
        REFERENCES certificates (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Custom certificate templates (the built-in ones live in the code,
-- ca/templates.c). Lists are JSON arrays of names: key usage bits
-- (RFC 5280 names), extended key usages, SAN types, key types and subject
-- attributes allowed; an empty key_types or subject_fields allows all.
CREATE TABLE IF NOT EXISTS templates (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name            VARCHAR(64) NOT NULL,
    description     VARCHAR(255) NOT NULL DEFAULT '',
    key_usage       TEXT NOT NULL,
    ext_key_usage   TEXT NOT NULL,
    max_days        INT UNSIGNED NOT NULL,
    san_types       TEXT NOT NULL,
    key_types       TEXT NOT NULL,
    subject_fields  TEXT NOT NULL,
    created_by      VARCHAR(64) NOT NULL DEFAULT '',
    created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY templates_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
