import { describe, expect, it } from 'vitest';
import { DEFAULT_THEME, mergeMantineTheme } from '@mantine/core';
import { contrastRatio, cssVariablesResolver, theme } from './theme';

const full = mergeMantineTheme(DEFAULT_THEME, theme);
const resolved = cssVariablesResolver(full);
const vars = { light: resolved.light as Record<string, string>, dark: resolved.dark as Record<string, string> };

function resolve(v: string): string {
  const m = /^var\((--[^)]+)\)$/.exec(v);
  if (!m) return v;
  const key = m[1] as string;
  const name = /^--mantine-color-(\w+)-(\d)$/.exec(key);
  if (name) return full.colors[name[1] as string]![Number(name[2])]!;
  return resolve(vars.light[key] ?? vars.dark[key] ?? '');
}

describe('theme contrast (WCAG AA, 4.5:1)', () => {
  it('coloured text in the light scheme reads on white, gray.0 and its light background', () => {
    for (const name of ['indigo', 'teal', 'green', 'orange', 'yellow', 'red', 'gray', 'blue', 'cyan', 'lime']) {
      const text = vars.light[`--mantine-color-${name}-light-color`]!;
      expect(vars.light[`--mantine-color-${name}-text`]).toBe(text);
      for (const bg of ['#ffffff', full.colors.gray[0]]) expect(contrastRatio(text, bg), `${name} on ${bg}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('dimmed text reads on the body in both schemes', () => {
    expect(contrastRatio(resolve(vars.light['--mantine-color-dimmed']!), '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(resolve(vars.dark['--mantine-color-dimmed']!), full.colors.dark[7])).toBeGreaterThanOrEqual(4.5);
  });

  it('error messages read on the body in both schemes', () => {
    expect(contrastRatio(resolve(vars.light['--mantine-color-error']!), '#ffffff')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(resolve(vars.dark['--mantine-color-error']!), full.colors.dark[7])).toBeGreaterThanOrEqual(4.5);
  });

  it('white on the filled primary colour reads in both schemes', () => {
    expect(contrastRatio('#ffffff', full.colors.indigo[7])).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio('#ffffff', full.colors.indigo[8])).toBeGreaterThanOrEqual(4.5);
    expect(theme.primaryShade).toEqual({ light: 7, dark: 8 });
  });
});
