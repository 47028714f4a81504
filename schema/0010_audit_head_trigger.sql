-- 0010: an audit entry advances its chain's head in the statement that
-- inserts it. store_audit_append() locks the head of a chain, inserts the
-- entry with the next seq and the hash over the previous one, and used to
-- set the head with a second statement; the trigger does that inside the
-- INSERT, in the same transaction, saving every audited change a round
-- trip. audit_log rows are only ever inserted by store_audit_append()
-- (retention deletes and re-anchors, see store/audit.c), so the head is
-- always the last entry of its chain, as before.
CREATE TRIGGER IF NOT EXISTS audit_head_advance AFTER INSERT ON audit_log
FOR EACH ROW UPDATE audit_head SET last_seq = NEW.seq, last_hash = NEW.hash
    WHERE id = NEW.chain;
