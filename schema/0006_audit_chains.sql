-- 0006_audit_chains: the audit log becomes 16 independent hash chains.
-- With one head row, every audited write (each issuance among them) held
-- the same row lock until its commit had been flushed, so all of them
-- committed one after the other. Now an append locks the head of one
-- chain that no other transaction holds, and writers on different chains
-- commit (and group their flushes) side by side. Each row is linked to
-- the previous row of its own chain; seq counts within the chain. The
-- rows written before this migration are chain 1, unchanged, so they
-- still verify. The order of the log as a whole is by id (time).
ALTER TABLE audit_log
    ADD COLUMN IF NOT EXISTS chain TINYINT UNSIGNED NOT NULL DEFAULT 1 AFTER id,
    DROP INDEX IF EXISTS audit_seq,
    ADD UNIQUE KEY IF NOT EXISTS audit_chain_seq (chain, seq);

INSERT IGNORE INTO audit_head (id, last_seq, last_hash, anchor_seq, anchor_hash)
    VALUES (2, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (3, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (4, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (5, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (6, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (7, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (8, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (9, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (10, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (11, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (12, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (13, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (14, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (15, 0, REPEAT('0', 64), 0, REPEAT('0', 64)),
           (16, 0, REPEAT('0', 64), 0, REPEAT('0', 64));
