import { refuse } from '../kernel/refusal.js';

/**
 * The one paging contract of every list: a page of at most PAGE_MAX rows
 * (PAGE_DEFAULT when not asked), sorted only by fields an index answers, with
 * the total count of the filtered list. No list answers more than a page.
 */
const PAGE_DEFAULT = 50;
export const PAGE_MAX = 500;

export type Order = 'asc' | 'desc';

/** What a caller asks for, as it arrives (already whole numbers where given). */
export interface PageAsk {
  limit?: number;
  offset?: number;
  sort?: string;
  order?: string;
}

interface PageOf<S extends string> {
  limit: number;
  offset: number;
  sort: S;
  order: Order;
}

/**
 * Settle a caller's ask against the sort fields a list offers. An unknown sort
 * or order is refused; a limit above PAGE_MAX is served as PAGE_MAX (the
 * answer's `limit` says so), so callers written before paging keep working.
 */
export function pageOf<S extends string>(ask: PageAsk, sorts: readonly S[], def: { sort: S; order: Order }): PageOf<S> {
  const sort = (ask.sort ?? def.sort) as S;
  if (!sorts.includes(sort)) throw refuse('REQ_INVALID', { field: 'sort', problem: `this list sorts by ${sorts.join(', ')} (fields with an index), not by "${String(ask.sort).slice(0, 40)}"` });
  // A list's own default order goes with its default sort; another sort runs ascending unless asked.
  const order = ask.order ?? (sort === def.sort ? def.order : 'asc');
  if (order !== 'asc' && order !== 'desc') throw refuse('REQ_INVALID', { field: 'order', problem: 'asc or desc' });
  const limit = Math.min(Math.max(ask.limit ?? PAGE_DEFAULT, 1), PAGE_MAX);
  return { limit, offset: Math.max(ask.offset ?? 0, 0), sort, order };
}

/** The largest code point: `x < prefix + MAX_CHAR` holds for every text that starts with prefix. */
const MAX_CHAR = '\u{10FFFF}';

/**
 * "expr starts with prefix" as a range, which an index on expr answers (LIKE
 * uses an index only under narrow conditions). The range follows expr's
 * collation: under NOCASE it ignores the case of ASCII letters.
 */
export function startsWith(expr: string, prefix: string): { sql: string; params: string[] } {
  return { sql: `(${expr} >= ? AND ${expr} < ?)`, params: [prefix, prefix + MAX_CHAR] };
}

/** ORDER BY for a sort field mapped to its columns; `desc` reverses every column (so one index serves both). */
export function orderBy(columns: string[], order: Order): string {
  return columns
    .map((c) => {
      const m = /^(.*?)\s+(ASC|DESC)$/i.exec(c);
      const [col, dir] = m ? [m[1]!, m[2]!.toUpperCase()] : [c, 'ASC'];
      return `${col} ${order === 'asc' ? dir : dir === 'ASC' ? 'DESC' : 'ASC'}`;
    })
    .join(', ');
}
