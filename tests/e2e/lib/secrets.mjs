// Secrets used by the tests (passwords, tokens, private keys), recorded so that the final
// stage of scripts/test.sh (scripts/check-secrets.sh) can prove none of them reached a
// log of the run. Contract shared by every test: call recordSecret(s) for each secret you
// create or use, before a process sees it. The file holds one secret per line; it lives
// at GENX_TEST_SECRETS_FILE, default <repo>/build/test-artifacts/secrets-used.txt, and
// scripts/test.sh empties it at the start of a run.
//
// Role logs: GENX_TEST_LOG_DIR (default <repo>/build/test-artifacts/logs) is where
// lib/stack.mjs writes every process log; put any other log a test writes there too.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const secretsFile = process.env.GENX_TEST_SECRETS_FILE
  || path.join(repoRoot, 'build', 'test-artifacts', 'secrets-used.txt');
export const testLogDir = process.env.GENX_TEST_LOG_DIR
  || path.join(repoRoot, 'build', 'test-artifacts', 'logs');

// Secrets shorter than this would match by chance (and are not worth the name).
const kMinLength = 8;

// Appends each secret (a string; a multi-line one such as a PEM key is recorded line by
// line, its body lines only) to the secrets file. Returns the first argument.
export function recordSecret(...secrets) {
  const lines = [];
  for (const secret of secrets) {
    if (typeof secret !== 'string') continue;
    for (const line of secret.split(/\r?\n/)) {
      const t = line.trim();
      if (t.length < kMinLength || t.startsWith('-----')) continue; // PEM armour is not secret
      lines.push(t);
    }
  }
  if (lines.length > 0) {
    fs.mkdirSync(path.dirname(secretsFile), { recursive: true });
    fs.appendFileSync(secretsFile, `${lines.join('\n')}\n`);
  }
  return secrets[0];
}
