/** Outcome of reading a request body under a size cap and a deadline. */
export type BodyReadResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly problem: 'too_large' | 'timeout'; readonly bytesSeen: number };

/** The declared `Content-Length`, or `null` when absent or not a number. */
export function declaredLength(headers: Headers): number | null {
  const raw = headers.get('content-length');
  if (raw === null || raw.trim() === '') return null;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : null;
}

/**
 * Reads the whole body but gives up as soon as it exceeds `maxBytes`, so an oversized upload costs
 * at most `maxBytes` of memory, or when it has not arrived within `timeoutMs`, so a slow upload
 * cannot hold memory and a connection indefinitely. A declared `Content-Length` above the cap is
 * refused unread; a chunked body is counted as it streams.
 */
export async function readBodyWithCap(
  request: Request,
  maxBytes: number,
  timeoutMs = Number.POSITIVE_INFINITY,
): Promise<BodyReadResult> {
  const declared = declaredLength(request.headers);
  if (declared !== null && declared > maxBytes) {
    await request.body?.cancel().catch(() => {});
    return { ok: false, problem: 'too_large', bytesSeen: declared };
  }
  if (!request.body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), deadline]);
      if (next === 'timeout') {
        await reader.cancel().catch(() => {});
        return { ok: false, problem: 'timeout', bytesSeen: total };
      }
      if (next.done) break;
      total += next.value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        return { ok: false, problem: 'too_large', bytesSeen: total };
      }
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
