import { XMLBuilder } from 'fast-xml-parser';
import type { ZoneRule } from '../time-zone.js';

/**
 * What a vendor module is: everything pbxd knows about one family of phones.
 * The pipeline (provisioning/pipeline.ts) asks the modules of the vendor list
 * (./index.ts) who is asking, and calls the one that answers for the rest.
 * A module imports no daemon code at run time (types only), so the vendor list
 * can be read by the domain core.
 */

/** Appliance settings that go into every configuration. */
export interface ProvisioningSettings {
  registrar: string;
  sipPort: number;
  /** SIP transport the phones use to register: pbxd's registrar listens on UDP. */
  transport: 'udp';
  zone: ZoneRule;
  ntpServer: string;
  /** ISO 639-1 code, e.g. "de". */
  language: string;
  /** http://<address>:<port> of the provisioning HTTP port, for files that name other files. */
  baseUrl: string;
}

/** The values of the device's line that go into its configuration. */
export interface LineValues {
  line: number;
  displayName: string;
  sipUser: string;
  sipPassword: string;
  /**
   * The PIN a DECT handset enters to subscribe to its base: the last four
   * digits of the line's extension (0-padded), so the user can be told it.
   */
  accessCode: string;
}

export const accessCodeOf = (sipUser: string): string => sipUser.replace(/\D/g, '').slice(-4).padStart(4, '0');

export function lineValues(d: { line: number; displayName: string; sipUser: string; sipPassword: string }): LineValues {
  return { line: d.line, displayName: d.displayName, sipUser: d.sipUser, sipPassword: d.sipPassword, accessCode: accessCodeOf(d.sipUser) };
}

/** A file as sent: a string body (one write with the headers), its byte length and type. */
export interface Rendered {
  body: string;
  bytes: number;
  type: string;
}

export const rendered = (body: string, type: string): Rendered => ({ body, bytes: Buffer.byteLength(body), type });
export const XML_TYPE = 'text/xml; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
const XML_DECL = { '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' } };

/** An XML document from fast-xml-parser's object form (attributes as "@_name"); values are escaped. */
export function xml(doc: Record<string, unknown>, decl = true): string {
  return builder.build(decl ? { ...XML_DECL, ...doc } : doc) as string;
}

export const asXml = (doc: Record<string, unknown>, decl = true): Rendered => rendered(xml(doc, decl), XML_TYPE);

/** Text formats cannot escape: a value never spans lines. */
export const oneLine = (v: string | number): string => String(v).replace(/[\r\n]+/g, ' ');

export const ntpOf = (s: ProvisioningSettings): string => s.ntpServer || s.registrar;

/** The device-table family: the license rule and the admin's vendor filter go by it. */
export type Vendor = 'cisco' | 'unify' | 'gigaset' | 'yealink' | 'snom';

/**
 * What a request is for.
 * - config: the device's own configuration (its line's credentials; takes a support license where the vendor needs one)
 * - index: a device-specific file that only names other files (no credentials)
 * - common: a MAC-less file, the same for every phone
 * - absent: a file this appliance does not have (signed variants, trust lists): 404, the phone goes on
 * - dialogue: a message of a protocol with several steps (Unify WPI)
 */
export type FileKind = 'config' | 'index' | 'common' | 'absent' | 'dialogue';

/** The request as the modules see it. */
export interface RequestFacts {
  /** Decoded path without the query, e.g. "/SEP00562B043615.cnf.xml". */
  path: string;
  /** The path without its leading slash. */
  file: string;
  /** `file` in lower case. */
  lower: string;
  /** The `mac` query parameter, if any. */
  macParam: string | null;
  userAgent: string;
}

/** What the User-Agent says, when a module knows its form. */
export interface AgentFacts {
  model: string;
  firmware: string;
  /** As written in the User-Agent (normalised by the pipeline), or null. */
  mac: string | null;
}

/** A request a module takes. */
export interface Recognised {
  kind: FileKind;
  /** The MAC as written in the path or query, or null for MAC-less files. */
  mac: string | null;
  /** The file's name (common, absent, index files). */
  name: string;
  /**
   * True when the path alone does not say which vendor it is (`<mac>.xml`):
   * the module takes it only for a device the table already records as its own.
   */
  shared?: boolean;
}

/** A device's eligibility for its configuration, answered once per request. */
export type Eligibility = 'blocked' | 'unassigned' | 'needs-license' | 'licensed';

/** Where the phone is told to fetch from (see `VendorSecurity.setting`). */
interface ProvisioningUrls {
  /** The appliance's address or name as phones reach it. */
  host: string;
  /** http://host:6970/<key> and https://host:6971/<key> (no trailing slash). */
  http: string;
  https: string;
  wpiPort: number;
}

/** Which protections the family's firmware allows (provisioning/security). */
interface VendorSecurity {
  /** The admin gives the phone a provisioning URL, so it can carry the site key. */
  keyInUrl: boolean;
  /** The phone can fetch its configuration over TLS (HTTPS or WPI). */
  tls: boolean;
  /** The firmware answers an HTTP digest challenge with provisioning credentials the admin sets. */
  digest: boolean;
  /** What the admin sets on the phone (or in DHCP), and the value. */
  setting(u: ProvisioningUrls): { where: { en: string; de: string }; value: string };
}

export interface VendorModule {
  /** Stable id, e.g. "cisco-mpp"; the metrics label and the template key. */
  id: string;
  vendor: Vendor;
  security: VendorSecurity;
  /** The support license code a device takes on its first configuration, or null (DECT bases). */
  license: string | null;
  /** For a family with several modules: whether a recorded device of the family is this module's. */
  owns?(model: string): boolean;
  /** What the User-Agent says, or null when it is not this vendor's. */
  agent(userAgent: string): AgentFacts | null;
  /** The request, if it is one of this vendor's files; `agent` is this module's reading of the User-Agent, or null. */
  recognise(req: RequestFacts, agent: AgentFacts | null): Recognised | null;
  /**
   * Refuse a device's configuration to a request without this vendor's
   * User-Agent (a browser or a script asking for a MAC's profile).
   */
  configNeedsAgent?: boolean;
  /** The device's configuration (kind "config"), built in full from its line. */
  render?(l: LineValues, s: ProvisioningSettings): Rendered;
  /** A device-specific file that only names other files (kind "index"). */
  renderIndex?(name: string, mac: string, s: ProvisioningSettings): Rendered | null;
  /** MAC-less files by lower-case name. */
  commonFiles?(s: ProvisioningSettings): Map<string, Rendered>;
  /** For a protocol of several messages (kind "dialogue"): its state, one per server. */
  dialogue?(): Dialogue;
}

/** A refusal of bad input, before anything is looked up or recorded. */
export type Rejection = { status: number; code: string; detail: string; miss: boolean };

/** A protocol of several messages, each possibly on a new connection (Unify WPI). */
export interface Dialogue {
  /** Content types its messages come as. */
  contentTypes: RegExp;
  /** Read one message: what it asks, or why it is refused. */
  turn(body: string, cookieHeader: string | undefined): DialogueTurn | ({ ok: false } & Rejection);
}

export interface DialogueTurn {
  ok: true;
  /** The phone's MAC as stated. */
  mac: string;
  model: string;
  firmware: string;
  /** Not this vendor's device: answered with `answer(false)`, nothing looked up or recorded. */
  foreign: boolean;
  /** Whether the device's eligibility decides the answer (a closing message does not need it). */
  needsDevice: boolean;
  /** Whether this answer hands out the configuration (a support license is taken before). */
  configures: boolean;
  /** A name for the history, e.g. "ReadAllItems". */
  label: string;
  headers: Record<string, string>;
  /** The answer: the next step for an eligible device (with its line when `configures`), a polite end otherwise. */
  answer(eligible: boolean, line: LineValues | null, s: ProvisioningSettings): Rendered;
}

/** A device's module: the one of its family that owns its model (or the family's only one). */
export function moduleOf(modules: readonly VendorModule[], d: { vendor: string; model: string }): VendorModule | undefined {
  return modules.find((m) => m.vendor === d.vendor && (!m.owns || m.owns(d.model)));
}
