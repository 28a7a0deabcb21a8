import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { ensureDebianPackage, run } from './child-process';

const OPENSSL = '/usr/bin/openssl';

export interface TestCertificates {
  /** PEM of the self-signed CA; pass it as `ca` to trust the server certificate. */
  caCertPem: string;
  caCertPath: string;
  certPath: string;
  keyPath: string;
}

/**
 * Writes a throw-away CA and a server certificate signed by it into `dir`. The server
 * certificate names every entry of `names` (DNS names or IP addresses) in its SAN, so that
 * both `servername: 'localhost'` and connecting to the bare IP verify.
 */
export async function createTestCertificates(
  dir: string,
  names: readonly string[] = ['localhost', '127.0.0.1'],
): Promise<TestCertificates> {
  await ensureDebianPackage('openssl', OPENSSL);
  await mkdir(dir, { recursive: true });
  const file = (name: string) => path.join(dir, name);
  // EC keys: RSA key generation costs up to a second per key on a slow CI machine.
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  await run(OPENSSL, [
    'req', '-x509', ...ecKey,
    '-keyout', file('ca.key'), '-out', file('ca.crt'),
    '-subj', '/CN=Mailferry Test CA', '-days', '7',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run(OPENSSL, [
    'req', '-new', ...ecKey,
    '-keyout', file('server.key'), '-out', file('server.csr'),
    '-subj', `/CN=${names[0] ?? 'localhost'}`,
  ]);
  const san = names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
  await writeFile(
    file('server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${san}`,
      '',
    ].join('\n'),
  );
  await run(OPENSSL, [
    'x509', '-req', '-in', file('server.csr'),
    '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.crt'), '-days', '7', '-extfile', file('server.ext'),
  ]);

  return {
    caCertPem: await readFile(file('ca.crt'), 'utf8'),
    caCertPath: file('ca.crt'),
    certPath: file('server.crt'),
    keyPath: file('server.key'),
  };
}
