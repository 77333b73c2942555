/**
 * mocha's spec reporter, plus one table at the end: how long each suite tagged
 * `@slow` in its title (browser, reliability) took, per file. CommonJS because
 * mocha loads reporters with require().
 */
import Mocha = require('mocha');
import path = require('node:path');

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;

class SlowSuitesReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const started = new Map<Mocha.Suite, number>();
    const msByFile = new Map<string, number>();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.title.includes('@slow') && !suite.parent?.fullTitle().includes('@slow')) started.set(suite, performance.now());
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const t0 = started.get(suite);
      if (t0 === undefined) return;
      const file = suite.file ? path.relative(process.cwd(), suite.file) : suite.title;
      msByFile.set(file, (msByFile.get(file) ?? 0) + performance.now() - t0);
    });
    runner.once(EVENT_RUN_END, () => {
      if (msByFile.size === 0) return;
      const rows = [...msByFile].sort((a, b) => b[1] - a[1]);
      const width = Math.max(...rows.map(([file]) => file.length));
      console.log('  slow suites (@slow), seconds:');
      for (const [file, ms] of rows) console.log(`    ${file.padEnd(width)}  ${(ms / 1000).toFixed(1).padStart(6)}`);
      console.log(`    ${'total'.padEnd(width)}  ${(rows.reduce((s, [, ms]) => s + ms, 0) / 1000).toFixed(1).padStart(6)}\n`);
    });
  }
}

export = SlowSuitesReporter;
