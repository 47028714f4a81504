import { notifications } from '@mantine/notifications';
import { isApiError, type ApiError } from '../api/client';

/** A form that can take field errors (Mantine's useForm fits). */
export interface FieldErrorTarget {
  setFieldError: (path: string, error: string) => void;
  values?: object;
}

/** Text for people from any error. */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) {
    if (e.status === 403 && e.code === 'forbidden') return e.detail || 'You are not permitted to do this.';
    return e.detail || e.title;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

export function errorTitle(e: unknown): string {
  if (isApiError(e)) {
    if (e.status === 403) return 'Not permitted';
    if (e.status === 0) return 'Network error';
    return e.title || 'Error';
  }
  return 'Error';
}

/**
 * The form field an API error names: `field` of the problem document, with
 * `map` translating API member names to form paths (e.g. {"subject.CN": "cn"}).
 * Returns null when the error names no field the form knows.
 */
export function problemField(e: ApiError, knownFields: readonly string[], map: Record<string, string> = {}): string | null {
  const f = e.field;
  if (!f) return null;
  const mapped = map[f] ?? f;
  if (knownFields.includes(mapped)) return mapped;
  // "sans[2].value" -> try the top member too.
  const top = mapped.split(/[.[]/)[0] ?? '';
  if (top && knownFields.includes(top)) return top;
  return null;
}

/**
 * Shows an API error next to the field it names (returns true), or as a
 * notification when no field of the form matches (returns false).
 */
export function applyProblem(
  e: unknown,
  form: FieldErrorTarget,
  knownFields?: readonly string[],
  map: Record<string, string> = {},
): boolean {
  if (isApiError(e)) {
    const fields = knownFields ?? (form.values ? Object.keys(form.values) : []);
    const f = problemField(e, fields, map);
    if (f) {
      form.setFieldError(f, e.detail || e.title);
      return true;
    }
  }
  notifyError(e);
  return false;
}

export function notifyError(e: unknown, title?: string): void {
  notifications.show({ color: 'red', title: title ?? errorTitle(e), message: errorMessage(e), autoClose: 8000 });
}

export function notifySuccess(message: string, title = 'Done'): void {
  notifications.show({ color: 'green', title, message });
}
