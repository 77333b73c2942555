#!/usr/bin/env node
/**
 * pbxctl — the admin CLI. On the appliance it talks to the running daemon over
 * the control socket in the data folder (access = file permissions); from
 * elsewhere over HTTP with --url and --token (or PBXCTL_URL, PBXCTL_TOKEN).
 */
import { MissingValueError, parseArgs } from '../cli/args.js';
import { ApiClient, ApiError, type ApiTarget } from '../cli/client.js';
import type { Command } from '../cli/command.js';
import { cliErrorText, cliText, GLOBAL_OPTIONS, HELP_DE, HELP_TITLE, language, languageFromEnv, pick, setLanguage } from '../cli/messages.js';
import { controlSocket, GLOBAL_VALUE_FLAGS } from '../cli/target.js';
import { licenseCommands } from '../cli/commands/license.js';
import { adminCommands } from '../cli/commands/admin.js';
import { adminAccountCommands } from '../cli/commands/admins.js';
import { lifecycleCommands } from '../cli/commands/lifecycle.js';
import { userCommands } from '../cli/commands/users.js';
import { resourceCommands } from '../cli/commands/resources.js';
import { sessionCommands } from '../cli/commands/sessions.js';
import { deviceCommands } from '../cli/commands/devices.js';

const commands: Command[] = [...licenseCommands, ...userCommands, ...deviceCommands, ...lifecycleCommands, ...resourceCommands, ...sessionCommands, ...adminCommands, ...adminAccountCommands];

/** The help: each command's syntax and what it does, in the language of this run. */
function usage(): string {
  const lang = language();
  const lines = commands.map((c) => {
    const m = /^(.*?\S)\s{2,}(\S.*)$/.exec(c.usage);
    const [syntax, what] = m ? [m[1]!, m[2]!] : [c.usage, ''];
    return `  pbxctl ${syntax.padEnd(30)} ${lang === 'de' ? (HELP_DE[c.words.join(' ')] ?? what) : what}`;
  });
  return `${HELP_TITLE[lang]}\n\n${lines.join('\n')}\n\n${GLOBAL_OPTIONS[lang]}\n`;
}

/**
 * The command is the first positional words of the line; global options and
 * their values may stand anywhere, before the command too.
 */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } | null {
  const wordAt: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('--') && !a.includes('=') && GLOBAL_VALUE_FLAGS.has(a.slice(2))) i++;
    else if (!a.startsWith('-')) wordAt.push(i);
  }
  const sorted = [...commands].sort((a, b) => b.words.length - a.words.length);
  for (const c of sorted) {
    if (c.words.every((w, i) => wordAt[i] !== undefined && argv[wordAt[i]!] === w)) {
      const drop = new Set(wordAt.slice(0, c.words.length));
      return { cmd: c, rest: argv.filter((_, i) => !drop.has(i)) };
    }
  }
  return null;
}

async function main(argv: string[]): Promise<void> {
  setLanguage(languageFromEnv());
  if (argv.length === 0 || argv[0] === 'help' || argv.includes('--help')) return void process.stdout.write(usage());
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`pbxctl: ${cliText('unknownCommand', argv.join(' '))}\n\n${usage()}`);
    process.exit(64);
  }
  let args;
  try {
    args = parseArgs(found.rest, new Set(['json', ...(found.cmd.booleanFlags ?? [])]));
  } catch (e) {
    process.stderr.write(`pbxctl: ${e instanceof MissingValueError ? cliText('needsValue', e.flag) : (e as Error).message}\n`);
    process.exit(64);
  }
  const json = args.has('json');
  const url = args.get('url') ?? process.env.PBXCTL_URL;
  let target: ApiTarget = {};
  try {
    target = url ? { url, token: args.get('token') ?? process.env.PBXCTL_TOKEN } : { socketPath: controlSocket(args) };
    const result = await found.cmd.run(new ApiClient(target), args);
    if (result.stream) await result.stream((chunk) => new Promise<void>((done) => void process.stdout.write(chunk, () => done())), json);
    else process.stdout.write((json ? JSON.stringify(result.data, null, 2) : result.text) + '\n');
  } catch (e) {
    if (e instanceof ApiError && e.body.error) {
      const err = e.body.error;
      if (json) process.stdout.write(JSON.stringify(e.body, null, 2) + '\n');
      else process.stderr.write(`pbxctl: ${err.code}: ${err.text ? pick(err.text) : err.message}\n${err.remedy ? '  → ' + pick(err.remedy) + '\n' : ''}`);
    } else {
      const msg = cliErrorText(e, target);
      if (json) process.stdout.write(JSON.stringify({ error: { code: 'CLI_ERROR', message: msg } }, null, 2) + '\n');
      else process.stderr.write(`pbxctl: ${msg}\n`);
    }
    process.exit(1);
  }
}

void main(process.argv.slice(2));
