import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Alert, Anchor, Button, Fieldset, Group, Loader, Modal, NumberInput, Paper, Select, Stack, Tabs, Text, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconPlus } from '@tabler/icons-react';
import { api, isApiError } from '../../api/client';
import { Can } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { DataTable, listQueryProps } from '../../components/DataTable';
import { FilterBar, FilterSelect, SearchInput } from '../../components/FilterBar';
import { formatDateTime } from '../../components/format';
import { PageHeader } from '../../components/PageHeader';
import { PemBlock } from '../../components/PemBlock';
import { ProblemAlert } from '../../components/ProblemAlert';
import { applyProblem, notifyError, notifySuccess } from '../../components/problems';
import { useListParams } from '../../components/useListParams';
import { cleanSubject, keySpec, readCertFile, subjectLine, type Certificate, type Csr } from '../certificates/pki';
import { FieldTable, FileDrop, KeyTypeSelect, SanEditor, StatusBadge, SubjectFields, sanErrors, type SanRow } from '../certificates/PkiParts';
import { useCaList, useTemplates } from '../certificates/useLookups';

const FILTERS = ['status'] as const;

function CsrActions() {
  return (
    <Can permission="write:csrs">
      <Button component={Link} to="/csrs/new" leftSection={<IconPlus size={16} aria-hidden />}>
        Upload CSR
      </Button>
      <Button component={Link} to="/csrs/generate" variant="default">
        Generate key and CSR
      </Button>
    </Can>
  );
}

export function CsrsListPage() {
  const list = useListParams(FILTERS, { perPage: 50 });
  const nav = useNavigate();
  const q = useQuery({ queryKey: ['csrs', list.query], queryFn: () => api.get<Csr[]>('/csrs', list.query), placeholderData: keepPreviousData });
  const columns = useMemo<ColumnDef<Csr, unknown>[]>(
    () => [
      {
        id: 'name',
        header: 'Name',
        cell: ({ row }) => (
          <Anchor component={Link} to={`/csrs/${row.original.id}`} onClick={(e) => e.stopPropagation()}>
            {row.original.name || `#${row.original.id}`}
          </Anchor>
        ),
      },
      { id: 'subject', header: 'Subject', cell: ({ row }) => row.original.decoded?.subject_dn ?? subjectLine(row.original.decoded?.subject) },
      { id: 'status', header: 'Status', cell: ({ row }) => <StatusBadge status={row.original.status} /> },
      { id: 'key_type', header: 'Key type', accessorKey: 'key_type' },
      { id: 'generated', header: 'Key here', cell: ({ row }) => (row.original.has_private_key ? 'yes' : 'no') },
      { id: 'created_at', header: 'Created', cell: ({ row }) => formatDateTime(row.original.created_at) },
    ],
    [],
  );
  return (
    <>
      <PageHeader title="Certificate signing requests" description="Requests waiting for review, signed or rejected." actions={<CsrActions />} />
      <FilterBar onReset={list.reset}>
        <SearchInput value={list.q} onChange={list.setQ} placeholder="Name or subject" />
        <FilterSelect
          label="Status"
          value={list.filters.status}
          onChange={(v) => list.setFilter('status', v)}
          data={[
            { value: 'pending', label: 'Pending' },
            { value: 'signed', label: 'Signed' },
            { value: 'rejected', label: 'Rejected' },
          ]}
        />
      </FilterBar>
      <ProblemAlert error={q.error} />
      <DataTable
        label="Certificate signing requests"
        columns={columns}
        {...listQueryProps(q)}
        list={list}
        getRowId={(r) => String(r.id)}
        onRowClick={(r) => void nav(`/csrs/${r.id}`)}
        emptyTitle="No requests"
        emptyText={list.q || list.filters.status ? 'No request matches these filters.' : 'Upload a CSR or generate one here.'}
      />
    </>
  );
}

export function UploadCsrPage() {
  const nav = useNavigate();
  const qc = useQueryClient();
  const [file, setFile] = useState<string | null>(null);
  const form = useForm({ initialValues: { name: '', csr: '' }, validate: { csr: (v) => (v.trim() ? null : 'Paste or choose a CSR') } });
  const m = useMutation({
    mutationFn: (v: typeof form.values) => api.post<Csr>('/csrs', v.name.trim() ? { csr: v.csr.trim(), name: v.name.trim() } : { csr: v.csr.trim() }),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['csrs'] });
      notifySuccess('The request is stored.');
      void nav(`/csrs/${r.data.id}`);
    },
    onError: (e) => applyProblem(e, form, ['name', 'csr']),
  });
  return (
    <>
      <PageHeader title="Upload CSR" description="PEM or DER (PKCS#10)." />
      <Paper withBorder p="md">
        <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
          <Stack>
            <TextInput label="Name (optional)" {...form.getInputProps('name')} />
            <FileDrop
              label="CSR file"
              accept=".csr,.req,.pem,.der"
              fileName={file}
              onFile={(f) =>
                void readCertFile(f).then((r) => {
                  setFile(f.name);
                  form.setFieldValue('csr', r.text);
                })
              }
            />
            <Textarea label="CSR (PEM or base64 DER)" autosize minRows={6} maxRows={14} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} {...form.getInputProps('csr')} />
            <Group justify="flex-end">
              <Button variant="default" component={Link} to="/csrs">
                Cancel
              </Button>
              <Button type="submit" loading={m.isPending}>
                Upload
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}

export function GenerateCsrPage() {
  const nav = useNavigate();
  const qc = useQueryClient();
  const [sans, setSans] = useState<SanRow[]>([]);
  const [showSanErrors, setShowSanErrors] = useState(false);
  const form = useForm({ initialValues: { name: '', subject: { CN: '' } as Record<string, string>, key_type: 'ec-p256' } });
  const v = form.values;
  const m = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { key: keySpec(v.key_type) };
      if (v.name.trim()) body.name = v.name.trim();
      const subject = cleanSubject(v.subject);
      if (Object.keys(subject).length) body.subject = subject;
      const s = sans.filter((r) => r.value.trim()).map((r) => ({ type: r.type, value: r.value.trim() }));
      if (s.length) body.sans = s;
      return api.post<Csr>('/csrs/generate', body);
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['csrs'] });
      notifySuccess('The key and request are made.');
      void nav(`/csrs/${r.data.id}`);
    },
    onError: (e) => {
      if (isApiError(e) && e.field) {
        const f = e.field.startsWith('sans') ? 'sans' : e.field.startsWith('key') ? 'key_type' : e.field;
        form.setFieldError(f, e.detail);
        return;
      }
      notifyError(e);
    },
  });
  const submit = () => {
    form.clearErrors();
    const filled = sans.filter((r) => r.value.trim());
    if (Object.keys(sanErrors(filled)).length) return setShowSanErrors(true);
    if (!Object.keys(cleanSubject(v.subject)).length && !filled.length) return form.setFieldError('subject.CN', 'Give a common name or at least one alternative name');
    m.mutate();
  };
  const subjectErrors: Record<string, string> = {};
  for (const [k, e] of Object.entries(form.errors)) if (k.startsWith('subject.') && e) subjectErrors[k.slice(8)] = String(e);
  return (
    <>
      <PageHeader title="Generate key and CSR" description="The key stays here, wrapped; it moves to the certificate when the request is signed." />
      <Paper withBorder p="md">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <Stack>
            <TextInput label="Name (optional)" {...form.getInputProps('name')} />
            <Fieldset legend="Subject">
              <SubjectFields value={v.subject} onChange={(s) => form.setFieldValue('subject', s)} errors={subjectErrors} required={[]} />
            </Fieldset>
            <SanEditor rows={sans} onChange={setSans} showErrors={showSanErrors} serverError={form.errors.sans} />
            <KeyTypeSelect value={v.key_type} onChange={(x) => form.setFieldValue('key_type', x)} error={form.errors.key_type} />
            <Group justify="flex-end">
              <Button variant="default" component={Link} to="/csrs">
                Cancel
              </Button>
              <Button type="submit" loading={m.isPending}>
                Generate
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}

function SignDialog({ csr, opened, onClose }: { csr: Csr; opened: boolean; onClose: () => void }) {
  const nav = useNavigate();
  const qc = useQueryClient();
  const { cas } = useCaList();
  const { templates } = useTemplates();
  const form = useForm({
    initialValues: { ca_id: '', template: '', validity_days: 365 as number | string },
  });
  const maxDays = templates.find((t) => t.name === form.values.template)?.max_validity_days ?? 3650;
  const submit = (v: typeof form.values) => {
    form.clearErrors();
    let ok = true;
    const fail = (f: string, msg: string) => {
      form.setFieldError(f, msg);
      ok = false;
    };
    if (!v.ca_id) fail('ca_id', 'Choose the CA');
    if (!v.template) fail('template', 'Choose a template');
    const n = Number(v.validity_days);
    if (!Number.isInteger(n) || n < 1 || n > maxDays) fail('validity_days', `Between 1 and ${maxDays} days`);
    if (ok) m.mutate(v);
  };
  const m = useMutation({
    mutationFn: (v: typeof form.values) => api.post<Certificate>(`/csrs/${csr.id}/sign`, { ca_id: Number(v.ca_id), template: v.template, validity_days: Number(v.validity_days) }),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['csrs'] });
      void qc.invalidateQueries({ queryKey: ['csr', String(csr.id)] });
      void qc.invalidateQueries({ queryKey: ['certificates'] });
      notifySuccess('The certificate is issued.');
      void nav(`/certificates/${r.data.id}`);
    },
    onError: (e) => applyProblem(e, form, ['ca_id', 'template', 'validity_days']),
  });
  return (
    <Modal opened={opened} onClose={onClose} title="Sign request" centered>
      <form onSubmit={form.onSubmit(submit)}>
        <Stack>
          <Select label="CA" data={cas.filter((c) => c.status === 'active' && c.key_state === 'online').map((c) => ({ value: String(c.id), label: c.name }))} searchable {...form.getInputProps('ca_id')} />
          <Select
            label="Template"
            data={templates.filter((t) => !t.is_ca).map((t) => t.name)}
            searchable
            {...form.getInputProps('template')}
            onChange={(val) => {
              form.setFieldValue('template', val ?? '');
              const max = templates.find((t) => t.name === val)?.max_validity_days;
              if (max && Number(form.values.validity_days) > max) form.setFieldValue('validity_days', max);
            }}
          />
          <NumberInput label="Validity (days)" min={1} max={maxDays} clampBehavior="none" {...form.getInputProps('validity_days')} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={m.isPending}>
              Sign
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function CsrDetailPage() {
  const { id = '' } = useParams();
  const nav = useNavigate();
  const qc = useQueryClient();
  const [dialog, setDialog] = useState<'sign' | 'reject' | 'delete' | null>(null);
  const [reason, setReason] = useState('');
  const q = useQuery({ queryKey: ['csr', id], queryFn: () => api.get<Csr>(`/csrs/${id}`) });
  const reject = useMutation({
    mutationFn: () => api.post<Csr>(`/csrs/${id}/reject`, reason.trim() ? { reason: reason.trim() } : {}),
    onSuccess: (r) => {
      qc.setQueryData(['csr', id], r);
      void qc.invalidateQueries({ queryKey: ['csrs'] });
      notifySuccess('The request is rejected.');
      setDialog(null);
    },
    onError: (e) => notifyError(e),
  });
  const del = useMutation({
    mutationFn: () => api.del(`/csrs/${id}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['csrs'] });
      notifySuccess('The request is deleted.');
      void nav('/csrs');
    },
    onError: (e) => notifyError(e),
  });
  if (q.isPending) return <Loader aria-label="Loading" />;
  if (q.error)
    return (
      <>
        <PageHeader title="Certificate signing request" />
        <ProblemAlert error={q.error} />
      </>
    );
  const c = q.data.data;
  const d = c.decoded ?? {};
  const key = typeof d.key === 'string' ? d.key : d.key ? [d.key.type, d.key.bits, d.key.curve].filter(Boolean).join(' ') : c.key_type;
  const pending = c.status === 'pending';
  return (
    <>
      <PageHeader
        title={c.name || `Request #${c.id}`}
        description={d.subject_dn ?? subjectLine(d.subject)}
        actions={
          <>
            {pending && (
              <Can permission="write:certificates">
                <Button onClick={() => setDialog('sign')}>Sign</Button>
              </Can>
            )}
            {pending && (
              <Can permission="write:csrs">
                <Button color="red" variant="light" onClick={() => setDialog('reject')}>
                  Reject
                </Button>
              </Can>
            )}
            <Can permission="delete:csrs">
              <Button color="red" variant="subtle" onClick={() => setDialog('delete')}>
                Delete
              </Button>
            </Can>
          </>
        }
      />
      {c.status === 'signed' && c.certificate_id && (
        <Alert color="green" title="Signed" mb="md">
          <Anchor component={Link} to={`/certificates/${c.certificate_id}`}>
            View the certificate
          </Anchor>
        </Alert>
      )}
      {c.status === 'rejected' && (
        <Alert color="red" title="Rejected" mb="md">
          {c.reject_reason || 'No reason given.'}
        </Alert>
      )}
      <Tabs defaultValue="decoded">
        <Tabs.List>
          <Tabs.Tab value="decoded">Decoded</Tabs.Tab>
          <Tabs.Tab value="pem">PEM</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="decoded" pt="md">
          <FieldTable
            label="Request"
            rows={[
              ['Status', <StatusBadge key="s" status={c.status} />],
              ['Subject', d.subject_dn ?? subjectLine(d.subject)],
              ['Subject alternative names', d.sans?.map((s) => `${s.type}:${s.value}`).join(', ')],
              ['Key', key],
              ['Signature valid', typeof d.signature_valid === 'boolean' ? (d.signature_valid ? 'yes' : 'no') : ''],
              ['Key generated here', c.has_private_key ? 'yes' : 'no'],
              ['Created by', c.created_by],
              ['Created', formatDateTime(c.created_at)],
            ]}
          />
        </Tabs.Panel>
        <Tabs.Panel value="pem" pt="md">
          {c.pem ? <PemBlock pem={c.pem} label="CSR PEM" filename={`${c.name || 'request-' + c.id}.csr`} /> : <Text size="sm">No PEM.</Text>}
        </Tabs.Panel>
      </Tabs>
      <SignDialog csr={c} opened={dialog === 'sign'} onClose={() => setDialog(null)} />
      <ConfirmDialog opened={dialog === 'reject'} title="Reject request" message={c.has_private_key ? 'The key generated for it is discarded.' : 'The request can no longer be signed.'} confirmLabel="Reject" danger loading={reject.isPending} onConfirm={() => reject.mutate()} onClose={() => setDialog(null)}>
        <TextInput label="Reason (optional)" maxLength={255} value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
      </ConfirmDialog>
      <ConfirmDialog opened={dialog === 'delete'} title="Delete request" message="The request (and a generated key not yet used) is removed." confirmLabel="Delete" danger loading={del.isPending} onConfirm={() => del.mutate()} onClose={() => setDialog(null)} />
    </>
  );
}
