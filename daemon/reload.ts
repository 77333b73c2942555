import { applyKeys, ConfigError, diffConfig, loadConfig, type LoadedConfig } from './config.js';
import type { Core } from './core/core.js';
import type { Feature } from './feature.js';
import type { LicenseVerifier } from './licensing/verifier.js';

export interface ReloadResult {
  applied: string[];
  restartRequired: string[];
}

/**
 * SIGHUP: load the configuration again from where it came from at start (same
 * file, same environment), apply the keys that can change at run time, and
 * say in one line what changed and what waits for a restart. An invalid new
 * configuration is refused as a whole; the running one stays.
 */
export async function reloadConfig(core: Core, verifier: LicenseVerifier, features: Feature[], started: LoadedConfig): Promise<ReloadResult | null> {
  let next: LoadedConfig;
  try {
    next = loadConfig({ file: started.file ?? undefined });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    core.log.error('configuration reload refused; the running configuration stays', { file: started.file, problems: e.problems });
    return null;
  }
  const { applied, restartRequired } = diffConfig(core.config, next.config);
  const c = core.config;
  applyKeys(c, next.config, applied);
  core.log.setLevel(c.log.level);
  core.licensing.setGraceDays(c.license.graceDays);
  verifier.setMaxFutureMinutes(c.license.maxFutureMinutes);
  core.admins.setOptions(c.admin);
  for (const f of features) {
    try {
      await f.reload?.(c, applied);
    } catch (e) {
      core.log.error('feature could not apply the new configuration', { feature: f.name, error: String(e) });
    }
  }
  core.log.notice('configuration reloaded', { file: started.file, applied, restartRequired });
  return { applied, restartRequired };
}
