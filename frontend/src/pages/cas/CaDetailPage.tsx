import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Anchor, Button, Group, Loader, Menu, Modal, NumberInput, PasswordInput, Radio, Select, Stack, Table, Tabs, Text, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconChevronDown } from '@tabler/icons-react';
import { api, requestBlob } from '../../api/client';
import { Can, useAuth } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { downloadFromApi } from '../../components/download';
import { formatDate, formatDateTime } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { PemBlock } from '../../components/PemBlock';
import { ProblemAlert } from '../../components/ProblemAlert';
import { applyProblem, notifyError, notifySuccess } from '../../components/problems';
import { REVOCATION_REASONS, readCertFile, subjectLine, type Ca, type CrlInfo, type CrlMeta } from '../certificates/pki';
import { DecodedCertificate, FieldTable, FileDrop, StatusBadge } from '../certificates/PkiParts';

const CA_EXPORTS = [
  { value: 'pem', label: 'Certificate (PEM)', ext: 'pem' },
  { value: 'der', label: 'Certificate (DER)', ext: 'cer' },
  { value: 'chain', label: 'Chain (PEM)', ext: 'chain.pem' },
  { value: 'p7b', label: 'Chain (PKCS#7, P7B)', ext: 'p7b' },
];

function CrlRow({ label, m }: { label: string; m: CrlMeta | null | undefined }) {
  return (
    <Table.Tr>
      <Table.Th>{label}</Table.Th>
      {m ? (
        <>
          <Table.Td>{m.number}</Table.Td>
          <Table.Td>{formatDateTime(m.this_update)}</Table.Td>
          <Table.Td>{formatDateTime(m.next_update)}</Table.Td>
          <Table.Td>{m.entries}</Table.Td>
          <Table.Td>{m.source}</Table.Td>
        </>
      ) : (
        <Table.Td colSpan={5}>none yet</Table.Td>
      )}
    </Table.Tr>
  );
}

function CrlSettingsDialog({ ca, info, opened, onClose }: { ca: Ca; info: CrlInfo; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const s = info.settings ?? { crl_days: 7, delta_hours: 0, ocsp_hours: 24, ocsp_signer: 'delegated' as const };
  const form = useForm({
    initialValues: { crl_days: s.crl_days as number | string, delta_hours: s.delta_hours as number | string, ocsp_hours: s.ocsp_hours as number | string, ocsp_signer: s.ocsp_signer as string },
    validate: {
      crl_days: (v) => (Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 366 ? null : 'Between 1 and 366 days'),
      delta_hours: (v) => (Number.isInteger(Number(v)) && Number(v) >= 0 && Number(v) <= 744 ? null : 'Between 0 and 744 hours'),
      ocsp_hours: (v) => (Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 168 ? null : 'Between 1 and 168 hours'),
    },
  });
  const m = useMutation({
    mutationFn: (v: typeof form.values) => api.put<CrlInfo>(`/cas/${ca.id}/crl/settings`, { crl_days: Number(v.crl_days), delta_hours: Number(v.delta_hours), ocsp_hours: Number(v.ocsp_hours), ocsp_signer: v.ocsp_signer }),
    onSuccess: (r) => {
      qc.setQueryData(['ca', String(ca.id), 'crl'], r);
      notifySuccess('The revocation settings are saved.');
      onClose();
    },
    onError: (e) => applyProblem(e, form, ['crl_days', 'delta_hours', 'ocsp_hours', 'ocsp_signer']),
  });
  return (
    <Modal opened={opened} onClose={onClose} title="Revocation settings" centered>
      <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
        <Stack>
          <NumberInput label="CRL validity (days)" min={1} max={366} clampBehavior="none" allowDecimal={false} {...form.getInputProps('crl_days')} />
          <NumberInput label="Delta CRL validity (hours, 0: no delta CRLs)" min={0} max={744} clampBehavior="none" allowDecimal={false} {...form.getInputProps('delta_hours')} />
          <NumberInput label="OCSP response validity (hours)" min={1} max={168} clampBehavior="none" allowDecimal={false} {...form.getInputProps('ocsp_hours')} />
          <Radio.Group label="OCSP responses signed by" {...form.getInputProps('ocsp_signer')}>
            <Stack gap={6} mt={6}>
              <Radio value="delegated" label="A delegated responder certificate" />
              <Radio value="ca" label="The CA itself" />
            </Stack>
          </Radio.Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={m.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function CrlUploadDialog({ ca, opened, onClose }: { ca: Ca; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [file, setFile] = useState<string | null>(null);
  const form = useForm({ initialValues: { crl: '' }, validate: { crl: (v) => (v.trim() ? null : 'Give the CRL') } });
  const m = useMutation({
    mutationFn: (v: typeof form.values) => api.post<CrlInfo>(`/cas/${ca.id}/crl/upload`, { crl: v.crl.trim() }),
    onSuccess: (r) => {
      qc.setQueryData(['ca', String(ca.id), 'crl'], r);
      notifySuccess('The CRL is published.');
      form.reset();
      onClose();
    },
    onError: (e) => applyProblem(e, form, ['crl']),
  });
  return (
    <Modal opened={opened} onClose={onClose} title="Upload CRL" centered size="lg">
      <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
        <Stack>
          <Text size="sm">A CRL this CA signed elsewhere, with a higher cRLNumber than any published.</Text>
          <FileDrop
            label="CRL file"
            accept=".crl,.pem,.der"
            fileName={file}
            onFile={(f) =>
              void readCertFile(f).then((r) => {
                setFile(f.name);
                form.setFieldValue('crl', r.text);
              })
            }
          />
          <Textarea label="CRL (PEM or base64 DER)" autosize minRows={4} maxRows={10} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} {...form.getInputProps('crl')} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={m.isPending}>
              Publish
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function CrlPanel({ ca }: { ca: Ca }) {
  const qc = useQueryClient();
  const [dialog, setDialog] = useState<'settings' | 'upload' | null>(null);
  const q = useQuery({ queryKey: ['ca', String(ca.id), 'crl'], queryFn: () => api.get<CrlInfo>(`/cas/${ca.id}/crl`) });
  const gen = useMutation({
    mutationFn: (delta: boolean) => api.post<CrlInfo>(`/cas/${ca.id}/crl`, delta ? { delta: true } : {}),
    onSuccess: (r, delta) => {
      qc.setQueryData(['ca', String(ca.id), 'crl'], r);
      notifySuccess(delta ? 'A new delta CRL is published.' : 'A new CRL is published.');
    },
    onError: (e) => notifyError(e),
  });
  if (q.isPending) return <Loader size="sm" aria-label="Loading CRL state" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  const c = q.data.data;
  return (
    <Stack>
      {c.stale && (
        <Alert color="yellow" title="Stale CRL">
          The published CRL is past its next update or out of date.
        </Alert>
      )}
      <Table.ScrollContainer minWidth={500}>
        <Table aria-label="CRLs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>CRL</Table.Th>
              <Table.Th>Number</Table.Th>
              <Table.Th>This update</Table.Th>
              <Table.Th>Next update</Table.Th>
              <Table.Th>Entries</Table.Th>
              <Table.Th>Source</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            <CrlRow label="Full" m={c.full} />
            <CrlRow label="Delta" m={c.delta} />
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <FieldTable
        label="Revocation settings"
        rows={[
          ['CRL URL', c.crl_url],
          ['Delta CRL URL', c.delta_url],
          ['OCSP URL', c.ocsp_url],
          ['CA issuers URL', c.ca_issuers_url],
          ['CRL validity', c.settings ? `${c.settings.crl_days} days` : ''],
          ['Delta CRL validity', c.settings ? `${c.settings.delta_hours} hours` : ''],
          ['OCSP response validity', c.settings ? `${c.settings.ocsp_hours} hours` : ''],
          ['OCSP signer', c.settings?.ocsp_signer === 'ca' ? 'the CA' : c.settings ? 'delegated responder' : ''],
        ]}
      />
      <Can permission="write:crl">
        <Group>
          {ca.key_state === 'online' && ca.status === 'active' && (
            <>
              <Button loading={gen.isPending && gen.variables === false} onClick={() => gen.mutate(false)}>
                Regenerate CRL
              </Button>
              <Button variant="default" loading={gen.isPending && gen.variables === true} onClick={() => gen.mutate(true)}>
                Regenerate delta CRL
              </Button>
            </>
          )}
          {ca.key_state !== 'online' && ca.status === 'active' && (
            <Button variant="default" onClick={() => setDialog('upload')}>
              Upload CRL
            </Button>
          )}
          <Button variant="default" onClick={() => setDialog('settings')}>
            Edit settings
          </Button>
        </Group>
        <CrlSettingsDialog key={JSON.stringify(c.settings)} ca={ca} info={c} opened={dialog === 'settings'} onClose={() => setDialog(null)} />
        <CrlUploadDialog ca={ca} opened={dialog === 'upload'} onClose={() => setDialog(null)} />
      </Can>
    </Stack>
  );
}

function ChildrenPanel({ ca }: { ca: Ca }) {
  const q = useQuery({ queryKey: ['cas', { parent: ca.id }], queryFn: () => api.get<Ca[]>('/cas', { parent: ca.id, per_page: 200, sort: 'name' }) });
  if (q.isPending) return <Loader size="sm" aria-label="Loading children" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  if (q.data.data.length === 0) return <Text size="sm">No CA is signed by this one.</Text>;
  return (
    <Stack gap={4} component="ul" style={{ listStyle: 'none', padding: 0 }} aria-label="Child CAs">
      {q.data.data.map((c) => (
        <Group component="li" key={c.id} gap="xs">
          <Anchor component={Link} to={`/cas/${c.id}`}>
            {c.name}
          </Anchor>
          <StatusBadge status={c.status} />
          <Text size="xs" c="dimmed">
            expires {formatDate(c.not_after)}
          </Text>
        </Group>
      ))}
    </Stack>
  );
}

function ChainPanel({ id }: { id: number }) {
  const q = useQuery({ queryKey: ['ca', String(id), 'chain'], queryFn: async () => (await requestBlob(`/cas/${id}/export`, { query: { format: 'chain' } })).blob.text() });
  if (q.isPending) return <Loader size="sm" aria-label="Loading chain" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  return <PemBlock pem={q.data} label="Chain PEM" filename={`ca-${id}-chain.pem`} />;
}

function OfflineDialog({ ca, opened, onClose }: { ca: Ca; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [keyPem, setKeyPem] = useState<string | null>(null);
  const form = useForm({
    initialValues: { mode: 'password_protected', password: '', confirm: '' },
    validate: {
      password: (v) => (v.length ? null : 'Enter a password'),
      confirm: (v, all) => (v === all.password ? null : 'The passwords differ'),
    },
  });
  const m = useMutation({
    mutationFn: (v: typeof form.values) => api.post<Ca>(`/cas/${ca.id}/offline`, { mode: v.mode, password: v.password }),
    onSuccess: (r) => {
      const { key_pem, ...rest } = r.data;
      qc.setQueryData(['ca', String(ca.id)], { data: rest, meta: undefined });
      void qc.invalidateQueries({ queryKey: ['cas'] });
      form.reset();
      if (key_pem) setKeyPem(key_pem);
      else {
        notifySuccess('The CA is offline.');
        onClose();
      }
    },
    onError: (e) => applyProblem(e, form, ['mode', 'password']),
  });
  const close = () => {
    setKeyPem(null);
    form.reset();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title="Take CA offline" centered size="lg" closeOnClickOutside={!keyPem}>
      {keyPem ? (
        <Stack>
          <Alert color="orange" title="Shown once">
            This is the CA's key, encrypted with the password you gave. The server keeps no copy: save it now. Restoring the CA needs this file and the password.
          </Alert>
          <PemBlock pem={keyPem} label="Encrypted CA key" filename={`${ca.slug || 'ca'}-key.pem`} />
          <Group justify="flex-end">
            <Button onClick={close}>I have saved the key</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
          <Stack>
            <Text size="sm">An offline CA signs nothing (certificates, CRLs, OCSP) until it is restored.</Text>
            <Radio.Group label="How the key is kept" {...form.getInputProps('mode')}>
              <Stack gap={6} mt={6}>
                <Radio value="password_protected" label="Kept here, wrapped under a password" />
                <Radio value="file_exported" label="Exported as an encrypted file and removed from the server" />
              </Stack>
            </Radio.Group>
            <PasswordInput label="Password" autoComplete="new-password" {...form.getInputProps('password')} />
            <PasswordInput label="Repeat password" autoComplete="new-password" {...form.getInputProps('confirm')} />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" color="orange" loading={m.isPending}>
                Take offline
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

function RestoreDialog({ ca, opened, onClose }: { ca: Ca; opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const needsKey = ca.key_state !== 'password_protected';
  const [file, setFile] = useState<string | null>(null);
  const form = useForm({ initialValues: { password: '', key_pem: '' }, validate: { key_pem: (v) => (needsKey && !v.trim() ? 'Give the key file' : null) } });
  const m = useMutation({
    mutationFn: (v: typeof form.values) => api.post<Ca>(`/cas/${ca.id}/restore`, needsKey ? { password: v.password, key_pem: v.key_pem.trim() } : { password: v.password }),
    onSuccess: (r) => {
      qc.setQueryData(['ca', String(ca.id)], r);
      void qc.invalidateQueries({ queryKey: ['cas'] });
      notifySuccess('The CA is online.');
      form.reset();
      onClose();
    },
    onError: (e) => applyProblem(e, form, ['password', 'key_pem']),
  });
  return (
    <Modal opened={opened} onClose={onClose} title={ca.key_state === 'certificate_only' ? 'Give the CA its key' : 'Restore CA'} centered size="lg">
      <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
        <Stack>
          {needsKey && (
            <>
              <FileDrop
                label="Key file"
                accept=".pem,.key"
                fileName={file}
                onFile={(f) =>
                  void readCertFile(f).then((r) => {
                    setFile(f.name);
                    form.setFieldValue('key_pem', r.text);
                  })
                }
              />
              <Textarea label="Key (PEM)" autosize minRows={3} maxRows={10} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} {...form.getInputProps('key_pem')} />
            </>
          )}
          <PasswordInput label={needsKey ? 'Password of the key (if encrypted)' : 'Password'} autoComplete="off" {...form.getInputProps('password')} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={m.isPending}>
              Restore
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function AwaitingPanel({ ca }: { ca: Ca }) {
  const qc = useQueryClient();
  const csr = useQuery({ queryKey: ['ca', String(ca.id), 'csr'], queryFn: async () => (await requestBlob(`/cas/${ca.id}/csr`)).blob.text() });
  const [file, setFile] = useState<string | null>(null);
  const form = useForm({ initialValues: { certificate: '' }, validate: { certificate: (v) => (v.trim() ? null : 'Give the signed certificate') } });
  const m = useMutation({
    mutationFn: (v: typeof form.values) => api.post<Ca>(`/cas/${ca.id}/certificate`, { certificate: v.certificate.trim() }),
    onSuccess: (r) => {
      qc.setQueryData(['ca', String(ca.id)], r);
      void qc.invalidateQueries({ queryKey: ['cas'] });
      notifySuccess('The certificate is installed; the CA is active.');
    },
    onError: (e) => applyProblem(e, form, ['certificate']),
  });
  return (
    <Stack mb="md">
      <Alert color="yellow" title="Awaiting its certificate">
        Have the signing CA sign this request, then install the certificate below.
      </Alert>
      {csr.data && <PemBlock pem={csr.data} label="Certificate signing request" filename={`${ca.slug || 'ca'}.csr`} />}
      <ProblemAlert error={csr.error} />
      <Can permission="write:cas">
        <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
          <Stack>
            <FileDrop
              label="Signed certificate file"
              accept=".pem,.crt,.cer,.der"
              fileName={file}
              onFile={(f) =>
                void readCertFile(f).then((r) => {
                  setFile(f.name);
                  form.setFieldValue('certificate', r.text);
                })
              }
            />
            <Textarea label="Signed certificate (PEM or base64 DER)" autosize minRows={4} maxRows={10} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} {...form.getInputProps('certificate')} />
            <Group>
              <Button type="submit" loading={m.isPending}>
                Install certificate
              </Button>
            </Group>
          </Stack>
        </form>
      </Can>
    </Stack>
  );
}

export function CaDetailPage() {
  const { id = '' } = useParams();
  const qc = useQueryClient();
  const { can } = useAuth();
  const [dialog, setDialog] = useState<'offline' | 'restore' | 'retire' | null>(null);
  const [reason, setReason] = useState('cessationOfOperation');
  const q = useQuery({ queryKey: ['ca', id], queryFn: () => api.get<Ca>(`/cas/${id}`) });
  const parent = useQuery({
    queryKey: ['ca', String(q.data?.data.parent_id)],
    queryFn: () => api.get<Ca>(`/cas/${q.data!.data.parent_id}`),
    enabled: !!q.data?.data.parent_id,
  });
  const retire = useMutation({
    mutationFn: () => api.post<Ca>(`/cas/${id}/revoke`, { reason }),
    onSuccess: (r) => {
      qc.setQueryData(['ca', id], r);
      void qc.invalidateQueries({ queryKey: ['cas'] });
      notifySuccess('The CA is retired.');
      setDialog(null);
    },
    onError: (e) => notifyError(e),
  });
  if (q.isPending) return <Loader aria-label="Loading" />;
  if (q.error)
    return (
      <>
        <PageHeader title="Certificate authority" />
        <ProblemAlert error={q.error} />
      </>
    );
  const ca = q.data.data;
  const awaiting = ca.status === 'awaiting_certificate';
  const exportAs = async (f: (typeof CA_EXPORTS)[number]) => {
    try {
      await downloadFromApi(`/cas/${ca.id}/export`, `${ca.slug || 'ca'}.${f.ext}`, { format: f.value });
    } catch (e) {
      notifyError(e);
    }
  };
  return (
    <>
      <PageHeader
        title={ca.name}
        description={subjectLine(ca.subject)}
        actions={
          <>
            {!awaiting && can('read:certificates') && (
              <Button variant="default" component={Link} to={`/certificates?ca=${ca.id}`}>
                Certificates
              </Button>
            )}
            {!awaiting && (
              <Menu position="bottom-end">
                <Menu.Target>
                  <Button variant="default" rightSection={<IconChevronDown size={14} aria-hidden />}>
                    Export
                  </Button>
                </Menu.Target>
                <Menu.Dropdown>
                  {CA_EXPORTS.map((f) => (
                    <Menu.Item key={f.value} onClick={() => void exportAs(f)}>
                      {f.label}
                    </Menu.Item>
                  ))}
                </Menu.Dropdown>
              </Menu>
            )}
            {ca.status === 'active' && ca.key_state === 'online' && can('export:private_keys') && (
              <Button color="orange" variant="light" onClick={() => setDialog('offline')}>
                Take offline
              </Button>
            )}
            {ca.status === 'active' && ca.key_state !== 'online' && (
              <Can permission="write:cas">
                <Button variant="light" onClick={() => setDialog('restore')}>
                  {ca.key_state === 'certificate_only' ? 'Give key' : 'Restore'}
                </Button>
              </Can>
            )}
            {ca.status === 'active' && (
              <Can permission="delete:cas">
                <Button color="red" variant="subtle" onClick={() => setDialog('retire')}>
                  Retire
                </Button>
              </Can>
            )}
          </>
        }
      />
      {awaiting && <AwaitingPanel ca={ca} />}
      {ca.key_state !== 'online' && !awaiting && (
        <Alert color="yellow" title="Offline" mb="md">
          The key is {ca.key_state.replace(/_/g, ' ')}: this CA signs nothing until it is restored.
        </Alert>
      )}
      <Tabs defaultValue="overview" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          {ca.pem && <Tabs.Tab value="fields">Certificate fields</Tabs.Tab>}
          {ca.pem && <Tabs.Tab value="pem">PEM</Tabs.Tab>}
          {!awaiting && <Tabs.Tab value="chain">Chain</Tabs.Tab>}
          {!awaiting && can('read:crl') && <Tabs.Tab value="crl">CRL</Tabs.Tab>}
          <Tabs.Tab value="children">Children ({ca.children ?? 0})</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview" pt="md">
          <FieldTable
            label="CA"
            rows={[
              ['Status', <StatusBadge key="s" status={ca.status} />],
              ['Key', <StatusBadge key="k" status={ca.key_state} />],
              ['Kind', ca.type],
              ['Origin', ca.origin],
              ['Parent', ca.parent_id ? <Anchor component={Link} to={`/cas/${ca.parent_id}`}>{parent.data?.data.name ?? `#${ca.parent_id}`}</Anchor> : ''],
              ['Slug', ca.slug],
              ['Key type', ca.key_type],
              ['Path length', ca.path_length ?? 'unlimited'],
              ['Serial', ca.serial],
              ['Not before', formatDateTime(ca.not_before)],
              ['Not after', formatDateTime(ca.not_after)],
              ['CRL distribution point', ca.crl_url],
              ['OCSP', ca.ocsp_url],
              ['CA issuers', ca.ca_issuers_url],
              ['Created', formatDateTime(ca.created_at)],
            ]}
          />
        </Tabs.Panel>
        <Tabs.Panel value="fields" pt="md">
          <DecodedCertificate pem={ca.pem} />
        </Tabs.Panel>
        <Tabs.Panel value="pem" pt="md">
          {ca.pem && <PemBlock pem={ca.pem} label="CA certificate PEM" filename={`${ca.slug || 'ca'}.pem`} />}
        </Tabs.Panel>
        <Tabs.Panel value="chain" pt="md">
          <ChainPanel id={ca.id} />
        </Tabs.Panel>
        <Tabs.Panel value="crl" pt="md">
          <CrlPanel ca={ca} />
        </Tabs.Panel>
        <Tabs.Panel value="children" pt="md">
          <ChildrenPanel ca={ca} />
        </Tabs.Panel>
      </Tabs>
      <OfflineDialog ca={ca} opened={dialog === 'offline'} onClose={() => setDialog(null)} />
      <RestoreDialog ca={ca} opened={dialog === 'restore'} onClose={() => setDialog(null)} />
      <ConfirmDialog
        opened={dialog === 'retire'}
        title={`Retire ${ca.name}`}
        message="The CA signs nothing more; an intermediate's certificate is revoked on its parent. This cannot be undone."
        confirmLabel="Retire CA"
        danger
        typeToConfirm={ca.name}
        loading={retire.isPending}
        onConfirm={() => retire.mutate()}
        onClose={() => setDialog(null)}
      >
        <Select label="Reason" data={REVOCATION_REASONS.filter((r) => r.value !== 'certificateHold')} value={reason} onChange={(v) => v && setReason(v)} allowDeselect={false} />
      </ConfirmDialog>
    </>
  );
}

