-- 0009: issuing CAs in the authentication epoch (0007). Workers keep the
-- chain of each issuing CA they read (the CA row and its parents, each
-- level with whether its certificate is revoked on its parent) and reuse
-- it while the epoch is unchanged, for requests that read the epoch (see
-- docs/internals/ca.md). So every change able to alter what the issuance
-- reads of a CA, or whether it refuses the CA, advances the epoch in the
-- same transaction:
--  * a cas row changed in a column the issuance reads (status, key_state,
--    key, certificate and its fingerprint, parent, name, slug, type, the
--    CRL, OCSP and CA issuers URLs), or deleted;
--  * a CA's certificate revoked (or un-revoked) on its parent, whatever
--    the path (REST, raw SQL): a certificates row of a CA's certificate
--    entering or leaving status 'revoked', or such a revoked row moved or
--    deleted.
-- CRL bookkeeping (crl_number, crl_seq, delta_seq, revocation_seq) and
-- updated_at-only writes do not advance it; neither does the revocation of
-- a certificate that is no CA's (the condition is checked before the
-- counter is touched, so such a write does not lock the counter row).
CREATE TRIGGER IF NOT EXISTS auth_epoch_cas_upd AFTER UPDATE ON cas
FOR EACH ROW IF NOT (NEW.id <=> OLD.id
                     AND NEW.name <=> OLD.name
                     AND NEW.slug <=> OLD.slug
                     AND NEW.type <=> OLD.type
                     AND NEW.parent_id <=> OLD.parent_id
                     AND NEW.status <=> OLD.status
                     AND NEW.key_state <=> OLD.key_state
                     AND NEW.key_wrapped <=> OLD.key_wrapped
                     AND NEW.cert_der <=> OLD.cert_der
                     AND NEW.fp_sha256 <=> OLD.fp_sha256
                     AND NEW.crl_url <=> OLD.crl_url
                     AND NEW.ocsp_url <=> OLD.ocsp_url
                     AND NEW.ca_issuers_url <=> OLD.ca_issuers_url)
THEN UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1; END IF;

CREATE TRIGGER IF NOT EXISTS auth_epoch_cas_del AFTER DELETE ON cas
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1;

CREATE TRIGGER IF NOT EXISTS auth_epoch_ca_certs_upd AFTER UPDATE ON certificates
FOR EACH ROW IF (OLD.status = 'revoked' OR NEW.status = 'revoked')
                AND NOT (NEW.status <=> OLD.status
                         AND NEW.ca_id <=> OLD.ca_id
                         AND NEW.fp_sha256 <=> OLD.fp_sha256)
                AND EXISTS (SELECT 1 FROM cas
                            WHERE cas.fp_sha256 IN (OLD.fp_sha256,
                                                    NEW.fp_sha256))
THEN UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1; END IF;

CREATE TRIGGER IF NOT EXISTS auth_epoch_ca_certs_ins AFTER INSERT ON certificates
FOR EACH ROW IF NEW.status = 'revoked'
                AND EXISTS (SELECT 1 FROM cas
                            WHERE cas.fp_sha256 = NEW.fp_sha256)
THEN UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1; END IF;

CREATE TRIGGER IF NOT EXISTS auth_epoch_ca_certs_del AFTER DELETE ON certificates
FOR EACH ROW IF OLD.status = 'revoked'
                AND EXISTS (SELECT 1 FROM cas
                            WHERE cas.fp_sha256 = OLD.fp_sha256)
THEN UPDATE auth_epoch SET gen = gen + 1 WHERE id = 1; END IF;
