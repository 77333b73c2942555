import type { Args } from './args.js';
import type { ApiClient } from './client.js';

export interface CommandResult {
  /** What --json prints. */
  data: unknown;
  /** What a person reads. */
  text: string;
  /** A long answer printed as it arrives (instead of data/text): lists with --all. */
  stream?: (write: (chunk: string) => Promise<void>, json: boolean) => Promise<void>;
}

/** One pbxctl command: its words ("license install"), usage line, and what it does. */
export interface Command {
  words: string[];
  usage: string;
  booleanFlags?: string[];
  run(api: ApiClient, args: Args): Promise<CommandResult>;
}

/** Render rows as an aligned text table. */
export function table(headers: string[], rows: Array<Array<string | number | boolean | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
