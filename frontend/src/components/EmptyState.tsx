import type { ReactNode } from 'react';
import { Stack, Text, Title } from '@mantine/core';

export function EmptyState({ title, text, action }: { title: string; text?: ReactNode; action?: ReactNode }) {
  return (
    <Stack align="center" gap={4} py="xl" role="status">
      <Title order={3} size="h5">
        {title}
      </Title>
      {text && (
        <Text c="dimmed" size="sm" ta="center">
          {text}
        </Text>
      )}
      {action}
    </Stack>
  );
}
