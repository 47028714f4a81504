-- 0008: API keys in the authentication epoch (0007). Workers keep the API
-- key rows they read, found by the key's hash, and reuse them while the
-- epoch is unchanged, as they do session rows; so every change able to
-- end or alter an API key that is still valid advances the epoch in the
-- same transaction: revoked (or un-revoked), expiry moved, scopes changed,
-- moved to another user, its hash replaced, deleted. The owner's account
-- and role are covered by 0007's users and roles triggers; an expiry
-- reached by the clock is checked by every request against the kept row.
-- last_used_at, name and prefix changes do not advance it, so a key's use
-- never does.
CREATE TRIGGER IF NOT EXISTS auth_epoch_api_keys_upd AFTER UPDATE ON api_keys
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1
    WHERE id = 1 AND NOT (NEW.revoked_at <=> OLD.revoked_at
                          AND NEW.expires_at <=> OLD.expires_at
                          AND NEW.scopes <=> OLD.scopes
                          AND NEW.user_id <=> OLD.user_id
                          AND NEW.token_hash <=> OLD.token_hash);

CREATE TRIGGER IF NOT EXISTS auth_epoch_api_keys_del AFTER DELETE ON api_keys
FOR EACH ROW UPDATE auth_epoch SET gen = gen + 1
    WHERE id = 1 AND OLD.revoked_at IS NULL
      AND (OLD.expires_at IS NULL OR OLD.expires_at > NOW(6));
