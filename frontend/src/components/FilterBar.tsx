import { useEffect, useState, type ReactNode } from 'react';
import { Button, Group, Select, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';

/** A row of filters that wraps on narrow screens. */
export function FilterBar({ children, onReset }: { children: ReactNode; onReset?: () => void }) {
  return (
    <Group gap="sm" mb="md" align="flex-end" wrap="wrap" role="search">
      {children}
      {onReset && (
        <Button variant="subtle" size="sm" onClick={onReset}>
          Clear filters
        </Button>
      )}
    </Group>
  );
}

/** A text input whose value is written (debounced) to the URL via onChange. */
export function SearchInput({ value, onChange, label = 'Search', placeholder, delay = 350, w = 260 }: { value: string; onChange: (v: string) => void; label?: string; placeholder?: string; delay?: number; w?: number | string }) {
  const [local, setLocal] = useState(value);
  useEffect(() => setLocal(value), [value]);
  const push = useDebouncedCallback((v: string) => onChange(v.trim()), delay);
  return (
    <TextInput
      label={label}
      placeholder={placeholder}
      leftSection={<IconSearch size={14} aria-hidden />}
      value={local}
      w={w}
      onChange={(e) => {
        setLocal(e.currentTarget.value);
        push(e.currentTarget.value);
      }}
      onKeyDown={(e) => {
        if (e.key === 'Enter') onChange(local.trim());
      }}
    />
  );
}

/** A select bound to one filter; the empty choice means "any". */
export function FilterSelect({ label, value, onChange, data, anyLabel = 'Any', w = 180 }: { label: string; value: string; onChange: (v: string | null) => void; data: { value: string; label: string }[] | string[]; anyLabel?: string; w?: number | string }) {
  const items = (data as (string | { value: string; label: string })[]).map((d) => (typeof d === 'string' ? { value: d, label: d } : d));
  return (
    <Select label={label} w={w} data={[{ value: '', label: anyLabel }, ...items]} value={value} onChange={(v) => onChange(v || null)} allowDeselect={false} />
  );
}

/** A text filter applied on blur or Enter (for exact-match filters). */
export function FilterText({ label, value, onChange, placeholder, w = 180, type = 'text' }: { label: string; value: string; onChange: (v: string | null) => void; placeholder?: string; w?: number | string; type?: string }) {
  const [local, setLocal] = useState(value);
  useEffect(() => setLocal(value), [value]);
  const apply = () => {
    if (local.trim() !== value) onChange(local.trim() || null);
  };
  return (
    <TextInput
      label={label}
      type={type}
      placeholder={placeholder}
      value={local}
      w={w}
      onChange={(e) => setLocal(e.currentTarget.value)}
      onBlur={apply}
      onKeyDown={(e) => {
        if (e.key === 'Enter') apply();
      }}
    />
  );
}
