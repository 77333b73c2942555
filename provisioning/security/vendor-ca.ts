import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Core } from '../../daemon/core/core.js';
import { defineRefusals, entry, fixed } from '../../daemon/kernel/refusal.js';
import type { VendorModule } from '../vendors/vendor.js';

const vendorCaRefuse = defineRefusals({
  PROVSEC_VENDOR_UNKNOWN: entry<{ module: string; known: string }>(404,
    (d) => ({ en: `No vendor module "${d.module}"; known: ${d.known}.`, de: `Kein Herstellermodul "${d.module}"; bekannt: ${d.known}.` }),
    fixed({ en: 'Use the module name pbxctl provisioning urls shows.', de: 'Verwenden Sie den Modulnamen, den pbxctl provisioning urls zeigt.' })),
  PROVSEC_CA_INVALID: entry<{ problem: string }>(400,
    (d) => ({ en: `Not a device CA certificate: ${d.problem}.`, de: `Kein Geräte-CA-Zertifikat: ${d.problem}.` }),
    fixed({ en: 'Send the vendor\'s device CA as one PEM certificate (BEGIN CERTIFICATE) with CA:TRUE.', de: 'Senden Sie die Geräte-CA des Herstellers als ein PEM-Zertifikat (BEGIN CERTIFICATE) mit CA:TRUE.' })),
});

interface InstalledCa {
  pem: string;
  fingerprint: string;
  subject: string;
}

/** MACs a certificate names (subject and subject alternative names), as 12 lower-case hex digits. */
function macsNamed(cert: { subject?: string; subjectAltName?: string }): string[] {
  const text = `${cert.subject ?? ''} ${cert.subjectAltName ?? ''}`;
  return [...text.matchAll(/(?<![0-9a-f])(?:[0-9a-f]{2}[:-]?){5}[0-9a-f]{2}(?![0-9a-f])/gi)].map((m) => m[0].replace(/[^0-9a-f]/gi, '').toLowerCase());
}

/**
 * Vendors' device CAs (factory certificates), one PEM per vendor module in
 * <dataDir>/tls/vendor-ca/<module>.pem. With one installed, the HTTPS and WPI
 * listeners ask every client for a certificate (without refusing those that
 * have none: other vendors' phones), and that vendor's credentials go only to a
 * client whose certificate chains to its CA and names the MAC asked for.
 */
export class VendorCas {
  private readonly cas = new Map<string, InstalledCa>();
  private servers: Array<{ server: TlsServer; key: string; cert: string }> = [];
  private readonly dir: string;

  constructor(private readonly core: Core, private readonly modules: readonly VendorModule[]) {
    this.dir = join(core.config.dataDir, 'tls', 'vendor-ca');
  }

  load(): void {
    this.cas.clear();
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir)) {
      const id = f.replace(/\.pem$/, '');
      if (!f.endsWith('.pem') || !this.modules.some((m) => m.id === id)) continue;
      try {
        this.cas.set(id, parseCa(readFileSync(join(this.dir, f), 'utf8')));
      } catch (e) {
        this.core.log.error('ignoring a vendor device CA that does not parse', { file: f, error: String(e) });
      }
    }
  }

  /** The TLS listeners whose client certificate request follows the installed CAs. */
  attach(servers: Array<{ server: TlsServer; key: string; cert: string }>): void {
    this.servers = servers;
    this.apply();
  }

  private apply(): void {
    const ca = [...this.cas.values()].map((c) => c.pem);
    for (const s of this.servers) {
      s.server.setSecureContext({ key: s.key, cert: s.cert, ...(ca.length ? { ca } : {}) });
      // Read per new connection by node's TLS server: ask for a certificate only while a vendor CA is installed.
      Object.assign(s.server, { requestCert: ca.length > 0, rejectUnauthorized: false });
    }
  }

  list(): Array<{ module: string; subject: string; fingerprint: string }> {
    return [...this.cas].map(([module, c]) => ({ module, subject: c.subject, fingerprint: c.fingerprint }));
  }

  has(moduleId: string): boolean {
    return this.cas.has(moduleId);
  }

  private mustModule(id: string): void {
    if (!this.modules.some((m) => m.id === id)) throw vendorCaRefuse('PROVSEC_VENDOR_UNKNOWN', { module: id.slice(0, 40), known: this.modules.map((m) => m.id).join(', ') });
  }

  async install(moduleId: string, pem: string, by: string): Promise<{ module: string; subject: string; fingerprint: string }> {
    this.mustModule(moduleId);
    let ca: InstalledCa;
    try {
      ca = parseCa(pem);
    } catch (e) {
      throw vendorCaRefuse('PROVSEC_CA_INVALID', { problem: (e as Error).message.slice(0, 120) });
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    const file = join(this.dir, `${moduleId}.pem`);
    writeFileSync(`${file}.new`, ca.pem, { mode: 0o644 });
    await this.core.store.write((tx) => this.core.audit.append(tx, by, 'provisioning.vendorca.install', moduleId, { subject: ca.subject, fingerprint: ca.fingerprint }));
    renameSync(`${file}.new`, file);
    this.cas.set(moduleId, ca);
    this.apply();
    return { module: moduleId, subject: ca.subject, fingerprint: ca.fingerprint };
  }

  async remove(moduleId: string, by: string): Promise<void> {
    this.mustModule(moduleId);
    if (!this.cas.has(moduleId)) return;
    await this.core.store.write((tx) => this.core.audit.append(tx, by, 'provisioning.vendorca.remove', moduleId, {}));
    unlinkSync(join(this.dir, `${moduleId}.pem`));
    this.cas.delete(moduleId);
    this.apply();
  }

  /** Why the request's client certificate does not entitle it to `mac`'s credentials, or null when it does. */
  refusal(moduleId: string, socket: TLSSocket, encrypted: boolean, mac: string): string | null {
    const ca = this.cas.get(moduleId);
    if (!ca) return null;
    if (!encrypted) return 'plain HTTP cannot carry a client certificate';
    if (!socket.authorized) return `no client certificate that a device CA signed (${String(socket.authorizationError ?? 'none sent')})`;
    let cert = socket.getPeerCertificate(true);
    const leaf = cert;
    let chained = false;
    for (let i = 0; cert && i < 10; i++) {
      if (cert.fingerprint256 === ca.fingerprint) chained = true;
      if (!cert.issuerCertificate || cert.issuerCertificate === cert) break;
      cert = cert.issuerCertificate;
    }
    if (!chained) return 'the client certificate chains to another vendor\'s CA';
    const named = macsNamed({ subject: Object.values(leaf.subject ?? {}).join(' '), subjectAltName: leaf.subjectaltname });
    if (!named.includes(mac)) return `the client certificate names ${named.join(', ') || 'no MAC'}, not ${mac}`;
    return null;
  }
}

function parseCa(pem: string): InstalledCa {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('no PEM certificate');
  const x = new X509Certificate(m[0]);
  if (!x.ca) throw new Error('not a CA certificate (basicConstraints CA:TRUE missing)');
  return { pem: `${m[0]}\n`, fingerprint: x.fingerprint256, subject: x.subject.replace(/\n/g, ', ') };
}
