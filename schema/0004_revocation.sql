-- 0004_revocation: CRLs, pre-signed OCSP responses and delegated OCSP
-- responders (RFC 5280 section 5, RFC 6960).

-- Per-CA revocation settings and state.
--   crl_days, delta_hours: validity of full and delta CRLs (delta_hours 0:
--     no delta CRLs); ocsp_hours: validity of OCSP responses; ocsp_signer
--     'delegated' (a responder certificate the CA issues, RFC 6960 4.2.2.2)
--     or 'ca'.
--   crl_number: the last cRLNumber given, full or delta (RFC 5280 5.2.3:
--     one monotonic sequence for both).
--   crl_lock_until: the one-generator-per-CA lease, taken by a conditional
--     UPDATE (Galera replicates row writes, not GET_LOCK).
--   revocation_seq counts changes to the CA's revoked set (revoke, hold,
--     release); crl_seq and delta_seq are the values the latest full and
--     delta CRL were built from, so "a CRL is out of date" is a comparison.
ALTER TABLE cas
    ADD COLUMN IF NOT EXISTS crl_days        INT UNSIGNED NOT NULL DEFAULT 7,
    ADD COLUMN IF NOT EXISTS delta_hours     INT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS ocsp_hours      INT UNSIGNED NOT NULL DEFAULT 24,
    ADD COLUMN IF NOT EXISTS ocsp_signer     VARCHAR(16) NOT NULL DEFAULT 'delegated',
    ADD COLUMN IF NOT EXISTS crl_number      BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS crl_lock_until  DATETIME(6) NOT NULL
        DEFAULT '1970-01-02 00:00:00',
    ADD COLUMN IF NOT EXISTS revocation_seq  BIGINT UNSIGNED NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS crl_seq         BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS delta_seq       BIGINT UNSIGNED NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS ocsp_responder_id BIGINT UNSIGNED NULL;

-- The CRL builder pages through a CA's revoked certificates in id order.
ALTER TABLE certificates
    ADD KEY IF NOT EXISTS certificates_ca_status (ca_id, status, id),
    ADD COLUMN IF NOT EXISTS released_at DATETIME(6) NULL;

-- Every CRL produced (or uploaded for an offline CA). delta_base is NULL
-- for a full CRL and the base's cRLNumber for a delta CRL. built_from is
-- the database time the builder read the revoked set at: a delta CRL
-- lists what changed after its base's built_from.
CREATE TABLE IF NOT EXISTS crls (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ca_id        BIGINT UNSIGNED NOT NULL,
    number       BIGINT UNSIGNED NOT NULL,
    delta_base   BIGINT UNSIGNED NULL,
    this_update  DATETIME NOT NULL,
    next_update  DATETIME NOT NULL,
    built_from   DATETIME(6) NOT NULL,
    entries      INT UNSIGNED NOT NULL,
    source       VARCHAR(16) NOT NULL DEFAULT 'generated',
    der          LONGBLOB NOT NULL,
    created_at   DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY crls_number (ca_id, number),
    KEY crls_latest (ca_id, delta_base, number),
    CONSTRAINT crls_ca_fk FOREIGN KEY (ca_id) REFERENCES cas (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Pre-signed OCSP responses, keyed by the CertID a client sends (hash
-- algorithm, issuer name hash, issuer key hash, serial: RFC 6960 4.1.1),
-- so answering is one primary-key lookup and no signature.
CREATE TABLE IF NOT EXISTS ocsp_responses (
    certid       VARBINARY(160) NOT NULL PRIMARY KEY,
    ca_id        BIGINT UNSIGNED NOT NULL,
    cert_id      BIGINT UNSIGNED NOT NULL,
    hash_alg     VARCHAR(8) NOT NULL,
    status       VARCHAR(8) NOT NULL,
    this_update  DATETIME NOT NULL,
    next_update  DATETIME NOT NULL,
    der          BLOB NOT NULL,
    KEY ocsp_responses_next (next_update),
    KEY ocsp_responses_cert (cert_id),
    CONSTRAINT ocsp_responses_ca_fk FOREIGN KEY (ca_id) REFERENCES cas (id)
        ON DELETE CASCADE,
    CONSTRAINT ocsp_responses_cert_fk FOREIGN KEY (cert_id)
        REFERENCES certificates (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A revoked certificate deleted before it expired stays on its CA's CRLs
-- and OCSP keeps answering "revoked" for it (RFC 5280 3.3: an entry
-- stays until the certificate's validity ends). crl-regen drops the rows
-- of certificates that have expired.
CREATE TABLE IF NOT EXISTS revoked_deleted (
    id                 BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    ca_id              BIGINT UNSIGNED NOT NULL,
    serial             VARCHAR(40) NOT NULL,
    revoked_at         DATETIME(6) NOT NULL,
    revocation_reason  VARCHAR(32) NULL,
    invalidity_date    DATETIME NULL,
    not_after          DATETIME NOT NULL,
    UNIQUE KEY revoked_deleted_serial (ca_id, serial),
    KEY revoked_deleted_not_after (not_after),
    CONSTRAINT revoked_deleted_ca_fk FOREIGN KEY (ca_id) REFERENCES cas (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
