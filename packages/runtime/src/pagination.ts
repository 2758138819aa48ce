// Walks a list operation page by page, following the provider's own paging
// as its spec declares it (`x-portico-pagination`).
import { ConfigurationError, PorticoError } from '@portico/auth';
import { resolvePointer } from '@portico/auth/internal';

// A walk yields nothing while pages come back empty, so the caller's loop
// never gets a turn to stop it: a server handing out fresh cursors for empty
// pages would keep it going for ever. Some APIs do return a few empty pages
// mid-list (a filtered scan); this many in a row is no list.
const MAX_EMPTY_PAGES = 100;

/**
 * The provider's pages would never end: a next page repeats one already read
 * in this walk, or `MAX_EMPTY_PAGES` pages in a row brought no item but
 * another next page. Stopping instead of looping.
 */
export class PaginationLoopError extends PorticoError {
  static override readonly errorName = 'PaginationLoopError';
  constructor(style: string) {
    super('pagination_loop', `The provider's ${style} paging repeats a page, or gives ${MAX_EMPTY_PAGES} empty ones in a row: stopped.`);
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

/** How one paging style finds the next page's request from the page just read; undefined on the last page. */
export type NextPage = (rules: Pagination, init: Init, body: unknown, received: number) => Init | undefined;

export const cursor: NextPage = (rules, init, body) => {
  const value = resolvePointer(body, rules.nextCursor!);
  return value === undefined || value === null || value === '' ? undefined : withQuery(init, { [rules.cursorParam!]: value });
};

export const offset: NextPage = (rules, init, body, received) => {
  const query = init.params?.query ?? {};
  const next = Number(query[rules.offsetParam!] ?? 0) + received;
  const total = Number(resolvePointer(body, rules.total!));
  const limit = Number(query[rules.limitParam!] ?? rules.defaultLimit ?? received);
  if (received === 0 || (Number.isFinite(total) ? next >= total : received < limit)) return undefined;
  return withQuery(init, { [rules.offsetParam!]: next });
};

export const nextUrl: NextPage = (rules, init, body) => {
  const next = resolvePointer(body, rules.nextUrl!);
  if (typeof next !== 'string' || next === '') return undefined;
  // The provider's next link carries the whole query (cursor included);
  // only its query is used, so the request stays on the client's origin.
  return { ...init, params: { ...init.params, query: Object.fromEntries(new URL(next, 'http://placeholder.invalid').searchParams) } };
};

/**
 * `paginate` for the paging styles a spec uses: the generated client names
 * them, so a bundle carries those styles' code and no other's.
 */
export function paginateBy(styles: Partial<Record<Pagination['style'], NextPage>>): typeof paginate {
  return (rules, fetchPage, first, options, toError) => {
    const nextPage = styles[rules.style];
    if (!nextPage) throw new ConfigurationError(`paginateBy was given no ${rules.style} paging`);
    return walk(rules, nextPage, fetchPage, first, options, toError);
  };
}

/** Every paging style. */
export function paginate(
  rules: Pagination,
  fetchPage: (init: Init) => Promise<Page>,
  first: Init,
  options: PaginateOptions,
  toError: (body: unknown, response: Response) => Error,
): AsyncIterableIterator<unknown> {
  return paginateBy({ cursor, offset, 'next-url': nextUrl })(rules, fetchPage, first, options, toError);
}

/**
 * Which page a request asks for: the cursor or offset alone (whatever else
 * the query carries), or a next link's whole query in any parameter order.
 */
function pageKey(rules: Pagination, init: Init): string {
  const query = init.params?.query ?? {};
  // Stryker disable next-line StringLiteral: a cursor or offset walk changes only its one parameter, so the whole query tells the same pages apart
  const param = rules.style === 'cursor' ? rules.cursorParam : rules.style === 'offset' ? rules.offsetParam : undefined;
  return JSON.stringify(param === undefined ? Object.entries(query).sort(([a], [b]) => (a < b ? -1 : 1)) : (query[param] ?? null));
}

async function* walk(
  rules: Pagination,
  nextPage: NextPage,
  fetchPage: (init: Init) => Promise<Page>,
  first: Init,
  options: PaginateOptions,
  toError: (body: unknown, response: Response) => Error,
): AsyncIterableIterator<unknown> {
  let init: Init | undefined = options.signal ? { ...first, signal: options.signal } : first;
  // Every page of the walk, not only the last: A -> B -> A loops as surely as A -> A.
  const seen = new Set([pageKey(rules, first)]);
  let empty = 0;
  let previous: string | undefined;
  for (let pages = 0; init && pages < (options.maxPages ?? Number.POSITIVE_INFINITY); pages++) {
    options.signal?.throwIfAborted();
    const page = await fetchPage(init);
    if (page.error !== undefined || !page.response.ok) throw toError(page.error, page.response);
    const items = resolvePointer(page.data, rules.items);
    const list = Array.isArray(items) ? items : [];
    // A next link that changes only what does not page (a timestamp) hides a
    // repeat from the page keys; the same items again in a row do not. Not
    // for one-item pages: a list may hold two equal items side by side. A
    // walk that goes on yielding items is the caller's to stop (maxPages).
    const content = list.length < 2 ? undefined : JSON.stringify(list);
    if (content !== undefined && content === previous) throw new PaginationLoopError(rules.style);
    previous = content;
    for (const item of list) {
      options.signal?.throwIfAborted();
      yield item;
    }
    const next = nextPage(rules, init, page.data, list.length);
    if (next === undefined) return;
    // A provider that hands back a cursor of this walk again would loop forever.
    const key = pageKey(rules, next);
    empty = list.length === 0 ? empty + 1 : 0;
    if (seen.has(key) || empty >= MAX_EMPTY_PAGES) throw new PaginationLoopError(rules.style);
    seen.add(key);
    init = next;
  }
}
