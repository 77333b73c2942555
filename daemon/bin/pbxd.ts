#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { Daemon } from '../main.js';
import { buildInfo } from '../core/system.js';

const USAGE = `pbxd — license-enforcing daemon of the PBX appliance

Usage: pbxd [--config FILE]

  --config FILE   configuration file (default /etc/pbxd/pbxd.json; from a
                  checkout: development defaults, data in ./var)
  --version       print the version and build date
  Every setting can be overridden by environment, e.g. PBXD_HTTP_PORT=0.`;

async function main(argv: string[]): Promise<void> {
  // Whoever starts pbxd (systemd sets the same), the database, its WAL, backups
  // and keys are created 0600 and folders 0700: they hold SIP passwords and keys.
  process.umask(0o077);
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') file = argv[++i];
    else if (a.startsWith('--config=')) file = a.slice(9);
    else if (a === '--help' || a === '-h') return void console.log(USAGE);
    else if (a === '--version') return void console.log(`pbxd ${buildInfo().version} (${buildInfo().buildDate})`);
    else {
      console.error(`pbxd: unknown argument ${a}\n\n${USAGE}`);
      process.exit(64);
    }
  }

  let loaded;
  try {
    loaded = loadConfig({ file });
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`<3>pbxd: ${e.message}`);
      process.exit(78); // EX_CONFIG: systemd will not restart-loop on a broken config forever
    }
    throw e;
  }

  const daemon = new Daemon(loaded);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    daemon.log.announce('stopping', { signal });
    daemon.stop().then(
      () => process.exit(0),
      (e) => {
        daemon.log.error('error while stopping', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // systemctl reload (ExecReload=/bin/kill -HUP $MAINPID): apply what can change without a restart.
  process.on('SIGHUP', () => {
    if (stopping) return;
    daemon.reload().catch((e) => daemon.log.error('configuration reload failed', { error: String(e) }));
  });
  process.on('unhandledRejection', (e) => daemon.log.error('unhandled rejection', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));

  try {
    const ready = await daemon.start();
    // From a checkout (npm start), say in plain words where to go and where the first password is.
    if (loaded.development) {
      const password = join(loaded.config.dataDir, 'initial-admin-password');
      const where = existsSync(password) ? `; the first password is in ${relative(process.cwd(), password) || password}` : '';
      console.log(`pbxd is ready: open http://${ready.listeners.api}/ and log in as admin${where}`);
    }
  } catch (e) {
    daemon.log.error('start failed', { error: e instanceof Error ? e.message : String(e) });
    await daemon.stop().catch(() => undefined);
    process.exit(1);
  }
}

void main(process.argv.slice(2));
