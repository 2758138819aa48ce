// The paging rules themselves, walked directly with `paginate` over a provider
// played by a function: where each style finds its last page (an empty cursor
// or link, a short page without a total, an empty page despite the total),
// which limit an offset walk measures a page against, and which requests count
// as the same page. Each test pins behaviour a StrykerJS mutant of
// src/pagination.ts changed without any other test noticing.
import { describe, expect, it } from 'vitest';
import { type Pagination, PaginationLoopError, paginate } from '../src/pagination.ts';

type Init = Parameters<typeof paginate>[2];
type Query = Record<string, unknown>;

/**
 * Walks `rules` from `first` over a provider that answers each request's query
 * with `serve`: what the walk yielded, the queries it sent, and how it ended
 * (the error it threw, if any). maxPages bounds a walk that a wrong rule would not end.
 */
async function walk(rules: Pagination, serve: (query: Query) => unknown, first: Init = {}) {
  const asked: Query[] = [];
  const items: unknown[] = [];
  const fetchPage = async (init: Init) => {
    const query = init.params?.query ?? {};
    asked.push(query);
    return { data: serve(query), response: new Response(null, { status: 200 }) };
  };
  let ended: unknown = 'at its last page';
  try {
    for await (const item of paginate(rules, fetchPage, first, { maxPages: 20 }, () => new Error('no page here is an error')))
      items.push(item);
  } catch (error) {
    ended = error;
  }
  return { items, asked, ended };
}

describe('cursor paging', () => {
  const rules: Pagination = { style: 'cursor', items: '/items', cursorParam: 'cursor', nextCursor: '/next' };

  it.each([
    ['null', null],
    ['empty', ''],
    ['absent', undefined],
  ])('a next cursor that is %s marks the last page', async (_name, last) => {
    const pages: Record<string, object> = { '': { items: ['a', 'b'], next: 'c2' }, c2: { items: ['c'], next: last } };
    const result = await walk(rules, (query) => pages[String(query.cursor ?? '')]!);
    expect(result).toEqual({ items: ['a', 'b', 'c'], asked: [{}, { cursor: 'c2' }], ended: 'at its last page' });
  });

  it('a cursor back to the page the walk started from is a loop, caught before that page is asked for again', async () => {
    const result = await walk(rules, () => ({ items: ['x'], next: 'c5' }), { params: { query: { cursor: 'c5' } } });
    expect(result.items).toEqual(['x']);
    expect(result.asked).toEqual([{ cursor: 'c5' }]);
    expect(result.ended).toBeInstanceOf(PaginationLoopError);
    // What a log line shows: the class by name (minifiers rename classes), then why.
    expect(String(result.ended)).toBe(
      "PaginationLoopError: The provider's cursor paging repeats a page, or gives 100 empty ones in a row: stopped.",
    );
  });

  it.each([
    ['no items member', {}],
    ['items: null', { items: null }],
    ['items that are an object', { items: { id: 1 } }],
    ['items that are a string', { items: 'ab' }],
  ])('a page with %s yields nothing', async (_name, page) => {
    expect(await walk(rules, () => page)).toEqual({ items: [], asked: [{}], ended: 'at its last page' });
  });
});

describe('offset paging', () => {
  const rules: Pagination = {
    style: 'offset',
    items: '/items',
    offsetParam: 'from',
    limitParam: 'size',
    total: '/total',
    defaultLimit: 3,
  };
  const LIST = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7'];
  // No total in the pages: the walk has only the page sizes to go by. The provider's own default page size is the spec's.
  const untotalled = (query: Query) => {
    const from = Number(query.from ?? 0);
    return { items: LIST.slice(from, from + Number(query.size ?? 3)) };
  };

  it('without a total, a page shorter than the limit the request asked for is the last, and no empty page is asked for', async () => {
    // The spec's default (3) is not this request's limit (2): a 2-item page is full.
    const result = await walk(rules, untotalled, { params: { query: { size: 2 } } });
    expect(result).toEqual({
      items: LIST,
      asked: [{ size: 2 }, { size: 2, from: 2 }, { size: 2, from: 4 }, { size: 2, from: 6 }],
      ended: 'at its last page',
    });
  });

  it("without a total or a limit in the request, pages are measured against the spec's default limit", async () => {
    const result = await walk(rules, untotalled);
    expect(result).toEqual({ items: LIST, asked: [{}, { from: 3 }, { from: 6 }], ended: 'at its last page' });
  });

  it('an empty page ends the walk, even when the total promises more', async () => {
    const result = await walk(rules, (query) => ({ items: query.from === undefined ? ['i1', 'i2'] : [], total: 10 }));
    expect(result).toEqual({ items: ['i1', 'i2'], asked: [{}, { from: 2 }], ended: 'at its last page' });
  });
});

describe('next-url paging', () => {
  const rules: Pagination = { style: 'next-url', items: '/items', nextUrl: '/next' };

  it.each([
    ['empty', ''],
    ['null', null],
  ])('a next link that is %s marks the last page', async (_name, last) => {
    const result = await walk(rules, (query) =>
      query.page === undefined ? { items: ['a'], next: 'https://api.example.test/list?page=2' } : { items: ['b'], next: last },
    );
    expect(result).toEqual({ items: ['a', 'b'], asked: [{}, { page: '2' }], ended: 'at its last page' });
  });

  it.each([
    ['a cursor parameter', { cursorParam: 'starting_after' }],
    ['an offset parameter', { offsetParam: 'from' }],
  ])('pages are told apart by the whole query of their links, even when the rules also name %s', async (_name, extra) => {
    // The links page by `page`, which the named parameter is not: by that parameter alone every page would look alike.
    const result = await walk({ ...rules, ...extra }, (query) => {
      const page = Number(query.page ?? 1);
      return { items: [`p${page}`], next: page < 3 ? `https://api.example.test/list?page=${page + 1}` : undefined };
    });
    expect(result).toEqual({ items: ['p1', 'p2', 'p3'], asked: [{}, { page: '2' }, { page: '3' }], ended: 'at its last page' });
  });
});
