// Errors the runtime raises itself (as opposed to API error bodies, which
// come back typed in `{ error }`). Each has a stable `code`.

const SNIPPET = 200;

/** A short, printable excerpt of a body: enough to recognise a proxy page, never a whole payload. */
export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET ? `${flat.slice(0, SNIPPET)}…` : flat;
}

export class ResponseParseError extends Error {
  static {
    this.prototype.name = 'ResponseParseError';
  }
  readonly code = 'response_parse_error';
  readonly status: number;
  readonly contentType: string;
  readonly snippet: string;

  constructor(fields: { status: number; contentType: string; body: string; reason: string }) {
    const excerpt = snippet(fields.body);
    super(`Could not parse the HTTP ${fields.status} response (${fields.contentType || 'no content type'}): ${fields.reason}. Body starts: ${JSON.stringify(excerpt)}`);
    this.status = fields.status;
    this.contentType = fields.contentType;
    this.snippet = excerpt;
  }
}
