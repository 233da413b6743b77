// Reads a stack's database from outside, for tests that check what was stored rather
// than what the API says: SQLite with the `sqlite3` CLI (read-only, JSON rows), or, for a
// stack on PostgreSQL (GENX_E2E_DATABASE=postgres), psql with the rows as json_agg.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function sqlQuery(stack, sql) {
  if (stack.env.DATABASE_URL.startsWith('postgres')) {
    const { stdout } = await run('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', stack.env.DATABASE_URL,
      '-c', `SELECT coalesce(json_agg(q), '[]') FROM (${sql}) q`], { timeout: 60000 });
    return JSON.parse(stdout.trim());
  }
  const db = path.join(stack.dir, 'genx.db');
  const { stdout } = await run('sqlite3', ['-readonly', '-json', '-cmd', '.timeout 10000', db, sql],
    { timeout: 60000 });
  return stdout.trim() ? JSON.parse(stdout) : [];
}
