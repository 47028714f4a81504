// Shapes of the API answers used across the app (see docs/openapi.yaml).

export type Permission = string;

export interface User {
  id: number;
  username: string;
  email: string | null;
  role: string;
  active: boolean;
  must_change_password: boolean;
  two_factor_enabled: boolean;
  created_at: string | null;
}

export interface Me extends User {
  permissions: Permission[];
  two_factor_enrolment_required: boolean;
  auth: 'session' | 'api_key';
}

export interface LoginResult {
  user: User;
  csrf_token: string;
  expires_in: number;
  must_change_password: boolean;
  two_factor_enrolment_required: boolean;
}

export interface Session {
  id: number;
  created_at: string | null;
  expires_at: string | null;
  last_seen_at: string | null;
  client_addr: string;
  user_agent: string;
  current: boolean;
}

export interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  scopes: Permission[];
  created_at: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ApiKeyCreated {
  id: number;
  name: string;
  prefix: string;
  token: string;
  scopes: Permission[];
}

export interface Role {
  id: number;
  name: string;
  description: string;
  builtin: boolean;
  permissions: Permission[];
  users: number;
}

export interface AuditEntry {
  id: number;
  seq: number;
  chain?: number;
  at: string;
  user_id: number | null;
  username: string;
  action: string;
  resource_type: string;
  resource_id: string;
  outcome: 'success' | 'failure' | 'denied';
  client_addr: string;
  request_id: string;
  detail: Record<string, unknown>;
  hash: string;
}

export interface AuditVerify {
  valid: boolean;
  checked: number;
  first_bad_id: number | null;
  reason?: string;
}

export interface PasswordPolicy {
  min_length: number;
  max_length: number;
  require_upper: boolean;
  require_lower: boolean;
  require_digit: boolean;
  require_special: boolean;
  max_run: number;
  blocklist: boolean;
}

export interface PasswordStrength {
  score: number;
  meets_policy: boolean;
  reason?: string;
}

export interface RateLimitRule {
  per_minute: number;
  burst: number;
}

export interface SecuritySettings {
  session_ttl: number;
  lockout: { threshold: number; address_threshold: number; window_seconds: number; duration_seconds: number };
  rate_limits: { default: RateLimitRule; login: RateLimitRule; protocol: RateLimitRule; revocation: RateLimitRule };
  rate_limit_allowlist: string[];
  trusted_proxies: string[] | null;
  require_2fa_roles: string[];
}

export interface TwoFactorStatus {
  enabled: boolean;
  pending: boolean;
  required: boolean;
}

export interface TwoFactorEnrolment {
  secret: string;
  otpauth_uri: string;
}
