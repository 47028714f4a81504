import { Alert, Stack } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { PageHeader } from './PageHeader';

export function Forbidden({ what }: { what?: string }) {
  return (
    <Stack>
      <PageHeader title="Not permitted" />
      <Alert color="orange" icon={<IconLock aria-hidden />} title="Not permitted" role="alert">
        Your role does not allow {what ?? 'this page'}. Ask an administrator if you need access.
      </Alert>
    </Stack>
  );
}
