// Shapes of the PKI answers (docs/openapi.yaml: Ca, Certificate, Template,
// Csr, CrlInfo) and helpers shared by the PKI screens (cas, certificates,
// csrs, templates).

export type Subject = Partial<Record<SubjectField, string>>;
export type SanType = 'dns' | 'ip' | 'email' | 'uri' | 'upn';
export interface San {
  type: SanType;
  value: string;
}

export interface Ca {
  id: number;
  name: string;
  origin?: 'created' | 'imported' | 'external';
  slug: string;
  type: 'root' | 'intermediate';
  parent_id: number | null;
  status: string;
  key_type: string;
  key_state: string;
  path_length: number | null;
  serial?: string;
  subject?: Record<string, string>;
  not_before?: string;
  not_after?: string;
  crl_url?: string;
  ocsp_url?: string;
  ca_issuers_url?: string;
  has_private_key?: boolean;
  created_at?: string;
  children?: number;
  pem?: string;
  key_pem?: string;
  csr?: string;
}

export interface Certificate {
  id: number;
  ca_id: number;
  serial: string;
  status: 'valid' | 'expired' | 'revoked';
  template: string;
  is_ca?: boolean;
  subject?: Record<string, string>;
  sans?: San[];
  key_type: string;
  not_before: string;
  not_after: string;
  fingerprint_sha256?: string;
  has_private_key?: boolean;
  revoked_at?: string | null;
  revocation_reason?: string | null;
  invalidity_date?: string | null;
  created_at?: string;
  subject_dn?: string;
  common_name?: string;
  renewed_from?: number | null;
  pem?: string;
}

export interface Template {
  id?: number;
  name: string;
  description?: string;
  builtin: boolean;
  key_usage?: string[];
  key_usage_by_key_type?: boolean;
  extended_key_usage?: string[];
  max_validity_days: number;
  allowed_san_types?: string[];
  key_types?: string[];
  subject_fields?: string[];
  is_ca?: boolean;
}

export interface Csr {
  id: number;
  name: string;
  status: 'pending' | 'signed' | 'rejected';
  key_type?: string;
  has_private_key?: boolean;
  certificate_id?: number | null;
  reject_reason?: string | null;
  created_by?: string;
  created_at?: string;
  decoded?: {
    subject?: Record<string, string>;
    subject_dn?: string;
    sans?: San[];
    key?: Record<string, unknown> | string;
    [k: string]: unknown;
  };
  pem?: string;
}

export interface CrlMeta {
  number?: number;
  this_update?: string;
  next_update?: string;
  entries?: number;
  source?: 'generated' | 'uploaded';
  base?: number;
}

export interface CrlInfo {
  settings?: { crl_days: number; delta_hours: number; ocsp_hours: number; ocsp_signer: 'delegated' | 'ca' };
  last_number?: number;
  stale?: boolean;
  crl_url?: string;
  delta_url?: string;
  ocsp_url?: string;
  ca_issuers_url?: string;
  full?: CrlMeta | null;
  delta?: CrlMeta | null;
}

export interface BulkResult {
  results: { id: number; status: 'ok' | 'error'; code?: string; detail?: string; new_id?: number }[];
}

export const SUBJECT_FIELDS = ['CN', 'O', 'OU', 'C', 'ST', 'L', 'emailAddress', 'serialNumber'] as const;
export type SubjectField = (typeof SUBJECT_FIELDS)[number];
export const SUBJECT_LABELS: Record<SubjectField, string> = {
  CN: 'Common name (CN)',
  O: 'Organization (O)',
  OU: 'Organizational unit (OU)',
  C: 'Country (C)',
  ST: 'State or province (ST)',
  L: 'Locality (L)',
  emailAddress: 'Email address',
  serialNumber: 'Subject serial number',
};

/** Key choices: the value is the template key_types name. */
export const KEY_TYPES = [
  { value: 'rsa2048', label: 'RSA 2048' },
  { value: 'rsa3072', label: 'RSA 3072' },
  { value: 'rsa4096', label: 'RSA 4096' },
  { value: 'ec-p256', label: 'EC P-256' },
  { value: 'ec-p384', label: 'EC P-384' },
  { value: 'ec-p521', label: 'EC P-521' },
  { value: 'ed25519', label: 'Ed25519' },
] as const;

export interface KeySpec {
  type: 'rsa' | 'ec' | 'ed25519';
  bits?: number;
  curve?: string;
}

/** "rsa3072" -> {type:"rsa",bits:3072}; "ec-p384" -> {type:"ec",curve:"P-384"}. */
export function keySpec(v: string): KeySpec {
  if (v.startsWith('rsa')) return { type: 'rsa', bits: Number(v.slice(3)) };
  if (v.startsWith('ec-p')) return { type: 'ec', curve: 'P-' + v.slice(4) };
  return { type: 'ed25519' };
}

export const REVOCATION_REASONS = [
  { value: 'unspecified', label: 'Unspecified' },
  { value: 'keyCompromise', label: 'Key compromise' },
  { value: 'cACompromise', label: 'CA compromise' },
  { value: 'affiliationChanged', label: 'Affiliation changed' },
  { value: 'superseded', label: 'Superseded' },
  { value: 'cessationOfOperation', label: 'Cessation of operation' },
  { value: 'certificateHold', label: 'Certificate hold' },
  { value: 'privilegeWithdrawn', label: 'Privilege withdrawn' },
  { value: 'aACompromise', label: 'AA compromise' },
];

export const SAN_TYPES: { value: SanType; label: string }[] = [
  { value: 'dns', label: 'DNS name' },
  { value: 'ip', label: 'IP address' },
  { value: 'email', label: 'Email' },
  { value: 'uri', label: 'URI' },
  { value: 'upn', label: 'UPN' },
];

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

export function isDnsName(v: string, allowWildcard = true): boolean {
  if (!v || v.length > 253) return false;
  const labels = v.replace(/\.$/, '').split('.');
  return labels.every((l, i) => (allowWildcard && i === 0 && l === '*' && labels.length > 2) || DNS_LABEL.test(l));
}

export function isIPv4(v: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v);
  return !!m && m.slice(1).every((p) => Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

export function isIPv6(v: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(v) || !v.includes(':')) return false;
  let s = v;
  const groupsNeeded = 8;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = s.split('::');
  if (dbl.length > 2) return false;
  const part = (x: string) => (x === '' ? [] : x.split(':'));
  const groups = [...part(dbl[0] ?? ''), ...(dbl.length === 2 ? part(dbl[1] ?? '') : [])];
  if (!groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  return dbl.length === 2 ? groups.length < groupsNeeded : groups.length === groupsNeeded;
}

export function isEmail(v: string): boolean {
  const at = v.lastIndexOf('@');
  if (at < 1) return false;
  const local = v.slice(0, at);
  return /^[^\s@]+$/.test(local) && isDnsName(v.slice(at + 1), false);
}

/** An error text for a SAN value, or null when it is valid for its type. */
export function sanError(type: SanType, value: string): string | null {
  const v = value.trim();
  if (!v) return 'Enter a value';
  switch (type) {
    case 'dns':
      return isDnsName(v) ? null : 'Not a valid DNS name';
    case 'ip':
      return isIPv4(v) || isIPv6(v) ? null : 'Not a valid IPv4 or IPv6 address';
    case 'email':
      return isEmail(v) ? null : 'Not a valid email address';
    case 'uri':
      return /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(v) ? null : 'Not a valid URI (scheme:...)';
    case 'upn':
      return isEmail(v) ? null : 'A UPN looks like user@domain';
  }
}

/** Drops empty subject members. */
export function cleanSubject(s: Record<string, string>): Subject {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s)) if (v && v.trim()) out[k] = v.trim();
  return out as Subject;
}

/** Lines of a textarea -> trimmed non-empty strings. */
export function lines(s: string): string[] {
  return s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** The display status of a certificate: "expiring" when valid and due within `days`. */
export function certDisplayStatus(c: Pick<Certificate, 'status' | 'not_after'>, days = 30, now = Date.now()): string {
  if (c.status === 'revoked' || c.status === 'expired') return c.status;
  const t = Date.parse(c.not_after);
  if (!Number.isNaN(t) && t < now) return 'expired';
  if (!Number.isNaN(t) && t - now < days * 86400_000) return 'expiring';
  return c.status;
}

export function statusColor(s: string): string {
  switch (s) {
    case 'valid':
    case 'active':
    case 'online':
    case 'signed':
      return 'green';
    case 'expiring':
    case 'pending':
    case 'awaiting_certificate':
    case 'password_protected':
    case 'file_exported':
      return 'yellow';
    case 'expired':
    case 'certificate_only':
      return 'gray';
    case 'revoked':
    case 'rejected':
      return 'red';
    default:
      return 'blue';
  }
}

/** Reads a file as text when it looks like PEM, else as base64 (DER, PKCS#12, P7B). */
export async function readCertFile(file: File): Promise<{ text: string; binary: boolean }> {
  const buf = new Uint8Array(await file.arrayBuffer());
  const head = new TextDecoder('utf-8', { fatal: false }).decode(buf.slice(0, 2048));
  if (head.includes('-----BEGIN')) return { text: new TextDecoder().decode(buf), binary: false };
  return { text: toBase64(buf), binary: true };
}

export function toBase64(buf: Uint8Array): string {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < buf.length; i += chunk) s += String.fromCharCode(...buf.subarray(i, i + chunk));
  return btoa(s);
}

export function subjectLine(s: Record<string, string> | undefined): string {
  if (!s) return '';
  return Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}
