import { refuse } from '../kernel/refusal.js';

/** Small checks for request bodies and queries; each failure is a REQ_INVALID naming the field. */
export function body(req: { body?: unknown }): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null || (typeof b === 'object' && !Array.isArray(b) && !Buffer.isBuffer(b))) return (b ?? {}) as Record<string, unknown>;
  throw refuse('REQ_INVALID', { field: 'body', problem: 'must be a JSON object' });
}

export function optString(o: Record<string, unknown>, key: string, max = 200): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw refuse('REQ_INVALID', { field: key, problem: 'must be text' });
  if (v.length > max) throw refuse('REQ_INVALID', { field: key, problem: `at most ${max} characters` });
  return v;
}

export function reqString(o: Record<string, unknown>, key: string, max = 200): string {
  const v = optString(o, key, max);
  if (v === undefined) throw refuse('REQ_INVALID', { field: key, problem: 'is required' });
  return v;
}

export function optInt(o: Record<string, unknown>, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = o[key];
  if (raw === undefined || raw === null || raw === '') return undefined;
  const v = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw refuse('REQ_INVALID', { field: key, problem: `must be a whole number ${min}..${max}` });
  return v as number;
}

export function reqInt(o: Record<string, unknown>, key: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = optInt(o, key, min, max);
  if (v === undefined) throw refuse('REQ_INVALID', { field: key, problem: 'is required' });
  return v;
}

export function optBool(o: Record<string, unknown>, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0') return false;
  throw refuse('REQ_INVALID', { field: key, problem: 'must be true or false' });
}
