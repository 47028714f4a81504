import { useState, type ReactNode } from 'react';
import { Badge, Button, Code, FileButton, Group, Paper, SegmentedControl, Stack, Table, Text, Textarea, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { IconUpload } from '@tabler/icons-react';
import { api, isApiError } from '../../api/client';
import { PageHeader } from '../../components/PageHeader';
import { PemBlock } from '../../components/PemBlock';
import { ProblemAlert } from '../../components/ProblemAlert';
import { formatDateTime } from '../../components/format';
import { fileToDecodeInput } from './decode';

type Decoded = Record<string, unknown> & { type: 'certificate' | 'csr' | 'crl' | 'pkcs7'; pem?: string };

const TYPES = [
  { value: 'auto', label: 'Detect' },
  { value: 'certificate', label: 'Certificate' },
  { value: 'csr', label: 'CSR' },
  { value: 'crl', label: 'CRL' },
  { value: 'pkcs7', label: 'PKCS#7' },
];

function show(v: unknown): ReactNode {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) {
    if (v.length === 0) return '—';
    return v.map((x) => (typeof x === 'object' && x !== null && 'value' in x ? `${String((x as { type?: string }).type ?? '')}:${String((x as { value: unknown }).value)}` : typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  }
  if (typeof v === 'object') return <Code>{JSON.stringify(v)}</Code>;
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return formatDateTime(v);
  return String(v);
}

const LABELS: Record<string, string> = {
  subject_dn: 'Subject',
  issuer_dn: 'Issuer',
  serial: 'Serial',
  not_before: 'Not before',
  not_after: 'Not after',
  sans: 'Subject alternative names',
  key: 'Key',
  is_ca: 'CA',
  path_len: 'Path length',
  key_usage: 'Key usage',
  eku: 'Extended key usage',
  ski: 'Subject key id',
  aki: 'Authority key id',
  sha256: 'SHA-256 fingerprint',
  sha1: 'SHA-1 fingerprint',
  signature_valid: 'Signature valid',
  version: 'Version',
  this_update: 'This update',
  next_update: 'Next update',
  crl_number: 'CRL number',
  delta_base: 'Delta base',
  revoked_count: 'Revoked entries',
  truncated: 'List truncated',
  count: 'Certificates',
};

function Fields({ obj }: { obj: Record<string, unknown> }) {
  const keys = Object.keys(LABELS).filter((k) => k in obj);
  return (
    <Table aria-label="Decoded fields" withRowBorders>
      <Table.Tbody>
        {keys.map((k) => (
          <Table.Tr key={k}>
            <Table.Th scope="row" w={220}>
              {LABELS[k]}
            </Table.Th>
            <Table.Td style={{ wordBreak: 'break-all' }}>{show(obj[k])}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export default function ToolsPage() {
  const [data, setData] = useState('');
  const [type, setType] = useState('auto');
  const [fileName, setFileName] = useState<string | null>(null);
  const decode = useMutation({ mutationFn: async () => (await api.post<Decoded>('/tools/decode', { data, type })).data });
  const fieldError = isApiError(decode.error) && decode.error.field === 'data' ? decode.error.detail : null;
  const result = decode.data;
  const revoked = (result?.revoked as { serial: string; revocation_date: string; reason: string | null }[] | undefined) ?? [];
  const certs = (result?.certificates as Record<string, unknown>[] | undefined) ?? [];
  return (
    <>
      <PageHeader title="Tools" description="Decode a certificate, CSR, CRL or PKCS#7 bundle. Nothing is stored." />
      <Stack>
        <Title order={2} size="h3">
          Decoder
        </Title>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            decode.mutate();
          }}
        >
          <Stack>
            <Textarea
              label="PEM or base64 DER"
              placeholder="-----BEGIN CERTIFICATE-----"
              autosize
              minRows={6}
              maxRows={16}
              value={data}
              onChange={(e) => {
                setData(e.currentTarget.value);
                setFileName(null);
              }}
              error={fieldError}
              styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
            />
            <Group wrap="wrap">
              <FileButton
                onChange={async (f) => {
                  if (!f) return;
                  setData(await fileToDecodeInput(f));
                  setFileName(f.name);
                }}
                accept=".pem,.crt,.cer,.der,.csr,.req,.crl,.p7b,.p7c,.txt"
              >
                {(props) => (
                  <Button {...props} variant="default" leftSection={<IconUpload size={16} aria-hidden />}>
                    Open file
                  </Button>
                )}
              </FileButton>
              {fileName && <Text size="sm">{fileName}</Text>}
              <SegmentedControl aria-label="Object type" data={TYPES} value={type} onChange={setType} />
              <Button type="submit" loading={decode.isPending} disabled={!data.trim()}>
                Decode
              </Button>
            </Group>
          </Stack>
        </form>
        {!fieldError && <ProblemAlert error={decode.error} />}
        {result && (
          <Paper withBorder p="md" aria-label="Decoded object" component="section">
            <Stack>
              <Group>
                <Title order={3} size="h4">
                  Result
                </Title>
                <Badge>{result.type}</Badge>
              </Group>
              <Fields obj={result} />
              {result.type === 'crl' && revoked.length > 0 && (
                <Table.ScrollContainer minWidth={400} mah={320}>
                  <Table aria-label="Revoked certificates" striped>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>Serial</Table.Th>
                        <Table.Th>Revoked</Table.Th>
                        <Table.Th>Reason</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {revoked.slice(0, 500).map((r) => (
                        <Table.Tr key={r.serial}>
                          <Table.Td>
                            <Code>{r.serial}</Code>
                          </Table.Td>
                          <Table.Td>{formatDateTime(r.revocation_date)}</Table.Td>
                          <Table.Td>{r.reason ?? '—'}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
              {result.type === 'pkcs7' &&
                certs.map((c, i) => (
                  <Paper key={i} withBorder p="sm">
                    <Title order={4} size="h5" mb="xs">
                      Certificate {i + 1}
                    </Title>
                    <Fields obj={c} />
                  </Paper>
                ))}
              {typeof result.pem === 'string' && <PemBlock pem={result.pem} label="PEM" filename={`decoded-${result.type}.pem`} />}
            </Stack>
          </Paper>
        )}
      </Stack>
    </>
  );
}
