/**
 * One step of the schema, applied once in its own transaction and recorded
 * in PRAGMA user_version. A step that has shipped is never edited: add the next.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
