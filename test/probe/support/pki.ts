/**
 * A throw-away PKI made with the openssl command: a root CA, an intermediate and leaf certificates,
 * so tests see real chains (and can verify them against the root as a --ca-file).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Leaf {
  key: string;
  cert: string;
}

export interface TestPki {
  dir: string;
  rootPem: string;
  intermediatePem: string;
  /** Leaf for `name`, signed by the intermediate; `ec` for a P-256 key. */
  leaf(name: string, options?: { ec?: boolean; days?: number }): Leaf;
  selfSigned(name: string): Leaf;
}

function openssl(dir: string, args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'probe-pki-'));
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', '/O=Probe Test/CN=Probe Test Root', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/O=Probe Test/CN=Probe Test Intermediate']);
  openssl(dir, ['x509', '-req', '-in', 'int.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'int.pem', '-days', '30', '-extfile', 'ca.ext']);
  let n = 0;
  return {
    dir,
    rootPem: readFileSync(join(dir, 'root.pem'), 'utf8'),
    intermediatePem: readFileSync(join(dir, 'int.pem'), 'utf8'),
    leaf(name, options = {}) {
      const id = `leaf${n++}`;
      const keyArgs = options.ec ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
      writeFileSync(join(dir, `${id}.ext`), `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:false\n`);
      openssl(dir, ['req', ...keyArgs, '-nodes', '-keyout', `${id}.key`, '-out', `${id}.csr`, '-subj', `/CN=${name}`]);
      openssl(dir, ['x509', '-req', '-in', `${id}.csr`, '-CA', 'int.pem', '-CAkey', 'int.key', '-CAcreateserial', '-out', `${id}.pem`, '-days', String(options.days ?? 30), '-extfile', `${id}.ext`]);
      return { key: readFileSync(join(dir, `${id}.key`), 'utf8'), cert: readFileSync(join(dir, `${id}.pem`), 'utf8') };
    },
    selfSigned(name) {
      const id = `self${n++}`;
      openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${id}.key`, '-out', `${id}.pem`, '-days', '30', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`]);
      return { key: readFileSync(join(dir, `${id}.key`), 'utf8'), cert: readFileSync(join(dir, `${id}.pem`), 'utf8') };
    },
  };
}
