import { createTheme } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'sm',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
  // Keyboard focus is always visible (mouse clicks do not show the ring).
  focusRing: 'auto',
});

/** Key in localStorage for the remembered color scheme ("light", "dark" or "auto"). */
export const COLOR_SCHEME_KEY = 'certward-color-scheme';
