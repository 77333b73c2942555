import sqlite3 from 'sqlite3';

/**
 * One node-sqlite3 connection with promises, keeping its prepared statements
 * (node-sqlite3 alone would prepare and finalize one per call). The store
 * holds two: the writer and the reader.
 */

export type Param = string | number | bigint | null | Buffer;

export interface RunResult {
  changes: number;
  lastID: number;
}

/** Prepared statements kept per connection (most recently used); node-sqlite3 would prepare and finalize one per call. */
const STATEMENTS_KEPT = 300;

function promisify(db: sqlite3.Database) {
  const kept = new Map<string, Promise<sqlite3.Statement>>();
  const statement = (sql: string): Promise<sqlite3.Statement> => {
    let st = kept.get(sql);
    if (st) {
      kept.delete(sql);
    } else {
      st = new Promise<sqlite3.Statement>((resolve, reject) => {
        const prepared: sqlite3.Statement = db.prepare(sql, (err) => (err ? reject(err) : resolve(prepared)));
      });
      // A statement that fails to prepare is not kept; the caller gets the error.
      st.catch(() => kept.get(sql) === st && kept.delete(sql));
      if (kept.size >= STATEMENTS_KEPT) {
        const [oldest, old] = kept.entries().next().value as [string, Promise<sqlite3.Statement>];
        kept.delete(oldest);
        old.then((o) => o.finalize(), () => undefined);
      }
    }
    kept.set(sql, st);
    return st;
  };
  // `all` runs a statement to completion, so it never stays active (an active
  // statement would block COMMIT); `get` is `all` with the first row.
  const all = async <T>(sql: string, params: Param[] = []) => {
    const st = await statement(sql);
    return new Promise<T[]>((resolve, reject) => st.all(params, (err, rows) => (err ? reject(err) : resolve(rows as T[]))));
  };
  return {
    run: async (sql: string, params: Param[] = []) => {
      const st = await statement(sql);
      return new Promise<RunResult>((resolve, reject) =>
        st.run(params, function (this: sqlite3.RunResult, err: Error | null) {
          if (err) reject(err);
          else resolve({ changes: this.changes, lastID: this.lastID });
        }),
      );
    },
    all,
    get: async <T>(sql: string, params: Param[] = []) => (await all<T>(sql, params))[0],
    exec: (sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (err) => (err ? reject(err) : resolve()))),
    close: async () => {
      const statements = await Promise.allSettled(kept.values());
      await Promise.all(statements.map((r) => (r.status === 'fulfilled' ? new Promise<void>((done) => r.value.finalize(() => done())) : undefined)));
      kept.clear();
      await new Promise<void>((resolve, reject) => db.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function open(file: string, mode: number): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(db)));
  });
}

export type Connection = ReturnType<typeof promisify>;

/** Opens `file` (sqlite3.OPEN_* flags) as a connection. */
export async function connect(file: string, mode: number): Promise<Connection> {
  return promisify(await open(file, mode));
}
