-- 0005_search: indexes for the certificate list's filters and for the CRL
-- page query, on tables of millions of rows.
--
-- certificates_crl covers the full CRL's page query (ca_id, status,
-- id > ?, not_after >= ?, reading serial, revoked_at, reason and
-- invalidity date): the CA's revoked rows are read from the index alone,
-- in id order, without visiting other CAs' rows or the clustered index.
-- It replaces certificates_ca_status (ca_id, status, id), its prefix.
--
-- The list's counts (capped, see backend/ca/cert.c) are index-only for
-- every single filter: status and expiry on certificates_status (status,
-- not_after), CA on certificates_crl, template and key type on the two
-- indexes below (each with status and not_after, so that an expiry
-- filter or status on top stays in the index).
ALTER TABLE certificates
    ADD KEY IF NOT EXISTS certificates_crl (ca_id, status, id, not_after,
        serial, revoked_at, revocation_reason, invalidity_date),
    ADD KEY IF NOT EXISTS certificates_template_status (template, status,
        not_after),
    ADD KEY IF NOT EXISTS certificates_key_type (key_type, status, not_after),
    DROP KEY IF EXISTS certificates_ca_status,
    DROP KEY IF EXISTS certificates_template;
