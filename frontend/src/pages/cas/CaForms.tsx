import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Fieldset, Group, NumberInput, Paper, PasswordInput, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { api, isApiError } from '../../api/client';
import { PageHeader } from '../../components/PageHeader';
import { PemBlock } from '../../components/PemBlock';
import { notifyError, notifySuccess } from '../../components/problems';
import { cleanSubject, keySpec, lines, readCertFile, type Ca } from '../certificates/pki';
import { FileDrop, KeyTypeSelect, SubjectFields } from '../certificates/PkiParts';
import { useCaList } from '../certificates/useLookups';

const NC_KINDS = ['dns', 'ip', 'email'] as const;

interface CreateValues {
  name: string;
  type: 'root' | 'intermediate';
  parent_id: string;
  subject: Record<string, string>;
  key_type: string;
  validity_days: number | string;
  path_length: number | string;
  nc: Record<string, string>;
}

/** Puts an API error next to the field it names (subject.X, name_constraints.*, key.*) or notifies. */
function showProblem(e: unknown, setFieldError: (f: string, m: string) => void, known: string[]) {
  if (isApiError(e) && e.field) {
    const f = e.field;
    const top = f.split(/[.[]/)[0] ?? '';
    if (f.startsWith('subject.')) return setFieldError(f, e.detail);
    if (top === 'key') return setFieldError('key_type', e.detail);
    if (top === 'name_constraints') return setFieldError('nc', e.detail);
    if (known.includes(top)) return setFieldError(top, e.detail);
  }
  notifyError(e);
}

export function CreateCaPage() {
  const nav = useNavigate();
  const qc = useQueryClient();
  const { cas } = useCaList();
  const parents = cas.filter((c) => c.status === 'active' && c.key_state === 'online' && (c.path_length === null || c.path_length === undefined || c.path_length > 0));
  const form = useForm<CreateValues>({
    initialValues: { name: '', type: 'root', parent_id: '', subject: { CN: '' }, key_type: 'ec-p384', validity_days: 3650, path_length: '', nc: {} },
    validate: {
      name: (v) => (v.trim() ? null : 'Enter a name'),
      parent_id: (v, all) => (all.type === 'intermediate' && !v ? 'Choose the parent CA' : null),
      validity_days: (v) => (Number(v) >= 1 && Number(v) <= 10950 ? null : 'Between 1 and 10950 days'),
      path_length: (v) => (v === '' || (Number(v) >= 0 && Number(v) <= 32) ? null : 'Between 0 and 32'),
      subject: { CN: (v) => (v.trim() ? null : 'Enter a common name') },
    },
  });
  const v = form.values;
  const m = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { name: v.name.trim(), type: v.type, subject: cleanSubject(v.subject), key: keySpec(v.key_type), validity_days: Number(v.validity_days) };
      if (v.type === 'intermediate') body.parent_id = Number(v.parent_id);
      if (v.path_length !== '') body.path_length = Number(v.path_length);
      const nc: Record<string, Record<string, string[]>> = {};
      for (const side of ['permitted', 'excluded'])
        for (const k of NC_KINDS) {
          const l = lines(v.nc[`${side}.${k}`] ?? '');
          if (l.length) (nc[side] ??= {})[k] = l;
        }
      if (Object.keys(nc).length) body.name_constraints = nc;
      return api.post<Ca>('/cas', body);
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['cas'] });
      notifySuccess(`${r.data.name} is created.`);
      void nav(`/cas/${r.data.id}`);
    },
    onError: (e) => showProblem(e, form.setFieldError, ['name', 'type', 'parent_id', 'validity_days', 'path_length']),
  });
  const subjectErrors: Record<string, string> = {};
  for (const [k, e] of Object.entries(form.errors)) if (k.startsWith('subject.') && e) subjectErrors[k.slice(8)] = String(e);

  return (
    <>
      <PageHeader title="Create CA" description="The key is generated here and stored wrapped." />
      <Paper withBorder p="md">
        <form onSubmit={form.onSubmit(() => m.mutate())}>
          <Stack>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label="Name" required {...form.getInputProps('name')} />
              <Stack gap={4}>
                <Text size="sm" fw={500}>
                  Kind
                </Text>
                <SegmentedControl
                  aria-label="Kind"
                  value={v.type}
                  onChange={(x) => form.setFieldValue('type', x as 'root' | 'intermediate')}
                  data={[
                    { value: 'root', label: 'Root' },
                    { value: 'intermediate', label: 'Intermediate' },
                  ]}
                />
              </Stack>
            </SimpleGrid>
            {v.type === 'intermediate' && (
              <Select label="Parent CA" data={parents.map((c) => ({ value: String(c.id), label: c.name }))} searchable nothingFoundMessage="No active online CA" {...form.getInputProps('parent_id')} />
            )}
            <Fieldset legend="Subject">
              <SubjectFields value={v.subject} onChange={(s) => form.setFieldValue('subject', s)} errors={subjectErrors} />
            </Fieldset>
            <Group align="flex-start" wrap="wrap">
              <KeyTypeSelect value={v.key_type} onChange={(x) => form.setFieldValue('key_type', x)} error={form.errors.key_type} />
              <NumberInput label="Validity (days)" min={1} max={10950} clampBehavior="none" w={180} {...form.getInputProps('validity_days')} />
              <NumberInput label="Path length (optional)" min={0} max={32} w={200} allowDecimal={false} {...form.getInputProps('path_length')} />
            </Group>
            <Fieldset legend="Name constraints (optional, one per line)">
              <SimpleGrid cols={{ base: 1, sm: 3 }}>
                {(['permitted', 'excluded'] as const).flatMap((side) =>
                  NC_KINDS.map((k) => (
                    <Textarea
                      key={`${side}.${k}`}
                      label={`${side === 'permitted' ? 'Permitted' : 'Excluded'} ${k === 'dns' ? 'DNS' : k === 'ip' ? 'IP ranges' : 'email'}`}
                      placeholder={k === 'dns' ? 'example.com' : k === 'ip' ? '192.0.2.0/24' : 'example.com'}
                      autosize
                      minRows={2}
                      value={v.nc[`${side}.${k}`] ?? ''}
                      onChange={(e) => form.setFieldValue('nc', { ...v.nc, [`${side}.${k}`]: e.currentTarget.value })}
                    />
                  )),
                )}
              </SimpleGrid>
              {form.errors.nc && (
                <Text c="red" size="sm" role="alert" mt="xs">
                  {form.errors.nc}
                </Text>
              )}
            </Fieldset>
            <Text size="xs" c="dimmed">
              CRL distribution point, OCSP and CA issuers URLs are derived from the server's public URL and the CA's slug.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" component={Link} to="/cas">
                Cancel
              </Button>
              <Button type="submit" loading={m.isPending}>
                Create CA
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}

export function ImportCaPage() {
  const nav = useNavigate();
  const qc = useQueryClient();
  const [certFile, setCertFile] = useState<string | null>(null);
  const [keyFile, setKeyFile] = useState<string | null>(null);
  const form = useForm({
    initialValues: { name: '', certificate: '', key: '', password: '' },
    validate: {
      name: (v) => (v.trim() ? null : 'Enter a name'),
      certificate: (v) => (v.trim() ? null : 'Choose or paste the CA certificate'),
    },
  });
  const m = useMutation({
    mutationFn: (v: typeof form.values) => {
      const body: Record<string, string> = { name: v.name.trim(), certificate: v.certificate.trim() };
      if (v.key.trim()) body.key = v.key.trim();
      if (v.password) body.password = v.password;
      return api.post<Ca>('/cas/import', body);
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['cas'] });
      notifySuccess(`${r.data.name} is imported.`);
      void nav(`/cas/${r.data.id}`);
    },
    onError: (e) => showProblem(e, form.setFieldError, ['name', 'certificate', 'key', 'password']),
  });
  return (
    <>
      <PageHeader title="Import CA" description="PEM, DER, PKCS#7 (P7B) or PKCS#12; with or without its key." />
      <Paper withBorder p="md">
        <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
          <Stack>
            <TextInput label="Name" required {...form.getInputProps('name')} />
            <FileDrop
              label="Certificate file"
              accept=".pem,.crt,.cer,.der,.p7b,.p7c,.p12,.pfx"
              fileName={certFile}
              onFile={(f) =>
                void readCertFile(f).then((r) => {
                  setCertFile(f.name + (r.binary ? ' (sent as base64)' : ''));
                  form.setFieldValue('certificate', r.text);
                })
              }
            />
            <Textarea label="Certificate (PEM, or base64 of DER, P7B or PKCS#12)" autosize minRows={4} maxRows={12} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} {...form.getInputProps('certificate')} />
            <FileDrop
              label="Private key file"
              accept=".pem,.key"
              fileName={keyFile}
              onFile={(f) =>
                void readCertFile(f).then((r) => {
                  setKeyFile(f.name);
                  form.setFieldValue('key', r.text);
                })
              }
            />
            <Textarea label="Private key (PEM, optional)" autosize minRows={3} maxRows={10} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} {...form.getInputProps('key')} />
            <PasswordInput label="Password (PKCS#12 or encrypted key)" autoComplete="off" {...form.getInputProps('password')} />
            <Text size="xs" c="dimmed">
              Without a key the CA is certificate-only; its key can be given later with Restore.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" component={Link} to="/cas">
                Cancel
              </Button>
              <Button type="submit" loading={m.isPending}>
                Import
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}

export function ExternalCaPage() {
  const qc = useQueryClient();
  const [done, setDone] = useState<Ca | null>(null);
  const form = useForm({
    initialValues: { name: '', subject: { CN: '' } as Record<string, string>, key_type: 'ec-p384', path_length: '' as number | string },
    validate: { name: (v) => (v.trim() ? null : 'Enter a name'), subject: { CN: (v) => (v?.trim() ? null : 'Enter a common name') } },
  });
  const v = form.values;
  const m = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { name: v.name.trim(), subject: cleanSubject(v.subject), key: keySpec(v.key_type) };
      if (v.path_length !== '') body.path_length = Number(v.path_length);
      return api.post<Ca>('/cas/csr', body);
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['cas'] });
      setDone(r.data);
    },
    onError: (e) => showProblem(e, form.setFieldError, ['name', 'path_length']),
  });
  const subjectErrors: Record<string, string> = {};
  for (const [k, e] of Object.entries(form.errors)) if (k.startsWith('subject.') && e) subjectErrors[k.slice(8)] = String(e);
  return (
    <>
      <PageHeader title="Intermediate signed elsewhere" description="The key is made here; another CA signs the request." />
      {done ? (
        <Stack>
          <Alert color="green" title="Request ready">
            Have the signing CA sign this request, then install its certificate on the CA's page.
          </Alert>
          {done.csr && <PemBlock pem={done.csr} label="Certificate signing request" filename={`${done.slug || 'ca'}.csr`} />}
          <Group>
            <Button component={Link} to={`/cas/${done.id}`}>
              Go to {done.name}
            </Button>
          </Group>
        </Stack>
      ) : (
        <Paper withBorder p="md">
          <form onSubmit={form.onSubmit(() => m.mutate())}>
            <Stack>
              <TextInput label="Name" required {...form.getInputProps('name')} />
              <Fieldset legend="Subject">
                <SubjectFields value={v.subject} onChange={(s) => form.setFieldValue('subject', s)} errors={subjectErrors} />
              </Fieldset>
              <Group align="flex-start">
                <KeyTypeSelect value={v.key_type} onChange={(x) => form.setFieldValue('key_type', x)} error={form.errors.key_type} />
                <NumberInput label="Path length (optional)" min={0} max={32} w={200} allowDecimal={false} {...form.getInputProps('path_length')} />
              </Group>
              <Group justify="flex-end">
                <Button variant="default" component={Link} to="/cas">
                  Cancel
                </Button>
                <Button type="submit" loading={m.isPending}>
                  Make key and request
                </Button>
              </Group>
            </Stack>
          </form>
        </Paper>
      )}
    </>
  );
}
