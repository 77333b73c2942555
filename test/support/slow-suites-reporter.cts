/**
 * mocha's spec reporter, plus one table at the end: how long each suite tagged
 * `@slow` in its title (browser, reliability) took, summed over its tests and
 * hooks. CommonJS because mocha loads reporters with require(). Under
 * --parallel, events arrive after a file has run, as plain data (no methods,
 * begin and end as two objects), so the figures are the runnables' own
 * durations, and suites are named by their titles.
 */
import Mocha = require('mocha');

const { EVENT_TEST_END, EVENT_HOOK_END, EVENT_RUN_END } = Mocha.Runner.constants;

/** The outermost suite tagged @slow that a test or hook belongs to, by title (titlePath survives --parallel). */
function slowSuiteOf(r: Mocha.Runnable): string | null {
  const path = typeof r.titlePath === 'function' ? r.titlePath() : [];
  return path.slice(0, -1).find((title) => title.includes('@slow')) ?? null;
}

class SlowSuitesReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const msBySuite = new Map<string, number>();
    const add = (r: Mocha.Runnable) => {
      const suite = slowSuiteOf(r);
      if (suite) msBySuite.set(suite, (msBySuite.get(suite) ?? 0) + (r.duration ?? 0));
    };
    runner.on(EVENT_TEST_END, add);
    runner.on(EVENT_HOOK_END, add);
    runner.once(EVENT_RUN_END, () => {
      if (msBySuite.size === 0) return;
      const rows = [...msBySuite].sort((a, b) => b[1] - a[1]);
      const width = Math.max(...rows.map(([title]) => title.length));
      console.log('  slow suites (@slow), seconds:');
      for (const [title, ms] of rows) console.log(`    ${title.padEnd(width)}  ${(ms / 1000).toFixed(1).padStart(6)}`);
      console.log(`    ${'total'.padEnd(width)}  ${(rows.reduce((s, [, ms]) => s + ms, 0) / 1000).toFixed(1).padStart(6)}\n`);
    });
  }
}

export = SlowSuitesReporter;
