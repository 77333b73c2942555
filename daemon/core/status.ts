import type { Core } from './core.js';

/** Everything "status" shows, the same for the API, the CLI and the web UI. */
export async function applianceStatus(core: Pick<Core, 'licensing' | 'systemId' | 'build' | 'clock' | 'users'>) {
  return {
    systemId: core.systemId,
    build: core.build,
    now: core.clock.now().toISOString(),
    ...core.licensing.status(),
    codes: await core.licensing.codeLines(),
    /** Per-user assignments kept but not in force (beyond the allowance, e.g. in Entry). */
    suspendedLicenses: await core.users.suspendedCount(),
  };
}

export type ApplianceStatus = Awaited<ReturnType<typeof applianceStatus>>;
