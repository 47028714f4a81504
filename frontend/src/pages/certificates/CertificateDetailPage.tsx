import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Button, Group, Loader, Modal, PasswordInput, Radio, Select, Stack, Tabs, Text, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { api, requestBlob } from '../../api/client';
import { Can, useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { downloadFromApi, saveFile } from '../../components/download';
import { formatDateTime } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { PemBlock } from '../../components/PemBlock';
import { ProblemAlert } from '../../components/ProblemAlert';
import { applyProblem, notifyError, notifySuccess } from '../../components/problems';
import { REVOCATION_REASONS, certDisplayStatus, type Certificate } from './pki';
import { DecodedCertificate, FieldTable, StatusBadge } from './PkiParts';
import { useCaList } from './useLookups';

/** "2026-01-02T03:04" (local) -> "2026-01-02T02:04:00Z". */
export function localToUtc(v: string): string {
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function RevokeDialog({ cert, opened, onClose }: { cert: Certificate; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const form = useForm({ initialValues: { reason: 'unspecified', invalidity_date: '' } });
  const m = useMutation({
    mutationFn: (v: typeof form.values) =>
      api.post<Certificate>(`/certificates/${cert.id}/revoke`, { reason: v.reason, ...(v.invalidity_date ? { invalidity_date: localToUtc(v.invalidity_date) } : {}) }),
    onSuccess: (r) => {
      qc.setQueryData(['certificate', String(cert.id)], r);
      void qc.invalidateQueries({ queryKey: ['certificates'] });
      notifySuccess(r.data.revocation_reason === 'certificateHold' ? 'The certificate is on hold.' : 'The certificate is revoked.');
      onClose();
    },
    onError: (e) => applyProblem(e, form, ['reason', 'invalidity_date']),
  });
  return (
    <Modal opened={opened} onClose={onClose} title="Revoke certificate" centered>
      <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
        <Stack>
          <Text size="sm">
            Revoke <b>{cert.common_name || cert.serial}</b>. Only a certificate hold can be lifted later.
          </Text>
          <Select label="Reason" data={REVOCATION_REASONS} allowDeselect={false} {...form.getInputProps('reason')} />
          <TextInput label="Invalidity date (optional)" type="datetime-local" {...form.getInputProps('invalidity_date')} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={m.isPending}>
              Revoke
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

const EXPORT_FORMATS = [
  { value: 'pem', label: 'PEM certificate', ext: 'pem' },
  { value: 'der', label: 'DER certificate', ext: 'cer' },
  { value: 'chain', label: 'PEM with chain', ext: 'chain.pem' },
  { value: 'p7b', label: 'PKCS#7 (P7B)', ext: 'p7b' },
  { value: 'p12', label: 'PKCS#12 with private key', ext: 'p12', key: true },
  { value: 'pkcs8', label: 'Private key (encrypted PKCS#8)', ext: 'key.pem', key: true },
];

export function ExportDialog({ cert, opened, onClose }: { cert: Certificate; opened: boolean; onClose: () => void }) {
  const { can } = useAuth();
  const keyOk = can('export:private_keys') && !!cert.has_private_key;
  const formats = EXPORT_FORMATS.filter((f) => !f.key || keyOk);
  const form = useForm({
    initialValues: { format: 'pem', password: '' },
    validate: {
      password: (v, all) => (['p12', 'pkcs8'].includes(all.format) && v.length < 8 ? 'At least 8 characters' : null),
    },
  });
  const [busy, setBusy] = useState(false);
  const base = (cert.common_name || `certificate-${cert.id}`).replace(/[^A-Za-z0-9._-]+/g, '_');
  const submit = async (v: typeof form.values) => {
    const f = EXPORT_FORMATS.find((x) => x.value === v.format)!;
    setBusy(true);
    try {
      if (f.key) {
        const r = await requestBlob(`/certificates/${cert.id}/export`, { method: 'POST', body: { format: v.format, password: v.password } });
        saveFile(r.blob, r.filename ?? `${base}.${f.ext}`);
      } else {
        await downloadFromApi(`/certificates/${cert.id}/export`, `${base}.${f.ext}`, { format: v.format });
      }
      form.reset();
      onClose();
    } catch (e) {
      applyProblem(e, form, ['format', 'password']);
    } finally {
      setBusy(false);
    }
  };
  const needsPw = ['p12', 'pkcs8'].includes(form.values.format);
  return (
    <Modal opened={opened} onClose={onClose} title="Export certificate" centered>
      <form onSubmit={form.onSubmit((v) => void submit(v))}>
        <Stack>
          <Radio.Group label="Format" {...form.getInputProps('format')}>
            <Stack gap={6} mt={6}>
              {formats.map((f) => (
                <Radio key={f.value} value={f.value} label={f.label} />
              ))}
            </Stack>
          </Radio.Group>
          {needsPw && <PasswordInput label="Password for the file" description="At least 8 characters; needed to open the file." {...form.getInputProps('password')} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              Download
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** The renewal history: this certificate's predecessors (renewed_from, followed back). */
function RenewalHistory({ cert }: { cert: Certificate }) {
  const q = useQuery({
    queryKey: ['certificate', String(cert.id), 'history'],
    queryFn: async () => {
      const out: Certificate[] = [];
      let prev = cert.renewed_from ?? null;
      while (prev && out.length < 20) {
        const r = await api.get<Certificate>(`/certificates/${prev}`);
        out.push(r.data);
        prev = r.data.renewed_from ?? null;
      }
      return out;
    },
    enabled: !!cert.renewed_from,
  });
  if (!cert.renewed_from) return <Text size="sm">This certificate is not a renewal.</Text>;
  if (q.isPending) return <Loader size="sm" aria-label="Loading history" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  return (
    <Stack gap={4}>
      <Text size="sm">Renewed from:</Text>
      {q.data.map((c) => (
        <Text size="sm" key={c.id}>
          <Anchor component={Link} to={`/certificates/${c.id}`}>
            #{c.id} {c.common_name}
          </Anchor>{' '}
          serial {c.serial}, {formatDateTime(c.not_before)} – {formatDateTime(c.not_after)} <StatusBadge status={certDisplayStatus(c)} />
        </Text>
      ))}
    </Stack>
  );
}

function ChainView({ id }: { id: number }) {
  const q = useQuery({
    queryKey: ['certificate', String(id), 'chain'],
    queryFn: async () => (await (await requestBlob(`/certificates/${id}/export`, { query: { format: 'chain' } })).blob.text()),
  });
  if (q.isPending) return <Loader size="sm" aria-label="Loading chain" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  const n = (q.data.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
  return (
    <Stack>
      <Text size="sm">{n} certificates, leaf first.</Text>
      <PemBlock pem={q.data} label="Chain PEM" filename={`certificate-${id}-chain.pem`} />
    </Stack>
  );
}

export function CertificateDetailPage() {
  const { id = '' } = useParams();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { byId } = useCaList();
  const [dialog, setDialog] = useState<'revoke' | 'export' | 'renew' | 'release' | 'delete' | null>(null);
  const [renewCsr, setRenewCsr] = useState('');
  const q = useQuery({ queryKey: ['certificate', id], queryFn: () => api.get<Certificate>(`/certificates/${id}`) });
  const done = (msg: string) => () => {
    notifySuccess(msg);
    setDialog(null);
    void qc.invalidateQueries({ queryKey: ['certificates'] });
  };
  const renew = useMutation({
    mutationFn: () => api.post<Certificate>(`/certificates/${id}/renew`, renewCsr.trim() ? { csr: renewCsr.trim() } : undefined),
    onSuccess: (r) => {
      done('Renewed.')();
      void nav(`/certificates/${r.data.id}`);
    },
    onError: (e) => notifyError(e),
  });
  const release = useMutation({
    mutationFn: () => api.post<Certificate>(`/certificates/${id}/release`),
    onSuccess: (r) => {
      qc.setQueryData(['certificate', id], r);
      done('The hold is lifted.')();
    },
    onError: (e) => notifyError(e),
  });
  const del = useMutation({
    mutationFn: () => api.del(`/certificates/${id}`),
    onSuccess: () => {
      done('Deleted.')();
      void nav('/certificates');
    },
    onError: (e) => notifyError(e),
  });

  if (q.isPending) return <Loader aria-label="Loading" />;
  if (q.error)
    return (
      <>
        <PageHeader title="Certificate" />
        <ProblemAlert error={q.error} />
      </>
    );
  const c = q.data.data;
  const status = certDisplayStatus(c);
  const onHold = c.status === 'revoked' && c.revocation_reason === 'certificateHold';
  const ca = byId.get(c.ca_id);
  return (
    <>
      <PageHeader
        title={c.common_name || c.subject_dn || `Certificate #${c.id}`}
        description={<>Serial {c.serial}</>}
        actions={
          <>
            <Button variant="default" onClick={() => setDialog('export')}>
              Export
            </Button>
            {c.status !== 'revoked' && (
              <Can permission="write:certificates">
                <Button variant="default" onClick={() => setDialog('renew')}>
                  Renew
                </Button>
              </Can>
            )}
            {c.status === 'valid' && (
              <Can permission="revoke:certificates">
                <Button color="red" variant="light" onClick={() => setDialog('revoke')}>
                  Revoke
                </Button>
              </Can>
            )}
            {onHold && (
              <Can permission="revoke:certificates">
                <Button variant="light" onClick={() => setDialog('release')}>
                  Release hold
                </Button>
              </Can>
            )}
            {c.status !== 'valid' && (
              <Can permission="delete:certificates">
                <Button color="red" variant="subtle" onClick={() => setDialog('delete')}>
                  Delete
                </Button>
              </Can>
            )}
          </>
        }
      />
      {c.status === 'revoked' && (
        <Alert color={onHold ? 'yellow' : 'red'} title={onHold ? 'On hold' : 'Revoked'} mb="md">
          {formatDateTime(c.revoked_at)}, reason {c.revocation_reason ?? 'unspecified'}
          {c.invalidity_date ? `, invalid since ${formatDateTime(c.invalidity_date)}` : ''}
        </Alert>
      )}
      <Tabs defaultValue="overview" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          <Tabs.Tab value="fields">Decoded fields</Tabs.Tab>
          <Tabs.Tab value="pem">PEM</Tabs.Tab>
          <Tabs.Tab value="chain">Chain</Tabs.Tab>
          <Tabs.Tab value="history">History</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview" pt="md">
          <FieldTable
            label="Certificate"
            rows={[
              ['Status', <StatusBadge key="s" status={status} />],
              ['Subject', c.subject_dn],
              ['Subject alternative names', c.sans?.map((s) => `${s.type}:${s.value}`).join(', ')],
              ['Issuing CA', ca ? <Anchor component={Link} to={`/cas/${ca.id}`}>{ca.name}</Anchor> : `#${c.ca_id}`],
              ['Template', c.template],
              ['Key type', c.key_type],
              ['Key held by the server', c.has_private_key ? 'yes' : 'no'],
              ['Not before', formatDateTime(c.not_before)],
              ['Not after', formatDateTime(c.not_after)],
              ['SHA-256 fingerprint', c.fingerprint_sha256],
              ['Renewed from', c.renewed_from ? <Anchor component={Link} to={`/certificates/${c.renewed_from}`}>#{c.renewed_from}</Anchor> : ''],
            ]}
          />
        </Tabs.Panel>
        <Tabs.Panel value="fields" pt="md">
          <DecodedCertificate pem={c.pem} />
        </Tabs.Panel>
        <Tabs.Panel value="pem" pt="md">
          {c.pem && <PemBlock pem={c.pem} label="Certificate PEM" filename={`certificate-${c.id}.pem`} />}
        </Tabs.Panel>
        <Tabs.Panel value="chain" pt="md">
          <ChainView id={c.id} />
        </Tabs.Panel>
        <Tabs.Panel value="history" pt="md">
          <RenewalHistory cert={c} />
        </Tabs.Panel>
      </Tabs>
      <RevokeDialog cert={c} opened={dialog === 'revoke'} onClose={() => setDialog(null)} />
      <ExportDialog cert={c} opened={dialog === 'export'} onClose={() => setDialog(null)} />
      <ConfirmDialog
        opened={dialog === 'renew'}
        title="Renew certificate"
        message={c.has_private_key ? 'A new certificate with the same subject and names and a new key of the same type is issued.' : 'The server does not hold this key: give a new CSR for the successor.'}
        confirmLabel="Renew"
        loading={renew.isPending}
        onConfirm={() => renew.mutate()}
        onClose={() => setDialog(null)}
      >
        {!c.has_private_key && (
          <Textarea label="New CSR (PEM)" autosize minRows={4} maxRows={10} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} value={renewCsr} onChange={(e) => setRenewCsr(e.currentTarget.value)} />
        )}
      </ConfirmDialog>
      <ConfirmDialog opened={dialog === 'release'} title="Release hold" message="The certificate becomes valid again." confirmLabel="Release" loading={release.isPending} onConfirm={() => release.mutate()} onClose={() => setDialog(null)} />
      <ConfirmDialog opened={dialog === 'delete'} title="Delete certificate" message="The record of this certificate is removed." confirmLabel="Delete" danger loading={del.isPending} onConfirm={() => del.mutate()} onClose={() => setDialog(null)} />
    </>
  );
}
