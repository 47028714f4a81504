import { useState, type ReactNode } from 'react';
import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';

export interface ConfirmDialogProps {
  opened: boolean;
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  /** Red confirm button. */
  danger?: boolean;
  /** The user must type this text to enable the confirm button. */
  typeToConfirm?: string;
  loading?: boolean;
  onConfirm: () => void;
  onClose: () => void;
  children?: ReactNode;
}

/** A modal asking to confirm an action; focus starts on Cancel. */
export function ConfirmDialog({
  opened,
  title,
  message,
  confirmLabel = 'Confirm',
  danger = false,
  typeToConfirm,
  loading = false,
  onConfirm,
  onClose,
  children,
}: ConfirmDialogProps) {
  const [typed, setTyped] = useState('');
  const ok = !typeToConfirm || typed === typeToConfirm;
  const close = () => {
    setTyped('');
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title={title} centered>
      <Stack>
        <Text size="sm">{message}</Text>
        {children}
        {typeToConfirm && (
          <TextInput label={`Type "${typeToConfirm}" to confirm`} value={typed} onChange={(e) => setTyped(e.currentTarget.value)} />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={close} data-autofocus>
            Cancel
          </Button>
          <Button
            color={danger ? 'red' : undefined}
            disabled={!ok}
            loading={loading}
            onClick={() => {
              onConfirm();
              setTyped('');
            }}
          >
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
