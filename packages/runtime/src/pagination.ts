// Walks a list operation page by page, following the provider's own paging
// as its spec declares it (`x-portico-pagination`).
import { PorticoError } from '@portico/auth';
import { resolvePointer } from '@portico/auth/internal';

/** The provider pointed back at a page already read; stopping instead of looping. */
export class PaginationLoopError extends PorticoError {
  static override readonly errorName = 'PaginationLoopError';
  constructor(style: string) {
    super('pagination_loop', `The provider's next page (${style} paging) repeats one already read; stopping instead of looping.`);
  }
}

export interface Pagination {
  readonly style: 'cursor' | 'offset' | 'next-url';
  /** Pointer to the items array in a page. */
  readonly items: string;
  readonly cursorParam?: string;
  readonly nextCursor?: string;
  readonly offsetParam?: string;
  readonly limitParam?: string;
  readonly defaultLimit?: number;
  readonly total?: string;
  readonly nextUrl?: string;
}

export interface PaginateOptions {
  /** Stop after this many pages. */
  maxPages?: number;
  /** Stop (rejecting with the signal's reason) when aborted. */
  signal?: AbortSignal;
}

type Init = Record<string, unknown> & { params?: { query?: Record<string, unknown> } & Record<string, unknown> };
type Page = { data?: unknown; error?: unknown; response: Response };

const withQuery = (init: Init, query: Record<string, unknown>): Init => ({
  ...init,
  params: { ...init.params, query: { ...init.params?.query, ...query } },
});

/** The next page's request, or undefined on the last page. */
function nextPage(rules: Pagination, init: Init, body: unknown, received: number): Init | undefined {
  switch (rules.style) {
    case 'cursor': {
      const cursor = resolvePointer(body, rules.nextCursor!);
      return cursor === undefined || cursor === null || cursor === '' ? undefined : withQuery(init, { [rules.cursorParam!]: cursor });
    }
    case 'offset': {
      const query = init.params?.query ?? {};
      const offset = Number(query[rules.offsetParam!] ?? 0) + received;
      const total = Number(resolvePointer(body, rules.total!));
      const limit = Number(query[rules.limitParam!] ?? rules.defaultLimit ?? received);
      if (received === 0 || (Number.isFinite(total) ? offset >= total : received < limit)) return undefined;
      return withQuery(init, { [rules.offsetParam!]: offset });
    }
    case 'next-url': {
      const next = resolvePointer(body, rules.nextUrl!);
      if (typeof next !== 'string' || next === '') return undefined;
      // The provider's next link carries the whole query (cursor included);
      // only its query is used, so the request stays on the client's origin.
      return { ...init, params: { ...init.params, query: Object.fromEntries(new URL(next, 'http://placeholder.invalid').searchParams) } };
    }
  }
}

export async function* paginate(
  rules: Pagination,
  fetchPage: (init: Init) => Promise<Page>,
  first: Init,
  options: PaginateOptions,
  toError: (body: unknown, response: Response) => Error,
): AsyncIterableIterator<unknown> {
  let init: Init | undefined = options.signal ? { ...first, signal: options.signal } : first;
  const seen = new Set([JSON.stringify(first.params?.query ?? {})]);
  for (let pages = 0; init && pages < (options.maxPages ?? Number.POSITIVE_INFINITY); pages++) {
    options.signal?.throwIfAborted();
    const page = await fetchPage(init);
    if (page.error !== undefined || !page.response.ok) throw toError(page.error, page.response);
    const items = resolvePointer(page.data, rules.items);
    const list = Array.isArray(items) ? items : [];
    for (const item of list) {
      options.signal?.throwIfAborted();
      yield item;
    }
    const next = nextPage(rules, init, page.data, list.length);
    // A provider that hands back the cursor it was given would loop forever.
    const key = next && JSON.stringify(next.params?.query ?? {});
    if (key !== undefined && seen.has(key)) throw new PaginationLoopError(rules.style);
    if (key !== undefined) seen.add(key);
    init = next;
  }
}
