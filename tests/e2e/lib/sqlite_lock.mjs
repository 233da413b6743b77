// An outside writer that holds SQLite's write lock on a stack's database: resolves once it
// holds the lock, keeps it until release(). The retry and dead-letter tests use it to make
// the workers' transactions fail transiently.
import { spawn } from 'node:child_process';
import path from 'node:path';

export async function lockDatabase(stack) {
  const child = spawn('sqlite3', [path.join(stack.dir, 'genx.db')], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.write("PRAGMA busy_timeout=10000;\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { if (d.toString().includes('locked')) resolve(); });
    child.once('exit', (code) => reject(new Error(`sqlite3 exited ${code} before locking`)));
  });
  return {
    release: async () => {
      child.stdin.end('COMMIT;\n');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
