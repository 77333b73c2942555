/**
 * Readiness checks (database, listeners, and whatever features add): each
 * answers null when fine or a sentence saying what is wrong. /readyz and the
 * systemd watchdog run them; a check that does not answer in time fails.
 */
export type Check = () => Promise<string | null> | string | null;

interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; problem?: string }>;
}

export class HealthChecks {
  private readonly checks = new Map<string, Check>();

  constructor(private readonly timeoutMs = 2000) {}

  add(name: string, check: Check): void {
    this.checks.set(name, check);
  }

  async run(): Promise<HealthReport> {
    const checks: HealthReport['checks'] = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<string>((r) => (timer = setTimeout(() => r(`no answer within ${this.timeoutMs} ms`), this.timeoutMs)));
        try {
          const problem = await Promise.race([Promise.resolve().then(check), timeout]);
          checks[name] = problem ? { ok: false, problem } : { ok: true };
        } catch (e) {
          checks[name] = { ok: false, problem: (e as Error).message ?? String(e) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }
}
