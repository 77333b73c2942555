import type { PageAsk } from '../core/paging.js';
import { optInt, optString } from './validate.js';

/** The paging part of a list's query string: limit, offset, sort, order (checked against the list by the core). */
export function pageAsk(q: Record<string, unknown>): PageAsk {
  return { limit: optInt(q, 'limit', 1), offset: optInt(q, 'offset', 0), sort: optString(q, 'sort', 40), order: optString(q, 'order', 10) };
}

/** How the OpenAPI description names the paging parameters of a list. */
export const PAGED = 'paged: limit (default 50, at most 500), offset, sort, order=asc|desc; answers total, limit, offset';
