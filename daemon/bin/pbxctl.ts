#!/usr/bin/env node
/**
 * pbxctl — the admin CLI. On the appliance it talks to the running daemon over
 * the control socket in the data folder (access = file permissions); from
 * elsewhere over HTTP with --url and --token (or PBXCTL_URL, PBXCTL_TOKEN).
 */
import { parseArgs } from '../cli/args.js';
import { ApiClient, ApiError, type ApiTarget } from '../cli/client.js';
import type { Command } from '../cli/command.js';
import { loadConfig } from '../config.js';
import { licenseCommands } from '../cli/commands/license.js';
import { adminCommands } from '../cli/commands/admin.js';
import { lifecycleCommands } from '../cli/commands/lifecycle.js';
import { userCommands } from '../cli/commands/users.js';
import { resourceCommands } from '../cli/commands/resources.js';
import { sessionCommands } from '../cli/commands/sessions.js';
import { deviceCommands } from '../cli/commands/devices.js';
import { provisioningCommands } from '../cli/commands/provisioning.js';

const commands: Command[] = [...licenseCommands, ...userCommands, ...deviceCommands, ...provisioningCommands, ...lifecycleCommands, ...resourceCommands, ...sessionCommands, ...adminCommands];

const GLOBAL_FLAGS = `Global options:
  --json              machine-readable output
  --socket PATH       control socket (default: from the daemon's config)
  --config FILE       the daemon's config file, to find its socket
  --url URL --token T talk to a daemon over HTTP (or PBXCTL_URL / PBXCTL_TOKEN)`;

function usage(): string {
  return `pbxctl — control the pbxd daemon\n\n${commands.map((c) => '  pbxctl ' + c.usage).join('\n')}\n\n${GLOBAL_FLAGS}\n`;
}

function findCommand(argv: string[]): { cmd: Command; rest: string[] } | null {
  const words = argv.filter((a) => !a.startsWith('-'));
  const sorted = [...commands].sort((a, b) => b.words.length - a.words.length);
  for (const c of sorted) {
    if (c.words.every((w, i) => words[i] === w)) {
      const rest = [...argv];
      for (const w of c.words) rest.splice(rest.indexOf(w), 1);
      return { cmd: c, rest };
    }
  }
  return null;
}

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === 'help' || argv.includes('--help')) return void process.stdout.write(usage());
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`pbxctl: unknown command "${argv.join(' ')}"\n\n${usage()}`);
    process.exit(64);
  }
  const args = parseArgs(found.rest, new Set(['json', ...(found.cmd.booleanFlags ?? [])]));
  const json = args.has('json');
  const url = args.get('url') ?? process.env.PBXCTL_URL;
  const target: ApiTarget = url
    ? { url, token: args.get('token') ?? process.env.PBXCTL_TOKEN }
    : { socketPath: args.get('socket') ?? process.env.PBXCTL_SOCKET ?? loadConfig({ file: args.get('config') }).config.control.socket };
  try {
    const result = await found.cmd.run(new ApiClient(target), args);
    process.stdout.write((json ? JSON.stringify(result.data, null, 2) : result.text) + '\n');
  } catch (e) {
    const de = (process.env.LANG ?? '').startsWith('de');
    if (e instanceof ApiError && e.body.error) {
      const err = e.body.error;
      if (json) process.stdout.write(JSON.stringify(e.body, null, 2) + '\n');
      else process.stderr.write(`pbxctl: ${err.code}: ${(de ? err.text?.de : err.text?.en) ?? err.message}\n${err.remedy ? '  → ' + (de ? err.remedy.de : err.remedy.en) + '\n' : ''}`);
    } else {
      const code = (e as NodeJS.ErrnoException).code;
      const msg = code === 'ENOENT' || code === 'ECONNREFUSED' ? `cannot reach pbxd (${target.socketPath ?? target.url}): is it running?` : code === 'EACCES' ? `no permission to use ${target.socketPath}: run as root or the pbxd user` : (e as Error).message;
      if (json) process.stdout.write(JSON.stringify({ error: { code: 'CLI_ERROR', message: msg } }, null, 2) + '\n');
      else process.stderr.write(`pbxctl: ${msg}\n`);
    }
    process.exit(1);
  }
}

void main(process.argv.slice(2));
