import { expect } from 'chai';
import { armour, canonicalJson, encodeLicenseFile, FormatError, parseLicenseFile, type ParsedLicenseFile } from '../daemon/licensing/format.js';

/** The license file's blocks as the issuer writes them; the signature is checked by the verifier, not here. */
const file: ParsedLicenseFile = {
  payloadBytes: Buffer.from(canonicalJson({ licenseId: 'LIC-1', codes: { seats: 25 }, formatVersion: 1 }).repeat(3)),
  signature: Buffer.alloc(256, 7),
  certificates: [armour('CERTIFICATE', Buffer.alloc(90, 1)), armour('CERTIFICATE', Buffer.alloc(40, 2))],
};
const text = encodeLicenseFile(file);

function formatError(input: string): { kind: string; message: string } {
  try {
    parseLicenseFile(input);
  } catch (e) {
    if (e instanceof FormatError) return { kind: e.kind, message: e.message };
    throw e;
  }
  throw new Error('parsed without complaint');
}

describe('license file format (no daemon)', () => {
  it('reads back what the issuer wrote, block for block', () => {
    const parsed = parseLicenseFile(text);
    expect(parsed.payloadBytes.equals(file.payloadBytes)).to.equal(true);
    expect(parsed.signature.equals(file.signature)).to.equal(true);
    expect(parsed.certificates).to.deep.equal(file.certificates);
    expect(text.split('\n').every((l) => l.length <= 64)).to.equal(true);
  });

  it('accepts what a mail client does to a file: CRLF, mixed endings, a BOM, trailing blanks, text around it', () => {
    // The signature covers the payload's bytes, not the armour's line breaks.
    for (const mangled of [text.replace(/\n/g, '\r\n'), text.replace('\n', '\r\n'), '\ufeff' + text, text.replace(/\n/g, '  \n'), `Hello,\nhere is your license:\n\n${text}\nRegards\n`]) {
      expect(parseLicenseFile(mangled).payloadBytes.equals(file.payloadBytes)).to.equal(true);
    }
  });

  it('says what is wrong with a broken file', () => {
    expect(formatError('  \n')).to.deep.include({ kind: 'empty' });
    expect(formatError(text.replace(/^([A-Za-z0-9+/]{10})/m, '$1!!'))).to.deep.equal({ kind: 'malformed', message: 'block PBXD LICENSE is not base64 in 64 columns' });
    const lines = text.split('\n');
    const cut = lines.indexOf('-----END PBXD LICENSE SIGNATURE-----');
    expect(formatError(lines.slice(0, cut + 1).join('\n') + '\n')).to.deep.equal({ kind: 'truncated', message: 'the certificate block is missing' });
    expect(formatError(lines.slice(0, 3).join('\n') + '\n').kind).to.equal('truncated');
    expect(formatError(armour('CERTIFICATE', Buffer.alloc(10)) + text)).to.deep.equal({ kind: 'malformed', message: 'it does not start with a license block' });
  });

  it('refuses base64 that is not in 64 columns or not canonical', () => {
    const lines = text.split('\n');
    expect(formatError([lines[0], lines[1]! + lines[2]!, ...lines.slice(3)].join('\n')).message).to.equal('block PBXD LICENSE is not base64 in 64 columns');
    // "QQ==" and "QR==" both decode to "A"; only the first is canonical, so a flipped bit cannot hide in the padding.
    const afterLicense = text.slice(text.indexOf('-----END PBXD LICENSE-----\n') + '-----END PBXD LICENSE-----\n'.length);
    expect(parseLicenseFile(`-----BEGIN PBXD LICENSE-----\nQQ==\n-----END PBXD LICENSE-----\n${afterLicense}`).payloadBytes.toString()).to.equal('A');
    expect(formatError(`-----BEGIN PBXD LICENSE-----\nQR==\n-----END PBXD LICENSE-----\n${afterLicense}`).message).to.equal('block PBXD LICENSE is not canonical base64');
  });
});

describe('canonical JSON: what the issuer signs (no daemon)', () => {
  it('sorts keys at every depth and leaves out undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined }, e: null })).to.equal('{"a":{"d":[3,{"y":2,"z":1}]},"b":1,"e":null}');
  });

  it('gives the same text however the keys were ordered', () => {
    expect(canonicalJson({ licenseId: 'L', codes: { seats: 5, 'devices.cisco': 2 } })).to.equal(canonicalJson({ codes: { 'devices.cisco': 2, seats: 5 }, licenseId: 'L' }));
  });

  it('escapes strings as JSON does', () => {
    expect(canonicalJson({ 'ä"': 'a\nb' })).to.equal('{"ä\\"":"a\\nb"}');
  });
});
