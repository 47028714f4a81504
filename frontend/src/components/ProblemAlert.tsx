import { Alert, Code, Text } from '@mantine/core';
import { IconAlertTriangle, IconLock } from '@tabler/icons-react';
import { isApiError } from '../api/client';
import { errorMessage, errorTitle } from './problems';

/** An inline alert for an API error (403 reads "Not permitted"). Renders nothing for null. */
export function ProblemAlert({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const forbidden = isApiError(error) && error.status === 403;
  return (
    <Alert
      color={forbidden ? 'orange' : 'red'}
      title={title ?? errorTitle(error)}
      icon={forbidden ? <IconLock aria-hidden /> : <IconAlertTriangle aria-hidden />}
      role="alert"
      my="sm"
    >
      <Text size="sm">{errorMessage(error)}</Text>
      {isApiError(error) && error.requestId && (
        <Text size="xs" c="dimmed" mt={4}>
          Request id <Code>{error.requestId}</Code>
        </Text>
      )}
    </Alert>
  );
}
