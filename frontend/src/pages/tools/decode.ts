/** File contents for POST /tools/decode: PEM text as is, binary (DER) as base64. */
export async function fileToDecodeInput(file: File): Promise<string> {
  const buf = new Uint8Array(await file.arrayBuffer());
  const head = new TextDecoder('latin1').decode(buf.slice(0, Math.min(buf.length, 4096)));
  if (head.includes('-----BEGIN ')) return new TextDecoder().decode(buf);
  let bin = '';
  for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode(...buf.subarray(i, i + 0x8000));
  return btoa(bin);
}
