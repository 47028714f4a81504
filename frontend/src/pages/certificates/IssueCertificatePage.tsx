import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { Button, Group, NumberInput, Paper, SegmentedControl, Select, Stack, Stepper, Text, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { api, isApiError } from '../../api/client';
import { PageHeader } from '../../components/PageHeader';
import { notifyError, notifySuccess } from '../../components/problems';
import { SUBJECT_FIELDS, cleanSubject, keySpec, readCertFile, type Certificate, type SubjectField } from './pki';
import { FileDrop, KeyTypeSelect, SanEditor, SubjectFields, newSanRow, sanErrors, type SanRow } from './PkiParts';
import { useCaList, useTemplates } from './useLookups';

interface IssueValues {
  ca_id: string;
  template: string;
  subject: Record<string, string>;
  sans: SanRow[];
  key_mode: 'generate' | 'csr';
  key_type: string;
  csr: string;
  validity_days: number | string;
}

/** Which wizard step holds an API field. */
export function stepOfField(field: string): number {
  const top = field.split(/[.[]/)[0] ?? '';
  if (top === 'ca_id' || top === 'template') return 0;
  if (top === 'subject' || top === 'sans') return 1;
  if (top === 'key' || top === 'csr') return 2;
  return 3;
}

export function IssueCertificatePage() {
  const nav = useNavigate();
  const { cas } = useCaList();
  const { templates } = useTemplates();
  const [step, setStep] = useState(0);
  const [showSanErrors, setShowSanErrors] = useState(false);
  const [csrFile, setCsrFile] = useState<string | null>(null);
  const form = useForm<IssueValues>({
    initialValues: { ca_id: '', template: '', subject: { CN: '' }, sans: [newSanRow()], key_mode: 'generate', key_type: 'ec-p256', csr: '', validity_days: 365 },
  });
  const v = form.values;
  const tpl = templates.find((t) => t.name === v.template);
  const issuers = cas.filter((c) => c.status === 'active' && c.key_state === 'online');
  const subjectFields: readonly SubjectField[] = tpl?.subject_fields?.length ? SUBJECT_FIELDS.filter((f) => tpl.subject_fields!.includes(f)) : SUBJECT_FIELDS;

  const validateStep = (s: number): boolean => {
    form.clearErrors();
    let ok = true;
    if (s === 0) {
      if (!v.ca_id) {
        form.setFieldError('ca_id', 'Choose the issuing CA');
        ok = false;
      }
      if (!v.template) {
        form.setFieldError('template', 'Choose a template');
        ok = false;
      }
    } else if (s === 1) {
      const hasName = Object.values(cleanSubject(v.subject)).length > 0 || v.sans.some((r) => r.value.trim());
      if (v.key_mode === 'generate' && !hasName) {
        form.setFieldError('subject.CN', 'Give a common name or at least one alternative name');
        ok = false;
      }
      const filled = v.sans.filter((r) => r.value.trim() !== '');
      if (Object.keys(sanErrors(filled)).length > 0) {
        setShowSanErrors(true);
        ok = false;
      }
    } else if (s === 2) {
      if (v.key_mode === 'csr' && !v.csr.trim()) {
        form.setFieldError('csr', 'Paste or upload a CSR');
        ok = false;
      }
    } else if (s === 3) {
      const n = Number(v.validity_days);
      const max = tpl?.max_validity_days ?? 3650;
      if (!Number.isInteger(n) || n < 1 || n > max) {
        form.setFieldError('validity_days', `Between 1 and ${max} days`);
        ok = false;
      }
    }
    return ok;
  };

  const m = useMutation({
    mutationFn: () => {
      const sans = v.sans.filter((r) => r.value.trim()).map((r) => ({ type: r.type, value: r.value.trim() }));
      const body: Record<string, unknown> = { ca_id: Number(v.ca_id), template: v.template, validity_days: Number(v.validity_days) };
      const subject = cleanSubject(v.subject);
      if (Object.keys(subject).length) body.subject = subject;
      if (sans.length) body.sans = sans;
      if (v.key_mode === 'csr') body.csr = v.csr.trim();
      else body.key = keySpec(v.key_type);
      return api.post<Certificate>('/certificates', body);
    },
    onSuccess: (r) => {
      notifySuccess('The certificate is issued.');
      void nav(`/certificates/${r.data.id}`);
    },
    onError: (e) => {
      if (isApiError(e) && e.field) {
        const f = e.field.startsWith('sans') ? 'sans' : e.field;
        form.setFieldError(f, e.detail || e.title);
        setStep(stepOfField(e.field));
        return;
      }
      notifyError(e);
    },
  });

  const next = () => {
    if (validateStep(step)) setStep((s) => s + 1);
  };
  const subjectErrors: Record<string, string> = {};
  for (const [k, e] of Object.entries(form.errors)) if (k.startsWith('subject') && e) subjectErrors[k === 'subject' ? 'CN' : k] = String(e);

  return (
    <>
      <PageHeader title="Issue certificate" description="From a key made here or from a certificate signing request." />
      <Paper withBorder p="md">
        <Stepper active={step} onStepClick={(s) => s < step && setStep(s)} size="sm" allowNextStepsSelect={false}>
          <Stepper.Step label="Template" description="CA and profile">
            <Stack mt="md" maw={480}>
              <Select
                label="Issuing CA"
                data={issuers.map((c) => ({ value: String(c.id), label: c.name }))}
                searchable
                nothingFoundMessage="No active online CA"
                {...form.getInputProps('ca_id')}
              />
              <Select
                label="Template"
                data={templates.filter((t) => !t.is_ca).map((t) => ({ value: t.name, label: t.description ? `${t.name} — ${t.description}` : t.name }))}
                searchable
                {...form.getInputProps('template')}
                onChange={(val) => {
                  form.setFieldValue('template', val ?? '');
                  const t = templates.find((x) => x.name === val);
                  if (t && Number(v.validity_days) > t.max_validity_days) form.setFieldValue('validity_days', t.max_validity_days);
                  if (t?.key_types?.length && !t.key_types.includes(v.key_type)) form.setFieldValue('key_type', t.key_types[0]!);
                  if (t?.allowed_san_types?.length) form.setFieldValue('sans', v.sans.filter((r) => t.allowed_san_types!.includes(r.type)));
                }}
              />
            </Stack>
          </Stepper.Step>
          <Stepper.Step label="Subject" description="Names">
            <Stack mt="md">
              <SubjectFields value={v.subject} onChange={(s) => form.setFieldValue('subject', s)} fields={subjectFields} errors={subjectErrors} required={v.key_mode === 'generate' ? [] : []} />
              <SanEditor rows={v.sans} onChange={(r) => form.setFieldValue('sans', r)} allowedTypes={tpl?.allowed_san_types} showErrors={showSanErrors} serverError={form.errors.sans} />
            </Stack>
          </Stepper.Step>
          <Stepper.Step label="Key" description="Generate or CSR">
            <Stack mt="md" maw={640}>
              <SegmentedControl
                aria-label="Key source"
                value={v.key_mode}
                onChange={(x) => form.setFieldValue('key_mode', x as 'generate' | 'csr')}
                data={[
                  { value: 'generate', label: 'Generate a key here' },
                  { value: 'csr', label: 'Use a CSR' },
                ]}
              />
              {v.key_mode === 'generate' ? (
                <KeyTypeSelect value={v.key_type} onChange={(x) => form.setFieldValue('key_type', x)} allowed={tpl?.key_types} error={form.errors.key} />
              ) : (
                <>
                  <FileDrop
                    label="CSR file"
                    accept=".csr,.pem,.req,.der"
                    fileName={csrFile}
                    onFile={(f) =>
                      void readCertFile(f).then((r) => {
                        setCsrFile(f.name);
                        form.setFieldValue('csr', r.text);
                      })
                    }
                  />
                  <Textarea label="CSR (PEM or base64 DER)" autosize minRows={6} maxRows={14} styles={{ input: { fontFamily: 'monospace', fontSize: 12 } }} {...form.getInputProps('csr')} />
                  <Text size="xs" c="dimmed">
                    Subject and names given in the previous step replace those of the request.
                  </Text>
                </>
              )}
            </Stack>
          </Stepper.Step>
          <Stepper.Step label="Validity" description="Review and issue">
            <Stack mt="md" maw={480}>
              <NumberInput label="Validity (days)" min={1} max={tpl?.max_validity_days ?? 3650} clampBehavior="none" description={tpl ? `The template allows at most ${tpl.max_validity_days} days.` : undefined} {...form.getInputProps('validity_days')} />
              <Text size="sm">
                CA: {issuers.find((c) => String(c.id) === v.ca_id)?.name ?? '—'}; template: {v.template || '—'}; subject: {Object.entries(cleanSubject(v.subject)).map(([k, x]) => `${k}=${x}`).join(', ') || '—'}; names:{' '}
                {v.sans.filter((r) => r.value.trim()).map((r) => `${r.type}:${r.value.trim()}`).join(', ') || '—'}; key: {v.key_mode === 'csr' ? 'from the CSR' : v.key_type}.
              </Text>
            </Stack>
          </Stepper.Step>
        </Stepper>
        <Group justify="space-between" mt="xl">
          <Button variant="default" onClick={() => (step === 0 ? void nav('/certificates') : setStep(step - 1))}>
            {step === 0 ? 'Cancel' : 'Back'}
          </Button>
          {step < 3 ? (
            <Button onClick={next}>Next</Button>
          ) : (
            <Button loading={m.isPending} onClick={() => validateStep(3) && m.mutate()}>
              Issue
            </Button>
          )}
        </Group>
      </Paper>
    </>
  );
}
