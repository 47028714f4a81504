import { Checkbox, Table } from '@mantine/core';

export const ALWAYS = ['read:account', 'write:account'];

/** Splits "action:resource" permissions into a resource × action grid. */
export function matrixOf(perms: string[]) {
  const actions: string[] = [];
  const resources: string[] = [];
  for (const p of perms) {
    const [a, r] = p.split(':');
    if (!a || !r) continue;
    if (!actions.includes(a)) actions.push(a);
    if (!resources.includes(r)) resources.push(r);
  }
  return { actions, resources };
}

/** A grid of checkboxes, one per whitelisted permission (each named "action:resource"). */
export function PermissionMatrix({ whitelist, value, onChange, readOnly = false }: { whitelist: string[]; value: string[]; onChange?: (v: string[]) => void; readOnly?: boolean }) {
  const { actions, resources } = matrixOf(whitelist);
  const set = new Set(value);
  const toggle = (p: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(p);
    else next.delete(p);
    onChange?.(whitelist.filter((w) => next.has(w)));
  };
  return (
    <Table.ScrollContainer minWidth={420}>
      <Table aria-label="Permissions" withTableBorder verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Resource</Table.Th>
            {actions.map((a) => (
              <Table.Th key={a} ta="center">
                {a}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {resources.map((r) => (
            <Table.Tr key={r}>
              <Table.Th scope="row" fw={500}>
                {r.replace(/_/g, ' ')}
              </Table.Th>
              {actions.map((a) => {
                const p = `${a}:${r}`;
                if (!whitelist.includes(p)) return <Table.Td key={a} />;
                const fixed = ALWAYS.includes(p);
                return (
                  <Table.Td key={a} ta="center">
                    <Checkbox
                      aria-label={p}
                      checked={fixed || set.has(p)}
                      disabled={readOnly || fixed}
                      onChange={(e) => toggle(p, e.currentTarget.checked)}
                      styles={{ body: { justifyContent: 'center' } }}
                    />
                  </Table.Td>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
