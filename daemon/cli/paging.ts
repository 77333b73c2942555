import type { Args } from './args.js';
import type { ApiClient } from './client.js';
import { table, type CommandResult } from './command.js';
import { cliText, headings } from './messages.js';
import { PAGE_MAX } from '../core/paging.js';

type Cell = string | number | boolean | null | undefined;

/** A list as pbxctl shows it: the API path, the answer's list field, and its table. */
interface ListView<T> {
  path: string;
  listName: string;
  headers: string[];
  row: (item: T) => Cell[];
  noun: string;
}

/** The query flags every list command takes besides its own filters. */
const PAGE_FLAGS = ['limit', 'offset', 'sort', 'order'];
export const PAGE_USAGE = '[--limit N] [--offset N] [--sort F] [--order asc|desc] [--all]';

/**
 * One page (the flags given), or with --all every page in turn, printed as it
 * arrives: pbxctl never holds the whole list, and the daemon never answers
 * more than one page. With --json, --all prints one JSON object per line.
 */
export async function listCommand<T>(api: ApiClient, a: Args, view: ListView<T>, filters: URLSearchParams): Promise<CommandResult> {
  const q = new URLSearchParams(filters);
  for (const k of PAGE_FLAGS) if (a.get(k)) q.set(k, a.get(k)!);
  if (!a.has('all')) {
    const r = await api.request<Record<string, unknown> & { total: number; offset: number }>('GET', `${view.path}?${q}`);
    const items = r[view.listName] as T[];
    const shown = items.length ? cliText('pageShown', r.offset + 1, r.offset + items.length, r.total, view.noun) : cliText('pageNone', r.total, view.noun);
    return { data: r, text: `${items.length ? table(headings(...view.headers), items.map(view.row)) + '\n\n' : ''}${shown}` };
  }
  return {
    data: undefined,
    text: '',
    stream: async (write, json) => {
      q.set('limit', String(PAGE_MAX));
      let offset = Number(q.get('offset') ?? 0);
      let seen = 0;
      for (let first = true; ; first = false) {
        q.set('offset', String(offset));
        const r = await api.request<Record<string, unknown> & { total: number }>('GET', `${view.path}?${q}`);
        const items = r[view.listName] as T[];
        if (json) await write(items.map((i) => JSON.stringify(i) + '\n').join(''));
        else if (items.length) {
          const lines = table(headings(...view.headers), items.map(view.row)).split('\n');
          await write((first ? lines : lines.slice(1)).join('\n') + '\n');
        }
        seen += items.length;
        offset += items.length;
        if (items.length < PAGE_MAX || offset >= r.total) {
          if (!json) await write(`\n${cliText('listSeen', seen, view.noun)}\n`);
          return;
        }
      }
    },
  };
}
