/**
 * A certificate for `--https` without one of your own: a throwaway certificate authority and a
 * server certificate it signs, for the names the mock answers to. Clients trust the CA (printed,
 * or written with --write-ca; e.g. NODE_EXTRA_CA_CERTS), never the server certificate itself.
 * node:crypto makes the keys; node-forge (no dependencies of its own) writes and signs the X.509
 * certificates, which node:crypto cannot.
 */
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface GeneratedTls {
  /** The CA certificate clients should trust (PEM). */
  ca: string;
  /** The server certificate followed by the CA: the chain the server presents (PEM). */
  cert: string;
  /** The server's private key (PEM, PKCS#8). */
  key: string;
}

const DAY_MS = 86_400_000;

function rsaKeys() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
    privateKey,
  };
}

/** Signs with node:crypto (native RSA; forge's own is JavaScript and takes seconds on a busy machine). */
function signWith(cert: forge.pki.Certificate, key: KeyObject): void {
  const oid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.siginfo.algorithmOid = oid;
  cert.signatureOid = oid;
  // getTBSCertificate is public in node-forge, missing from its type declarations.
  const { getTBSCertificate } = forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 };
  const tbs = Buffer.from(forge.asn1.toDer(getTBSCertificate(cert)).getBytes(), 'binary');
  cert.signature = sign('sha256', tbs, key).toString('binary');
}

function serial(): string {
  // Positive, 128 bits (RFC 5280 §4.1.2.2: unique, at most 20 octets).
  return `7${randomBytes(16).toString('hex').slice(1)}`;
}

/**
 * A CA and a server certificate for `hosts` (names and IP addresses: each becomes a
 * subjectAltName), valid from an hour ago for `days` days.
 */
export function generateTls(hosts: readonly string[], days = 30, now = new Date()): GeneratedTls {
  if (hosts.length === 0) throw new TypeError('generateTls: at least one host name or address');
  const notBefore = new Date(now.getTime() - 3_600_000);
  const notAfter = new Date(now.getTime() + days * DAY_MS);

  const caKeys = rsaKeys();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  ca.validity.notBefore = notBefore;
  ca.validity.notAfter = notAfter;
  const caName = [{ name: 'commonName', value: `refresh-conformance mock IdP CA ${randomBytes(4).toString('hex')}` }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signWith(ca, caKeys.privateKey);

  const serverKeys = rsaKeys();
  const server = forge.pki.createCertificate();
  server.publicKey = serverKeys.publicKey;
  server.serialNumber = serial();
  server.validity.notBefore = notBefore;
  server.validity.notAfter = notAfter;
  server.setSubject([{ name: 'commonName', value: hosts[0]! }]);
  server.setIssuer(caName);
  const altNames = [...new Set(hosts)].map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h }));
  server.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signWith(server, caKeys.privateKey);

  const caPem = forge.pki.certificateToPem(ca);
  return { ca: caPem, cert: forge.pki.certificateToPem(server) + caPem, key: serverKeys.pem };
}
