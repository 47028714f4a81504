import { Box, Button, Code, Group, ScrollArea, Text } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { CopyButton } from './CopyButton';
import { saveFile } from './download';

/** A PEM (or any text) block with copy and download buttons. */
export function PemBlock({ pem, filename, label = 'PEM', maxHeight = 260 }: { pem: string; filename?: string; label?: string; maxHeight?: number }) {
  return (
    <Box>
      <Group justify="space-between" mb={4}>
        <Text size="sm" fw={600}>
          {label}
        </Text>
        <Group gap={4}>
          <CopyButton value={pem} label={`Copy ${label}`} />
          {filename && (
            <Button
              size="compact-xs"
              variant="subtle"
              leftSection={<IconDownload size={14} aria-hidden />}
              onClick={() => saveFile(pem, filename, 'application/x-pem-file')}
            >
              Download
            </Button>
          )}
        </Group>
      </Group>
      {/* The scrolling region takes the name and the keyboard focus (arrow
          keys scroll it); a <pre> may not carry an aria-label itself. */}
      <ScrollArea.Autosize mah={maxHeight} type="auto" viewportProps={{ tabIndex: 0, role: 'region', 'aria-label': label }}>
        <Code block style={{ whiteSpace: 'pre', fontSize: 12 }}>
          {pem}
        </Code>
      </ScrollArea.Autosize>
    </Box>
  );
}
