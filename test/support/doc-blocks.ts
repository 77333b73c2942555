/**
 * The shell examples of a Markdown file, as the documentation test runs them:
 * every fenced ```sh block, with the doc-test markers on the lines right above it.
 *
 *   <!-- doc-test: skip (why it cannot run against a development daemon) -->
 *   <!-- doc-test: fill C532-431B-14AE-2F70 from /System id:\s+(\S+)/ -->
 *
 *   <!-- doc-test: daemon-env PBXD_ACTIVATION_URL=http://127.0.0.1:8090 -->
 *
 * "daemon-env" (anywhere in the file) says how the file's daemon is started, for
 * a page whose reader restarts `npm start` with that variable.
 * "fill" replaces the literal in the block with the first group of the regex's
 * last match in the output of the file's earlier blocks (a system id, an id
 * the daemon handed out, …).
 */
export interface Fill {
  literal: string;
  pattern: RegExp;
}

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  skip: string | null;
  fills: Fill[];
  /** Commands in the block: logical lines, without comments and continuations. */
  commands: number;
}

const MARKER = /^<!--\s*doc-test:\s*(.*?)\s*-->$/;

export function extractBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})sh\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j]!); j++) body.push(lines[j]!.slice(Math.min(indent, /^\s*/.exec(lines[j]!)![0].length)));
    if (j >= lines.length) throw new Error(`${file}:${i + 1}: the sh block is never closed`);

    let skip: string | null = null;
    const fills: Fill[] = [];
    for (let k = i - 1; k >= 0; k--) {
      const l = lines[k]!.trim();
      if (l === '') continue;
      const m = MARKER.exec(l);
      if (!m) break;
      const directive = m[1]!;
      if (directive.startsWith('daemon-env ')) continue;
      const s = /^skip\s*\((.+)\)$/.exec(directive);
      const f = /^fill\s+(\S+)\s+from\s+\/(.+)\/([a-z]*)$/.exec(directive);
      if (s) skip = s[1]!.trim();
      else if (f) fills.push({ literal: f[1]!, pattern: new RegExp(f[2]!, f[3]!.includes('g') ? f[3] : f[3] + 'g') });
      else throw new Error(`${file}:${k + 1}: unknown doc-test marker "${directive}" (use "skip (reason)" or "fill LITERAL from /regex/")`);
    }
    const code = body.join('\n');
    blocks.push({ file, line: i + 1, code, skip, fills, commands: countCommands(code) });
    i = j;
  }
  return blocks;
}

/**
 * Logical command lines: not blank, not a comment, not the continuation of a
 * previous line (backslash, open pipe or &&, an open quote) or a here-document's body.
 */
export function countCommands(code: string): number {
  let n = 0;
  let quote: string | null = null;
  let continued = false;
  let heredoc: string | null = null;
  for (const raw of code.split('\n')) {
    const line = raw.trim();
    if (heredoc !== null) {
      if (line === heredoc) heredoc = null;
      continue;
    }
    if (!continued && quote === null && line !== '' && !line.startsWith('#')) n++;
    let outside = '';
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (quote) {
        if (c === '\\' && quote === '"') i++;
        else if (c === quote) quote = null;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '\\') (outside += c + (raw[i + 1] ?? '')), i++;
      else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) break;
      else outside += c;
    }
    const h = /<<-?\s*['"]?(\w+)['"]?/.exec(raw);
    if (h && quote === null) heredoc = h[1]!;
    continued = quote === null && /(\\|\||&&)\s*$/.test(outside);
  }
  return n;
}

/** The block with its fills applied; throws naming what is missing from the earlier output. */
export function applyFills(block: DocBlock, earlierOutput: string): string {
  let code = block.code;
  for (const f of block.fills) {
    const matches = [...earlierOutput.matchAll(f.pattern)];
    const value = matches.at(-1)?.[1];
    if (!value) throw new Error(`${block.file}:${block.line}: nothing in the earlier output matches ${f.pattern} (to fill ${f.literal})`);
    code = code.split(f.literal).join(value);
  }
  return code;
}

/** The file's daemon-env markers: environment for the daemon its examples run against. */
export function daemonEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^<!--\s*doc-test:\s*daemon-env\s+(\w+)=(\S+)\s*-->$/gm)) env[m[1]!] = m[2]!;
  return env;
}
