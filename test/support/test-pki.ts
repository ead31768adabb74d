import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM certificate with its private key. */
export interface TestKeyPair {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** A private CA made for one test file, and certificates it signs. */
export interface TestPki {
  readonly caPem: string;
  /** A server certificate for 127.0.0.1 and localhost. */
  readonly server: TestKeyPair;
  /** A client certificate (extendedKeyUsage clientAuth) for mTLS. */
  readonly client: TestKeyPair;
  /** A second CA, trusted by nobody, with a client certificate: what a stranger would present. */
  readonly strangerClient: TestKeyPair;
}

/**
 * Makes a CA and its leaf certificates with the openssl CLI (on every Debian machine), with
 * P-256 keys so that it takes a few milliseconds. Nothing is kept on disk afterwards.
 */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-pki-'));
  try {
    const ca = makeCa(dir, 'ca', 'Rotor Test CA');
    makeCa(dir, 'stranger', 'Stranger CA');
    return {
      caPem: ca.certificatePem,
      server: makeLeaf(dir, 'ca', 'server', '127.0.0.1', [
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        'extendedKeyUsage=serverAuth',
      ]),
      client: makeLeaf(dir, 'ca', 'client', 'rotor-rotation', ['extendedKeyUsage=clientAuth']),
      strangerClient: makeLeaf(dir, 'stranger', 'stranger-client', 'stranger', ['extendedKeyUsage=clientAuth']),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKey(dir: string, name: string): void {
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);
}

function makeCa(dir: string, name: string, commonName: string): TestKeyPair {
  newKey(dir, name);
  openssl(dir, [
    'req', '-x509', '-new', '-key', `${name}.key`, '-sha256', '-days', '2', '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', `${name}.pem`,
  ]); // prettier-ignore
  return read(dir, name);
}

function makeLeaf(dir: string, ca: string, name: string, commonName: string, extensions: string[]): TestKeyPair {
  newKey(dir, name);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${commonName}`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.pem`,
  ]); // prettier-ignore
  return read(dir, name);
}

function read(dir: string, name: string): TestKeyPair {
  return {
    certificatePem: readFileSync(join(dir, `${name}.pem`), 'utf8'),
    privateKeyPem: readFileSync(join(dir, `${name}.key`), 'utf8'),
  };
}
