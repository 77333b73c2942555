import type { TestDaemon } from './daemon.js';

/** Admin API calls that must succeed (set-up and checks around the test proper): the JSON answer, or an error naming the call. */
export function apiOf(d: () => TestDaemon) {
  return async (method: string, path: string, body?: unknown) => {
    const r = await d().request(method, `/api/v1${path}`, body === undefined ? {} : { body });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.json;
  };
}
