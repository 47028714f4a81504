import { requestBlob, type Query } from '../api/client';

/** Saves a Blob or text as a file in the browser. */
export function saveFile(content: Blob | string, filename: string, type = 'application/octet-stream'): void {
  const blob = typeof content === 'string' ? new Blob([content], { type }) : content;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** GETs (or POSTs with `body`) an API path and saves the answer under the server's file name or `fallbackName`. */
export async function downloadFromApi(path: string, fallbackName: string, query?: Query, body?: unknown): Promise<void> {
  const r = await requestBlob(path, body === undefined ? { query } : { method: 'POST', query, body });
  saveFile(r.blob, r.filename ?? fallbackName);
}
