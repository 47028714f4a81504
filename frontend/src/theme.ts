import { Loader, Table, createTheme, type CSSVariablesResolver, type MantineColorsTuple } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'indigo',
  // White on indigo.7 (light) and indigo.8 (dark) is above 4.5:1; the
  // default shade 6 is not (4.3:1).
  primaryShade: { light: 7, dark: 8 },
  // Filled buttons and badges pick black or white text, whichever contrasts
  // more: 0.179 is the luminance at which both give the same ratio.
  autoContrast: true,
  luminanceThreshold: 0.179,
  defaultRadius: 'sm',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
  // Keyboard focus is always visible (mouse clicks do not show the ring).
  focusRing: 'auto',
  components: {
    // A loader is announced as a status (its aria-label, e.g. "Loading",
    // needs a role to be read out).
    Loader: Loader.extend({ defaultProps: { role: 'status' } }),
    // A table that scrolls sideways (phone width) can be scrolled with the
    // keyboard: its viewport takes the focus.
    TableScrollContainer: Table.ScrollContainer.extend({
      defaultProps: { scrollAreaProps: { viewportProps: { tabIndex: 0 } } },
    }),
  },
});

// --------------------------------------------------------------------------
// Text contrast (WCAG 2: 4.5:1 for normal text)

type Rgb = [number, number, number];

function parseHex(hex: string): Rgb {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? h.split('').map((c) => c + c).join('') : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as Rgb;
}

function toHex(rgb: Rgb): string {
  return '#' + rgb.map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('');
}

function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrastRatio(a: string, b: string): number {
  const x = luminance(parseHex(a));
  const y = luminance(parseHex(b));
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

/** `fg` at opacity `a` over `bg` (both hex). */
function over(fg: string, a: number, bg: string): string {
  const [fr, fg2, fb] = parseHex(fg);
  const [br, bg2, bb] = parseHex(bg);
  return toHex([fr * a + br * (1 - a), fg2 * a + bg2 * (1 - a), fb * a + bb * (1 - a)]);
}

/** The colour darkened (mixed with black) just enough to reach `min`:1 on every background. */
export function darkenUntil(color: string, backgrounds: string[], min: number): string {
  for (let k = 0; k <= 1.0001; k += 0.02) {
    const c = over('#000000', k, color);
    if (backgrounds.every((bg) => contrastRatio(c, bg) >= min)) return c;
  }
  return '#000000';
}

/** Above the 4.5:1 of WCAG AA, with a margin for rounding. */
const TEXT_CONTRAST = 4.6;

/**
 * Light scheme: coloured text (`c="teal"`, light/outline/subtle variants of
 * Badge, Button, NavLink, Avatar...) uses shade 7 darkened until it reads
 * at 4.5:1 on white, gray.0 and gray.1 (striped and hovered rows) and on
 * its own light background over those; the default
 * shades 6-7 of teal, green, orange or yellow do not. Dimmed text and
 * error messages are darkened too. The dark scheme's text shades (2-4 on
 * dark.7) already pass; only its dimmed and error text are lightened.
 */
export const cssVariablesResolver: CSSVariablesResolver = (t) => {
  const light: Record<string, string> = {
    '--mantine-color-dimmed': '#5c636a',
    '--mantine-color-error': 'var(--mantine-color-red-light-color)',
  };
  const white = t.white.startsWith('#') ? t.white : '#ffffff';
  for (const [name, shades] of Object.entries(t.colors) as [string, MantineColorsTuple][]) {
    if (!Array.isArray(shades) || !shades[7]?.startsWith('#')) continue;
    const base = shades[7];
    const grounds = [white, t.colors.gray[0], t.colors.gray[1]];
    const text = darkenUntil(base, [...grounds, ...grounds.flatMap((g) => [over(base, 0.1, g), over(base, 0.12, g)])], TEXT_CONTRAST);
    light[`--mantine-color-${name}-text`] = text;
    light[`--mantine-color-${name}-light-color`] = text;
    light[`--mantine-color-${name}-outline`] = text;
  }
  light['--mantine-color-anchor'] = 'var(--mantine-primary-color-light-color)';
  return {
    variables: {},
    light,
    dark: {
      '--mantine-color-dimmed': 'var(--mantine-color-dark-1)',
      // red.8, the default, is 3.5:1 on dark.7; red.4 is 6:1
      '--mantine-color-error': 'var(--mantine-color-red-4)',
    },
  };
};

/** Key in localStorage for the remembered color scheme ("light", "dark" or "auto"). */
export const COLOR_SCHEME_KEY = 'certward-color-scheme';
