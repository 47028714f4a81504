// Form and display parts shared by the PKI screens.
import { useRef, useState, type ReactNode } from 'react';
import { ActionIcon, Badge, Box, Button, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import { IconPlus, IconTrash, IconUpload } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api/client';
import { formatDateTime } from '../../components/format';
import { ProblemAlert } from '../../components/ProblemAlert';
import { KEY_TYPES, SAN_TYPES, SUBJECT_FIELDS, SUBJECT_LABELS, sanError, statusColor, type San, type SanType, type SubjectField } from './pki';

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return (
    <Badge color={statusColor(status)} variant="light">
      {label ?? status.replace(/_/g, ' ')}
    </Badge>
  );
}

/** Inputs for the subject attributes; `fields` limits them, `errors` by field. */
export function SubjectFields({
  value,
  onChange,
  fields = SUBJECT_FIELDS,
  errors = {},
  required = ['CN'],
}: {
  value: Record<string, string>;
  onChange: (v: Record<string, string>) => void;
  fields?: readonly SubjectField[];
  errors?: Record<string, ReactNode>;
  required?: readonly string[];
}) {
  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
      {fields.map((f) => (
        <TextInput
          key={f}
          label={SUBJECT_LABELS[f]}
          required={required.includes(f)}
          maxLength={f === 'C' ? 2 : 64}
          value={value[f] ?? ''}
          error={errors[f] ?? errors[`subject.${f}`]}
          onChange={(e) => onChange({ ...value, [f]: e.currentTarget.value })}
        />
      ))}
    </SimpleGrid>
  );
}

export function KeyTypeSelect({ value, onChange, label = 'Key type', allowed, error }: { value: string; onChange: (v: string) => void; label?: string; allowed?: string[]; error?: ReactNode }) {
  const data = KEY_TYPES.filter((k) => !allowed || allowed.length === 0 || allowed.includes(k.value)).map((k) => ({ value: k.value, label: k.label }));
  return <Select label={label} data={data} value={value} onChange={(v) => v && onChange(v)} allowDeselect={false} error={error} w={{ base: '100%', sm: 220 }} />;
}

export interface SanRow extends San {
  key: number;
}

let sanKey = 0;
export const newSanRow = (type: SanType = 'dns', value = ''): SanRow => ({ key: ++sanKey, type, value });

/** Per-row SAN errors (client-side checks by type); empty when all rows are valid. */
export function sanErrors(rows: SanRow[]): Record<number, string> {
  const out: Record<number, string> = {};
  for (const r of rows) {
    const e = sanError(r.type, r.value);
    if (e) out[r.key] = e;
  }
  return out;
}

/** A typed SAN list editor: one row per name, type select + value, checked as typed. */
export function SanEditor({
  rows,
  onChange,
  allowedTypes,
  showErrors,
  serverError,
}: {
  rows: SanRow[];
  onChange: (rows: SanRow[]) => void;
  allowedTypes?: string[];
  showErrors: boolean;
  serverError?: ReactNode;
}) {
  const types = SAN_TYPES.filter((t) => !allowedTypes || allowedTypes.length === 0 || allowedTypes.includes(t.value));
  const errs = sanErrors(rows);
  const set = (key: number, patch: Partial<San>) => onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500} id="san-editor-label">
        Subject alternative names
      </Text>
      {rows.length === 0 && (
        <Text size="sm" c="dimmed">
          No names yet.
        </Text>
      )}
      {rows.map((r, i) => (
        <Group key={r.key} align="flex-start" gap="xs" wrap="nowrap">
          <Select
            aria-label={`Type of name ${i + 1}`}
            data={types}
            value={r.type}
            onChange={(v) => v && set(r.key, { type: v as SanType })}
            allowDeselect={false}
            w={130}
          />
          <TextInput
            aria-label={`Name ${i + 1}`}
            style={{ flex: 1 }}
            value={r.value}
            placeholder={r.type === 'dns' ? 'www.example.com' : r.type === 'ip' ? '192.0.2.1' : r.type === 'uri' ? 'https://example.com/' : 'user@example.com'}
            error={(showErrors || r.value !== '') && errs[r.key] ? errs[r.key] : undefined}
            onChange={(e) => set(r.key, { value: e.currentTarget.value })}
          />
          <ActionIcon variant="subtle" color="red" aria-label={`Remove name ${i + 1}`} onClick={() => onChange(rows.filter((x) => x.key !== r.key))} mt={4}>
            <IconTrash size={16} aria-hidden />
          </ActionIcon>
        </Group>
      ))}
      {serverError && (
        <Text size="sm" c="red" role="alert">
          {serverError}
        </Text>
      )}
      <Box>
        <Button size="xs" variant="light" leftSection={<IconPlus size={14} aria-hidden />} onClick={() => onChange([...rows, newSanRow(types[0]?.value ?? 'dns')])}>
          Add name
        </Button>
      </Box>
    </Stack>
  );
}

/** A file drop area with a button; calls onFile with the chosen or dropped file. */
export function FileDrop({ label, accept, onFile, fileName }: { label: string; accept?: string; onFile: (f: File) => void; fileName?: string | null }) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  return (
    <Paper
      withBorder
      p="md"
      style={{ borderStyle: 'dashed', background: over ? 'var(--mantine-color-blue-light)' : undefined }}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const f = e.dataTransfer.files[0];
        if (f) onFile(f);
      }}
    >
      <Group justify="space-between" wrap="wrap">
        <Text size="sm">{fileName ? `Selected: ${fileName}` : 'Drop a file here or choose one.'}</Text>
        <Button size="xs" variant="default" leftSection={<IconUpload size={14} aria-hidden />} onClick={() => input.current?.click()}>
          Choose file
        </Button>
      </Group>
      <input
        ref={input}
        type="file"
        aria-label={label}
        accept={accept}
        style={{ display: 'none' }}
        onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          if (f) onFile(f);
          e.currentTarget.value = '';
        }}
      />
    </Paper>
  );
}

/** A two-column table of labelled values. */
export function FieldTable({ label, rows }: { label: string; rows: [string, ReactNode][] }) {
  return (
    <Table aria-label={label} withRowBorders={false} verticalSpacing={4} layout="fixed">
      <Table.Tbody>
        {rows
          .filter(([, v]) => v !== undefined && v !== null && v !== '')
          .map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Th w={{ base: 130, sm: 200 } as unknown as number} style={{ verticalAlign: 'top', fontWeight: 600 }}>
                {k}
              </Table.Th>
              <Table.Td style={{ wordBreak: 'break-all' }}>{v}</Table.Td>
            </Table.Tr>
          ))}
      </Table.Tbody>
    </Table>
  );
}

interface DecodedCert {
  subject?: Record<string, string> | string;
  issuer?: Record<string, string> | string;
  subject_dn?: string;
  issuer_dn?: string;
  serial?: string;
  sha1?: string;
  sha256?: string;
  not_before?: string;
  not_after?: string;
  ski?: string | null;
  aki?: string | null;
  is_ca?: boolean;
  path_len?: number | null;
  key_usage?: string[];
  eku?: string[];
  sans?: San[];
  key?: Record<string, unknown> | string;
  [k: string]: unknown;
}

function dn(v: unknown): string {
  if (!v) return '';
  if (typeof v === 'string') return v;
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}=${String(x)}`)
    .join(', ');
}

function keyText(k: unknown): string {
  if (!k) return '';
  if (typeof k === 'string') return k;
  const o = k as Record<string, unknown>;
  return [o.type, o.bits, o.curve].filter(Boolean).join(' ');
}

/** The decoded fields of certificate PEM (POST /tools/decode), first certificate of the answer. */
export function DecodedCertificate({ pem, label = 'Certificate fields' }: { pem: string | undefined; label?: string }) {
  const q = useQuery({
    queryKey: ['pki', 'decode', pem],
    queryFn: () => api.post<{ type: string; certificates?: DecodedCert[] }>('/tools/decode', { data: pem, type: 'certificate' }),
    enabled: !!pem,
    staleTime: Infinity,
  });
  if (!pem) return null;
  if (q.isPending) return <Text size="sm">Decoding…</Text>;
  if (q.error) return <ProblemAlert error={q.error} title="The certificate could not be decoded" />;
  const c = q.data.data.certificates?.[0];
  if (!c) return null;
  return (
    <FieldTable
      label={label}
      rows={[
        ['Subject', c.subject_dn ?? dn(c.subject)],
        ['Issuer', c.issuer_dn ?? dn(c.issuer)],
        ['Serial', c.serial],
        ['Not before', formatDateTime(c.not_before)],
        ['Not after', formatDateTime(c.not_after)],
        ['Key', keyText(c.key)],
        ['CA', c.is_ca === undefined ? '' : c.is_ca ? `yes${c.path_len !== null && c.path_len !== undefined ? `, path length ${c.path_len}` : ''}` : 'no'],
        ['Key usage', c.key_usage?.join(', ')],
        ['Extended key usage', c.eku?.join(', ')],
        ['Subject alternative names', c.sans?.map((s) => `${s.type}:${s.value}`).join(', ')],
        ['Subject key id', c.ski ?? ''],
        ['Authority key id', c.aki ?? ''],
        ['SHA-1', c.sha1],
        ['SHA-256', c.sha256],
      ]}
    />
  );
}
