import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ColumnDef } from '@tanstack/react-table';
import { Alert, Anchor, Badge, Button, Checkbox, Group, Loader, MultiSelect, NumberInput, Paper, SimpleGrid, Stack, TagsInput, TextInput, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconPlus } from '@tabler/icons-react';
import { api } from '../../api/client';
import { Can } from '../../auth/AuthContext';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { DataTable } from '../../components/DataTable';
import { FilterBar, FilterSelect, SearchInput } from '../../components/FilterBar';
import { PageHeader } from '../../components/PageHeader';
import { ProblemAlert } from '../../components/ProblemAlert';
import { applyProblem, notifyError, notifySuccess } from '../../components/problems';
import { useListParams } from '../../components/useListParams';
import { KEY_TYPES, SAN_TYPES, SUBJECT_FIELDS, SUBJECT_LABELS, type Template } from '../certificates/pki';
import { FieldTable } from '../certificates/PkiParts';
import { useTemplates } from '../certificates/useLookups';

export const KEY_USAGES = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];
export const EKU_NAMES = ['serverAuth', 'clientAuth', 'emailProtection', 'codeSigning', 'OCSPSigning', 'timeStamping'];

/** Client-side filter, sort and page over the template list (the API answers them all at once). */
export function filterTemplates(all: Template[], q: string, kind: string, sort: string): Template[] {
  const needle = q.toLowerCase();
  const out = all.filter((t) => (!needle || t.name.toLowerCase().includes(needle) || (t.description ?? '').toLowerCase().includes(needle)) && (!kind || (kind === 'builtin') === t.builtin));
  const desc = sort.startsWith('-');
  const key = (desc ? sort.slice(1) : sort) || 'name';
  out.sort((a, b) => {
    const r = key === 'max_validity_days' ? a.max_validity_days - b.max_validity_days : a.name.localeCompare(b.name);
    return desc ? -r : r;
  });
  return out;
}

export function TemplatesListPage() {
  const list = useListParams(['kind'] as const, { perPage: 50, sort: 'name' });
  const nav = useNavigate();
  const { templates, query } = useTemplates();
  const filtered = useMemo(() => filterTemplates(templates, list.q, list.filters.kind, list.sort), [templates, list.q, list.filters.kind, list.sort]);
  const rows = filtered.slice((list.page - 1) * list.perPage, list.page * list.perPage);
  const columns = useMemo<ColumnDef<Template, unknown>[]>(
    () => [
      {
        id: 'name',
        header: 'Name',
        enableSorting: true,
        cell: ({ row }) => (
          <Anchor component={Link} to={`/templates/${encodeURIComponent(row.original.name)}`} onClick={(e) => e.stopPropagation()}>
            {row.original.name}
          </Anchor>
        ),
      },
      { id: 'description', header: 'Description', cell: ({ row }) => row.original.description },
      { id: 'kind', header: 'Kind', cell: ({ row }) => (row.original.builtin ? <Badge variant="light">built-in</Badge> : <Badge variant="light" color="grape">custom</Badge>) },
      { id: 'max_validity_days', header: 'Max validity (days)', enableSorting: true, meta: { numeric: true }, cell: ({ row }) => row.original.max_validity_days },
      { id: 'eku', header: 'Extended key usage', cell: ({ row }) => (row.original.extended_key_usage ?? []).join(', ') },
    ],
    [],
  );
  return (
    <>
      <PageHeader
        title="Templates"
        description="Certificate profiles: key usage, names, key types and the longest validity. Built-in templates are read-only."
        actions={
          <Can permission="write:templates">
            <Button component={Link} to="/templates/new" leftSection={<IconPlus size={16} aria-hidden />}>
              Create template
            </Button>
          </Can>
        }
      />
      <FilterBar onReset={list.reset}>
        <SearchInput value={list.q} onChange={list.setQ} placeholder="Name or description" />
        <FilterSelect
          label="Kind"
          value={list.filters.kind}
          onChange={(v) => list.setFilter('kind', v)}
          data={[
            { value: 'builtin', label: 'Built-in' },
            { value: 'custom', label: 'Custom' },
          ]}
        />
      </FilterBar>
      <ProblemAlert error={query.error} />
      <DataTable
        label="Templates"
        columns={columns}
        rows={query.isPending ? undefined : rows}
        total={query.isPending ? undefined : filtered.length}
        loading={query.isPending}
        fetching={query.isFetching}
        list={list}
        getRowId={(r) => r.name}
        onRowClick={(r) => void nav(`/templates/${encodeURIComponent(r.name)}`)}
        emptyTitle="No templates"
        emptyText="No template matches these filters."
      />
    </>
  );
}

function useTemplate(name: string | undefined) {
  const { templates, query } = useTemplates();
  return { template: templates.find((t) => t.name === name), query };
}

export function TemplateDetailPage() {
  const { name = '' } = useParams();
  const nav = useNavigate();
  const qc = useQueryClient();
  const { template: t, query } = useTemplate(name);
  const [del, setDel] = useState(false);
  const m = useMutation({
    mutationFn: () => api.del(`/templates/${t!.id}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['templates'] });
      notifySuccess('The template is deleted.');
      void nav('/templates');
    },
    onError: (e) => notifyError(e),
  });
  if (query.isPending) return <Loader aria-label="Loading" />;
  if (query.error || !t)
    return (
      <>
        <PageHeader title="Template" />
        {query.error ? <ProblemAlert error={query.error} /> : <Alert color="red">No template is named {name}.</Alert>}
      </>
    );
  return (
    <>
      <PageHeader
        title={t.name}
        description={t.description}
        actions={
          <Can permission="write:templates">
            {!t.is_ca && (
              <Button variant="default" component={Link} to={`/templates/new?from=${encodeURIComponent(t.name)}`}>
                Duplicate
              </Button>
            )}
            {!t.builtin && (
              <>
                <Button component={Link} to={`/templates/${encodeURIComponent(t.name)}/edit`}>
                  Edit
                </Button>
                <Button color="red" variant="subtle" onClick={() => setDel(true)}>
                  Delete
                </Button>
              </>
            )}
          </Can>
        }
      />
      {t.builtin && (
        <Alert color="blue" mb="md" title="Built-in">
          Built-in templates cannot be changed; duplicate one to make a custom template.
        </Alert>
      )}
      <FieldTable
        label="Template"
        rows={[
          ['Kind', t.builtin ? 'built-in' : 'custom'],
          ['Key usage', t.key_usage_by_key_type ? 'by key type' : (t.key_usage ?? []).join(', ')],
          ['Extended key usage', (t.extended_key_usage ?? []).join(', ') || 'none'],
          ['Longest validity', `${t.max_validity_days} days`],
          ['Name types', (t.allowed_san_types ?? []).join(', ') || 'any'],
          ['Key types', (t.key_types ?? []).join(', ') || 'any'],
          ['Subject fields', (t.subject_fields ?? []).join(', ') || 'any'],
          ['CA certificate', t.is_ca ? 'yes' : 'no'],
        ]}
      />
      <ConfirmDialog opened={del} title="Delete template" message={`Delete the template ${t.name}? Certificates issued with it keep its name.`} confirmLabel="Delete" danger loading={m.isPending} onConfirm={() => m.mutate()} onClose={() => setDel(false)} />
    </>
  );
}

interface TemplateValues {
  name: string;
  description: string;
  key_usage: string[];
  extended_key_usage: string[];
  max_validity_days: number | string;
  allowed_san_types: string[];
  key_types: string[];
  subject_fields: string[];
}

function toValues(t: Template | undefined, copy: boolean): TemplateValues {
  return {
    name: t ? (copy ? `${t.name}-copy`.slice(0, 64) : t.name) : '',
    description: t?.description ?? '',
    key_usage: t?.key_usage_by_key_type ? [] : (t?.key_usage ?? []),
    extended_key_usage: t?.extended_key_usage ?? [],
    max_validity_days: t?.max_validity_days ?? 398,
    allowed_san_types: t?.allowed_san_types ?? [],
    key_types: t?.key_types ?? [],
    subject_fields: t?.subject_fields ?? [],
  };
}

function TemplateForm({ initial, id, title }: { initial: TemplateValues; id?: number; title: string }) {
  const nav = useNavigate();
  const qc = useQueryClient();
  const form = useForm<TemplateValues>({
    initialValues: initial,
    validate: {
      name: (v) => (/^[a-z0-9_-]{1,64}$/.test(v) ? null : 'Lower-case letters, digits, "-" and "_" (at most 64)'),
      description: (v) => (v.length <= 255 ? null : 'At most 255 characters'),
      max_validity_days: (v) => (Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 3650 ? null : 'Between 1 and 3650 days'),
      extended_key_usage: (v) => (v.every((x) => EKU_NAMES.includes(x) || /^\d+(\.\d+)+$/.test(x)) ? null : 'A known name or a dotted OID such as 1.3.6.1.5.5.7.3.1'),
    },
  });
  const m = useMutation({
    mutationFn: (v: TemplateValues) => {
      const body = { ...v, name: v.name.trim(), description: v.description.trim(), max_validity_days: Number(v.max_validity_days) };
      return id ? api.put<Template>(`/templates/${id}`, body) : api.post<Template>('/templates', body);
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: ['templates'] });
      notifySuccess(id ? 'The template is saved.' : 'The template is created.');
      void nav(`/templates/${encodeURIComponent(r.data.name)}`);
    },
    onError: (e) => applyProblem(e, form, Object.keys(initial)),
  });
  return (
    <>
      <PageHeader title={title} />
      <Paper withBorder p="md">
        <form onSubmit={form.onSubmit((v) => m.mutate(v))}>
          <Stack>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label="Name" required description="Lower-case letters, digits, - and _" {...form.getInputProps('name')} />
              <NumberInput label="Longest validity (days)" required min={1} max={3650} clampBehavior="none" allowDecimal={false} {...form.getInputProps('max_validity_days')} />
            </SimpleGrid>
            <Textarea label="Description" autosize minRows={2} maxLength={255} {...form.getInputProps('description')} />
            <MultiSelect label="Key usage" description="Empty: chosen by the key type" data={KEY_USAGES} clearable {...form.getInputProps('key_usage')} />
            <TagsInput label="Extended key usage" description="A name from the list or a dotted OID; Enter adds it" data={EKU_NAMES} clearable {...form.getInputProps('extended_key_usage')} />
            <Checkbox.Group label="Allowed name types" description="None checked: any" {...form.getInputProps('allowed_san_types')}>
              <Group mt={6}>
                {SAN_TYPES.map((s) => (
                  <Checkbox key={s.value} value={s.value} label={s.label} />
                ))}
              </Group>
            </Checkbox.Group>
            <Checkbox.Group label="Key types" description="None checked: any" {...form.getInputProps('key_types')}>
              <Group mt={6}>
                {KEY_TYPES.map((k) => (
                  <Checkbox key={k.value} value={k.value} label={k.label} />
                ))}
              </Group>
            </Checkbox.Group>
            <Checkbox.Group label="Subject fields" description="None checked: any" {...form.getInputProps('subject_fields')}>
              <Group mt={6}>
                {SUBJECT_FIELDS.map((f) => (
                  <Checkbox key={f} value={f} label={SUBJECT_LABELS[f]} />
                ))}
              </Group>
            </Checkbox.Group>
            <Group justify="flex-end">
              <Button variant="default" component={Link} to="/templates">
                Cancel
              </Button>
              <Button type="submit" loading={m.isPending}>
                {id ? 'Save' : 'Create template'}
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
    </>
  );
}

export function NewTemplatePage() {
  const [sp] = useSearchParams();
  const from = sp.get('from');
  const { template, query } = useTemplate(from ?? undefined);
  if (from && query.isPending) return <Loader aria-label="Loading" />;
  return <TemplateForm key={from ?? ''} initial={toValues(template, true)} title={template ? `Duplicate ${template.name}` : 'Create template'} />;
}

export function EditTemplatePage() {
  const { name = '' } = useParams();
  const { template, query } = useTemplate(name);
  if (query.isPending) return <Loader aria-label="Loading" />;
  if (!template || template.builtin || !template.id)
    return (
      <>
        <PageHeader title="Edit template" />
        <Alert color="red">{template ? 'Built-in templates cannot be changed.' : `No template is named ${name}.`}</Alert>
      </>
    );
  return <TemplateForm initial={toValues(template, false)} id={template.id} title={`Edit ${template.name}`} />;
}
