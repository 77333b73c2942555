import { appRoot, loadConfig, type Config } from '../config.js';
import type { Args } from './args.js';

/** Options every pbxctl command takes, anywhere on the line; all but --json take a value. */
export const GLOBAL_VALUE_FLAGS = new Set(['url', 'token', 'socket', 'config']);

/**
 * The daemon's config as pbxd itself would load it: --config, PBXD_CONFIG,
 * /etc/pbxd/pbxd.json, or, in a checkout, the development defaults. A checkout's
 * data folder is its own ./var (where `npm start` keeps it), wherever pbxctl runs.
 */
export function daemonConfig(args: Args): Config {
  const file = args.get('config');
  const explicit = Boolean(file ?? process.env.PBXD_CONFIG);
  return loadConfig({ file, cwd: explicit ? process.cwd() : appRoot }).config;
}

/** The control socket: --socket, PBXCTL_SOCKET, or the one in the daemon's config. */
export function controlSocket(args: Args): string {
  return args.get('socket') ?? process.env.PBXCTL_SOCKET ?? daemonConfig(args).control.socket;
}
