// A throw-away PKI for the TLS tests, made with the `openssl` command during the run:
// CAs, server certificates and charger client certificates (docs/security.md shows
// the same commands for operators). Every private key's first base64 line is recorded
// as a secret used, so the end-of-run log grep can look for it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './stack.mjs';

// The secret-log contract shared by the security tests: every secret a test uses
// (passwords, tokens, the first base64 line of private keys) is appended, one per line,
// to GENX_TEST_SECRETS_FILE (default build/test-artifacts/secrets-used.txt); the end of
// the test run greps every process log for them.
export const secretsFile = process.env.GENX_TEST_SECRETS_FILE
  || path.join(repoRoot, 'build', 'test-artifacts', 'secrets-used.txt');

export function recordSecret(secret) {
  if (!secret) return;
  fs.mkdirSync(path.dirname(secretsFile), { recursive: true });
  fs.appendFileSync(secretsFile, `${secret}\n`);
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export class TestPki {
  constructor(dir) {
    this.dir = dir;
    fs.mkdirSync(dir, { recursive: true });
    this.serial = 1000;
  }

  file(name) {
    return path.join(this.dir, name);
  }

  key(name) {
    const keyFile = this.file(`${name}.key`);
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], this.dir);
    recordSecret(fs.readFileSync(keyFile, 'utf8').split('\n')[1]);
    return keyFile;
  }

  // A self-signed CA: {cert, key}.
  ca(name) {
    const key = this.key(name);
    const cert = this.file(`${name}.crt`);
    openssl(['req', '-x509', '-new', '-key', key, '-sha256', '-days', '30', '-subj', `/O=GenX test/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-out', cert], this.dir);
    return { name, cert, key };
  }

  // A leaf certificate signed by ca. kind: 'server' (SAN localhost, 127.0.0.1) or
  // 'client'. validity: {days} or {start, end} (YYYYMMDDHHMMSSZ, e.g. an expired one).
  issue(ca, name, cn, kind, validity = { days: 30 }) {
    const key = this.key(name);
    const csr = this.file(`${name}.csr`);
    const cert = this.file(`${name}.crt`);
    openssl(['req', '-new', '-key', key, '-subj', `/O=GenX test/CN=${cn}`, '-out', csr], this.dir);
    const ext = this.file(`${name}.ext`);
    fs.writeFileSync(ext, kind === 'server'
      ? 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n'
      : 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n');
    if (validity.days) {
      openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(++this.serial),
        '-days', String(validity.days), '-sha256', '-extfile', ext, '-out', cert], this.dir);
    } else {
      // `openssl x509` of OpenSSL 3.0 cannot set dates in the past: `openssl ca` can.
      const db = this.file(`${name}.db`);
      fs.writeFileSync(db, '');
      const conf = this.file(`${name}.cnf`);
      fs.writeFileSync(conf, [
        '[ca]', 'default_ca = test', '[test]', `database = ${db}`, `new_certs_dir = ${this.dir}`,
        `serial = ${this.file(`${name}.serial`)}`, 'default_md = sha256', 'policy = any', 'unique_subject = no',
        'copy_extensions = none', '[any]', 'commonName = supplied', 'organizationName = optional', '',
      ].join('\n'));
      fs.writeFileSync(this.file(`${name}.serial`), `${(++this.serial).toString(16).padStart(4, '0')}\n`);
      openssl(['ca', '-batch', '-config', conf, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert,
        '-startdate', validity.start, '-enddate', validity.end, '-extfile', ext, '-notext'], this.dir);
    }
    return { name, cn, cert, key };
  }
}
