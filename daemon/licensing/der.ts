/**
 * The few facts of an X.509 certificate that node:crypto's X509Certificate
 * does not expose (signature algorithms, keyUsage bits, basic constraints,
 * extended key usage, critical extensions, validity), read from its DER with a
 * strict reader: definite minimal lengths, nothing after the certificate.
 */
class DerError extends Error {}

interface Tlv {
  tag: number;
  /** Offset of the content. */
  at: number;
  end: number;
}

function tlv(buf: Buffer, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag number');
  let len = buf[pos + 1]!;
  let at = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || at + n > limit) throw new DerError('bad length');
    if (buf[at] === 0) throw new DerError('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + i]!;
    if (len < 0x80) throw new DerError('non-minimal length');
    at += n;
  }
  const end = at + len;
  if (end > limit) throw new DerError('truncated');
  return { tag, at, end };
}

function kids(buf: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.at; p < t.end; ) {
    const c = tlv(buf, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what} missing`);
  return t;
}

function oidString(bytes: Buffer): string {
  if (bytes.length === 0) throw new DerError('empty OID');
  // BigInt: arcs under 2.25 (UUIDs) have 128 bits.
  const parts: bigint[] = [];
  let v = 0n;
  let fresh = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (fresh && b === 0x80) throw new DerError('non-minimal OID');
    v = (v << 7n) | BigInt(b & 0x7f);
    fresh = !(b & 0x80);
    if (fresh) {
      parts.push(v);
      v = 0n;
    }
    if (parts.length > 32 || (!fresh && v > 1n << 160n)) throw new DerError('OID too large');
  }
  if (!fresh) throw new DerError('truncated OID');
  const first = parts.shift()!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...parts].join('.');
}

function time(buf: Buffer, t: Tlv): number {
  const s = buf.toString('latin1', t.at, t.end);
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : t.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null;
  if (!m) throw new DerError('bad time');
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (new Date(ms).getUTCDate() !== Number(m[3])) throw new DerError('bad time');
  return ms;
}

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

export interface CertFacts {
  /** The signature algorithm (the copy inside the signed part; the outer one must be identical). */
  signatureAlgorithm: string;
  notBefore: number;
  notAfter: number;
  ca: boolean;
  keyUsage: { digitalSignature: boolean; keyCertSign: boolean } | null;
  extKeyUsage: string[] | null;
  /** Critical extensions this reader does not know (a verifier must refuse the certificate). */
  unknownCritical: string[];
}

export function certFacts(der: Buffer): CertFacts {
  const cert = tlv(der, 0, der.length);
  if (cert.tag !== 0x30 || cert.end !== der.length) throw new DerError('not one certificate');
  const [tbs, outerAlg, sig, ...rest] = kids(der, cert);
  expect(tbs, 0x30, 'tbsCertificate');
  expect(outerAlg, 0x30, 'signatureAlgorithm');
  expect(sig, 0x03, 'signatureValue');
  if (rest.length) throw new DerError('extra fields');
  const t = kids(der, tbs!);
  let i = 0;
  if (t[i]?.tag === 0xa0) i++;
  expect(t[i++], 0x02, 'serialNumber');
  const innerAlg = expect(t[i++], 0x30, 'signature');
  if (!der.subarray(innerAlg.at, innerAlg.end).equals(der.subarray(outerAlg!.at, outerAlg!.end))) throw new DerError('the two signature algorithms differ');
  const algOid = expect(kids(der, innerAlg)[0], 0x06, 'algorithm');
  expect(t[i++], 0x30, 'issuer');
  const validity = kids(der, expect(t[i++], 0x30, 'validity'));
  if (validity.length !== 2) throw new DerError('bad validity');
  expect(t[i++], 0x30, 'subject');
  expect(t[i++], 0x30, 'subjectPublicKeyInfo');
  const facts: CertFacts = {
    signatureAlgorithm: oidString(der.subarray(algOid.at, algOid.end)),
    notBefore: time(der, validity[0]!),
    notAfter: time(der, validity[1]!),
    ca: false,
    keyUsage: null,
    extKeyUsage: null,
    unknownCritical: [],
  };
  const seen = new Set<string>();
  for (; i < t.length; i++) {
    if (t[i]!.tag !== 0xa3) continue;
    for (const ext of kids(der, expect(kids(der, t[i]!)[0], 0x30, 'extensions'))) {
      const parts = kids(der, ext);
      const id = oidString(der.subarray(expect(parts[0], 0x06, 'extnID').at, parts[0]!.end));
      if (seen.has(id)) throw new DerError(`extension ${id} appears twice`);
      seen.add(id);
      const critical = parts.length === 3 && parts[1]!.tag === 0x01 && der[parts[1]!.at] !== 0;
      const value = expect(parts[parts.length - 1], 0x04, 'extnValue');
      const inner = tlv(der, value.at, value.end);
      if (inner.end !== value.end) throw new DerError('bytes after an extension value');
      if (id === OID.basicConstraints) {
        const bc = kids(der, expect(inner, 0x30, 'basicConstraints'));
        facts.ca = bc[0]?.tag === 0x01 && der[bc[0].at] !== 0;
      } else if (id === OID.keyUsage) {
        expect(inner, 0x03, 'keyUsage');
        const first = inner.end - inner.at > 1 ? der[inner.at + 1]! : 0;
        facts.keyUsage = { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 };
      } else if (id === OID.extKeyUsage) {
        facts.extKeyUsage = kids(der, expect(inner, 0x30, 'extKeyUsage')).map((o) => oidString(der.subarray(expect(o, 0x06, 'keyPurposeId').at, o.end)));
      } else if (critical && id !== OID.subjectKeyIdentifier && id !== OID.authorityKeyIdentifier) {
        facts.unknownCritical.push(id);
      }
    }
  }
  return facts;
}
