/**
 * The one polling helper: retry `check` until it returns without throwing, for
 * a state the daemon reaches a moment after an answer (a timer, an event
 * handler, a log line on a pipe). After `timeoutMs` the last failure is thrown,
 * so the test says what was never reached.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
