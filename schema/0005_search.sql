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
-- filter or status on top stays in the index). certificates_status_id
-- gives a rare status (revoked) its newest rows first without a sort: a
-- walk of PRIMARY read 4,500 rows per page of a 1% status, and a range
-- on certificates_status plus filesort read all of them.
ALTER TABLE certificates
    ADD KEY IF NOT EXISTS certificates_crl (ca_id, status, id, not_after,
        serial, revoked_at, revocation_reason, invalidity_date),
    ADD KEY IF NOT EXISTS certificates_template_status (template, status,
        not_after),
    ADD KEY IF NOT EXISTS certificates_key_type (key_type, status, not_after),
    ADD KEY IF NOT EXISTS certificates_status_id (status, id),
    DROP KEY IF EXISTS certificates_ca_status,
    DROP KEY IF EXISTS certificates_template;

-- ?q= name branches read (name, cert_id) from the index alone: a prefix
-- matching 10,000 names looked up 10,000 rows of certificate_names only to
-- read cert_id.
ALTER TABLE certificate_names
    ADD KEY IF NOT EXISTS certificate_names_name_cert (name, cert_id),
    ADD KEY IF NOT EXISTS certificate_names_rev_cert (name_rev, cert_id),
    DROP KEY IF EXISTS certificate_names_name,
    DROP KEY IF EXISTS certificate_names_rev;
