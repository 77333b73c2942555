import type { Text } from './refusal.js';

/**
 * What the daemon says that is not a refusal (a job's result, a provisioning
 * outcome, an alert): a stable code, the values it names, and its text in
 * English and German made from one template per language. Each feature declares
 * its messages next to its code; they land in one registry, like refusals.
 * The English text doubles as the plain `detail`/`result` for logs and scripts.
 */
export type Values = Record<string, string | number>;

export interface Message {
  code: string;
  values: Values;
  text: Text;
}

/** Templates name values as {name}; a value is written as it is (names are quoted in the template). */
const registry = new Map<string, Text>();

function fill(template: string, values: Values): string {
  return template.replace(/\{(\w+)\}/g, (all, k: string) => (values[k] === undefined ? all : String(values[k])));
}

/** The {name}s a template uses. */
const names = (template: string) => new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!));

type Say<T> = <C extends keyof T & string>(code: C, values?: Values) => Message & { code: C };

export function defineMessages<T extends Record<string, Text>>(entries: T): Say<T> {
  for (const [code, t] of Object.entries(entries)) {
    if (registry.has(code)) throw new Error(`message code ${code} defined twice`);
    // German names no value English lacks (it may leave out one that is English itself, a protocol's own detail).
    const en = names(t.en);
    const missing = [...names(t.de)].filter((n) => !en.has(n));
    if (missing.length) throw new Error(`message ${code}: German names ${missing.join(', ')}, English does not`);
    registry.set(code, t);
  }
  return ((code: string, values: Values = {}) => messageOf(code, values)) as Say<T>;
}

/** Any code's message, e.g. to check every text of the catalogue. */
export function messageOf(code: string, values: Values = {}): Message {
  const t = registry.get(code);
  if (!t) throw new Error(`unknown message code ${code}`);
  return { code, values, text: { en: fill(t.en, values), de: fill(t.de, values) } };
}

export const hasMessage = (code: string): boolean => registry.has(code);

/** Every code with its templates. */
export function messageCatalogue(): Record<string, Text> {
  return Object.fromEntries([...registry].sort(([a], [b]) => a.localeCompare(b)));
}

/** Several messages as one line (a job that did several things). */
export function joined(messages: Message[]): Text {
  return { en: messages.map((m) => m.text.en).join('; '), de: messages.map((m) => m.text.de).join('; ') };
}
