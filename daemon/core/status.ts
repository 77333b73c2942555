import type { Core } from './core.js';

/** Everything "status" shows, the same for the API, the CLI and the web UI. */
export async function applianceStatus(core: Pick<Core, 'licensing' | 'systemId' | 'build' | 'clock'>) {
  return {
    systemId: core.systemId,
    build: core.build,
    now: core.clock.now().toISOString(),
    ...core.licensing.status(),
    codes: await core.licensing.codeLines(),
  };
}

export type ApplianceStatus = Awaited<ReturnType<typeof applianceStatus>>;
