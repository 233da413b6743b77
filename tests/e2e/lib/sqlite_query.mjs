// Reads a stack's SQLite database from outside with the `sqlite3` CLI (read-only, JSON
// rows), for tests that check what was stored rather than what the API says.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function sqlQuery(stack, sql) {
  const db = path.join(stack.dir, 'genx.db');
  const { stdout } = await run('sqlite3', ['-readonly', '-json', '-cmd', '.timeout 10000', db, sql],
    { timeout: 60000 });
  return stdout.trim() ? JSON.parse(stdout) : [];
}
