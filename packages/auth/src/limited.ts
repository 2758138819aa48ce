import { ResponseTooLargeError } from './errors.js';

/**
 * The body of `response`, refused with ResponseTooLargeError past `maxBytes`.
 * Bytes are counted as they stream, after fetch has decoded any
 * content-encoding: a gzip body's Content-Length is its compressed size, so
 * only an uncompressed declared length can refuse a body before reading it.
 * Shared by the token endpoint calls and the runtime.
 */
export async function readLimited(response: Response, maxBytes: number, hint?: string): Promise<Uint8Array> {
  const encoding = response.headers.get('content-encoding');
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if ((encoding === null || encoding === 'identity') && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new ResponseTooLargeError(response.status, maxBytes, hint);
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(response.status, maxBytes, hint);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
