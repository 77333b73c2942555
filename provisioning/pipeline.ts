import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Core } from '../daemon/core/core.js';
import { Counter, Histogram } from '../daemon/kernel/metrics.js';
import { sourceKey } from '../daemon/core/login-throttle.js';
import { normalizeMac, type DeviceRecord, type Devices, type Outcome } from '../daemon/core/devices.js';
import { cleanPath, identify, type Identified, type Rejection } from './identify.js';
import { DeviceConfigs, renderCommon } from './render.js';
import { provRefuse, type ProvCode } from './refusals.js';
import { VENDOR_MODULES, moduleOfDevice } from './vendors/index.js';
import { lineValues, rendered, TEXT_TYPE, type Dialogue, type DialogueTurn, type Eligibility, type ProvisioningSettings, type Rendered, type VendorModule } from './vendors/vendor.js';

/** A device's "served" outcome enters the history at most this often (a boot is many requests). */
const SERVED_EVENT_EVERY_MS = 60_000;

type RequestOutcome = Outcome | 'absent';

/** One request on its way through the stages. */
export interface Exchange {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly t0: number;
  readonly ip: string;
  /** The listener the request came in on: its bound port, and whether it is TLS. */
  readonly listener: ListenerFacts;
  /** Set by "clean". */
  path: string;
  macParam: string | null;
  /** Set by "identify". */
  who: Identified | null;
  /** Set by "identify" for a dialogue message. */
  turn: DialogueTurn | null;
  /** Set by "look up". */
  device: DeviceRecord | null;
  /** Set by "gate". */
  eligibility: Eligibility | null;
  /** Set by "claim": the device took its support license with this request. */
  newly: boolean;
  /** Set by "render". */
  file: Rendered | null;
  /** Set by the security stages: the site key the path carried ("current" or a rotated-out one still valid). */
  key: 'current' | 'previous' | null;
  /** Set by the security stages: where files that name other files point (keeps the key and the scheme). */
  baseUrl: string | null;
  /** Set by the security stages: answer, but do not note the device as seen (an address it is not locked to). */
  quiet: boolean;
}

/** What a request's listener is, known once it is bound (read per request, not asked of the socket). */
export interface ListenerFacts {
  port: number;
  encrypted: boolean;
}

/** A stage answers the request (returns DONE), passes it on (undefined), or does either later. */
export const DONE = Symbol('answered');
type StageResult = typeof DONE | undefined | Promise<typeof DONE | undefined>;
export interface Stage {
  name: string;
  run(x: Exchange): StageResult;
}

/**
 * Every provisioning request, of any vendor, goes the same named stages:
 *
 *   clean → identify → look up → gate → claim → render → answer
 *
 * clean refuses bad paths, methods and sizes; identify asks the vendor list
 * who is asking (and reads a dialogue's message); look up finds the device or
 * records an unknown one; gate answers one `eligibility` (blocked, unassigned,
 * needs a license, licensed) and refuses the first two; claim takes the
 * support license when the request hands out the configuration; render builds
 * the file; answer writes it and records the outcome once. A stage can be
 * inserted by name (`insertBefore`), e.g. a security check before "claim".
 */
export class ProvisioningPipeline {
  readonly stages: Stage[];
  private settings!: ProvisioningSettings;
  private configs!: DeviceConfigs;
  private common = new Map<string, { module: VendorModule; file: Rendered }>();
  /** `<module>:<mac>` → the configuration of a device whose values need escaping, rendered in full once. */
  private readonly cache = new Map<string, Rendered>();
  private readonly refusals = new Map<string, { status: number; file: Rendered }>();
  private readonly dialogues = new Map<VendorModule, Dialogue>();
  private misses = new Map<string, number>();
  private missWindow = 0;
  private readonly servedNoted = new Map<string, number>();
  private readonly rejectListeners: Array<(x: Exchange, r: Rejection) => void> = [];
  private readonly recorders = new Map<string, Map<RequestOutcome, (ms: number) => void>>();
  private inFlight = 0;

  constructor(
    private readonly core: Core,
    private readonly devices: Devices,
    private readonly modules: readonly VendorModule[] = VENDOR_MODULES,
  ) {
    for (const m of modules) if (m.dialogue) this.dialogues.set(m, m.dialogue());
    this.stages = [
      { name: 'clean', run: (x) => this.clean(x) },
      { name: 'identify', run: (x) => this.identify(x) },
      { name: 'look up', run: (x) => this.lookUp(x) },
      { name: 'gate', run: (x) => this.gate(x) },
      { name: 'claim', run: (x) => this.claim(x) },
      { name: 'render', run: (x) => this.render(x) },
      { name: 'answer', run: (x) => this.answer(x) },
    ];
  }

  /** Put `stage` before the stage named `before`. */
  insertBefore(before: string, stage: Stage): void {
    const i = this.stages.findIndex((s) => s.name === before);
    if (i < 0) throw new Error(`no provisioning stage "${before}"`);
    this.stages.splice(i, 0, stage);
  }

  private get cfg() {
    return this.core.config.provisioning;
  }

  /** The settings that go into configurations now. */
  get current(): ProvisioningSettings {
    return this.settings;
  }

  /** Called for every request refused as bad input (after the refusal is sent), e.g. to raise an alert. */
  onReject(fn: (x: Exchange, r: Rejection) => void): void {
    this.rejectListeners.push(fn);
  }

  /** Whether this request hands out the device's configuration (its line's credentials). */
  handsOut(x: Exchange): boolean {
    return x.turn ? x.turn.configures : x.who?.kind === 'config';
  }

  /** Refuse from a stage outside the pipeline: with the vendor's polite end in a dialogue, else a refusal by code. */
  refuseFromStage(x: Exchange, code: ProvCode, detail: string, headers?: Record<string, string>): typeof DONE {
    if (x.turn) return this.reply(x, 'rejected', 200, x.turn.answer(false, null, this.settings), x.turn.headers);
    return this.refuse(x, 'rejected', code, detail, headers);
  }

  /** The settings that go into configurations changed: everything is rendered again, on demand. */
  configure(s: ProvisioningSettings): void {
    this.settings = s;
    this.configs = new DeviceConfigs(s);
    this.common = renderCommon(this.modules, s);
    this.cache.clear();
  }

  /** A device's record changed or is gone: drop what was rendered for it. */
  forget(mac: string): void {
    for (const m of this.modules) this.cache.delete(`${m.id}:${mac}`);
  }

  /** The request handler of one listener. */
  handlerFor(listener: ListenerFacts): (req: http.IncomingMessage, res: http.ServerResponse) => void {
    return (req, res) => this.handle(req, res, listener);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, listener: ListenerFacts): void {
    const x: Exchange = { req, res, t0: performance.now(), ip: req.socket.remoteAddress ?? '', listener, path: '', macParam: null, who: null, turn: null, device: null, eligibility: null, newly: false, file: null, key: null, baseUrl: null, quiet: false };
    this.inFlight++;
    this.run(x, 0);
  }

  private run(x: Exchange, from: number): void {
    try {
      for (let i = from; i < this.stages.length; i++) {
        const r = this.stages[i]!.run(x);
        if (r === undefined) continue;
        if (r === DONE) return;
        r.then(
          (next) => (next === DONE ? undefined : this.run(x, i + 1)),
          (e) => this.failed(x, e),
        );
        return;
      }
    } catch (e) {
      this.failed(x, e);
    }
  }

  private failed(x: Exchange, e: unknown): void {
    this.core.log.error('provisioning request failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    if (!x.res.headersSent) this.reply(x, 'rejected', 500, rendered('internal error\n', 'text/plain'));
  }

  // ── the stages ──

  private clean(x: Exchange): StageResult {
    if (this.inFlight > this.cfg.maxInFlight) return this.refuse(x, 'rejected', 'PROV_OVERLOADED', `${this.inFlight - 1} requests in progress`, { 'retry-after': '5', connection: 'close' });
    const p = cleanPath(x.req.url ?? '');
    if (!p.ok) return this.reject(x, p);
    x.path = p.path;
    x.macParam = p.macParam;
    return undefined;
  }

  private identify(x: Exchange): StageResult {
    const id = identify(this.modules, x.path, x.macParam, x.req.headers['user-agent'], (mac) => {
      const d = this.devices.get(mac);
      return d && moduleOfDevice(d);
    });
    if (!id.ok) return this.reject(x, id, id.code !== 'PROV_NOT_FOUND');
    x.who = id.id;
    const method = x.req.method;
    if (x.who.kind === 'dialogue') {
      if (method !== 'POST') return this.refuse(x, 'rejected', 'PROV_METHOD', `${method} (use POST)`, { allow: 'POST' });
      return this.readDialogue(x, this.dialogues.get(x.who.module)!);
    }
    if (method !== 'GET' && method !== 'HEAD') return this.refuse(x, 'rejected', 'PROV_METHOD', `${method} (use GET)`, { allow: 'GET, HEAD' });
    const len = Number(x.req.headers['content-length'] ?? 0);
    if (len > this.cfg.maxBodyBytes) return this.refuse(x, 'rejected', 'PROV_TOO_LARGE', `${len} bytes, at most ${this.cfg.maxBodyBytes}`, { connection: 'close' });
    return undefined;
  }

  /** Read a dialogue message's body (bounded), then let the module read the message. */
  private readDialogue(x: Exchange, dialogue: Dialogue): StageResult {
    const type = x.req.headers['content-type'] ?? '';
    if (!dialogue.contentTypes.test(type)) return this.reject(x, { status: 415, code: 'PROV_CONTENT_TYPE', detail: `${type.slice(0, 60) || 'none'} (send text/xml)`, miss: true });
    const max = this.cfg.maxBodyBytes;
    const declared = Number(x.req.headers['content-length'] ?? NaN);
    if (declared > max) return this.refuse(x, 'rejected', 'PROV_TOO_LARGE', `${declared} bytes, at most ${max}`, { connection: 'close' });
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      x.req.on('data', (c: Buffer) => {
        if (done) return;
        size += c.length;
        if (size > max) {
          // Read no further: answer, then drop the connection.
          done = true;
          x.req.pause();
          x.res.on('finish', () => x.req.socket.destroy());
          resolve(this.refuse(x, 'rejected', 'PROV_TOO_LARGE', `more than ${max} bytes`, { connection: 'close' }));
          return;
        }
        chunks.push(c);
      });
      x.req.on('end', () => {
        if (done) return;
        done = true;
        const turn = dialogue.turn(Buffer.concat(chunks).toString('utf8'), x.req.headers.cookie);
        if (!turn.ok) return resolve(this.reject(x, turn));
        x.turn = turn;
        if (turn.foreign) {
          // Not this vendor's device: the protocol's polite end, and nothing recorded as one of its phones.
          this.devices.note({ mac: null, vendor: null, model: null, outcome: 'rejected', code: 'rejected.foreign', values: { step: turn.label, mac: turn.mac.slice(0, 40) }, ip: x.ip });
          return resolve(this.reply(x, 'rejected', 200, turn.answer(false, null, this.settings), turn.headers));
        }
        const mac = normalizeMac(turn.mac);
        if (!mac) return resolve(this.reject(x, { status: 400, code: 'PROV_BAD_MAC', detail: `malformed MAC "${turn.mac.slice(0, 40)}"`, miss: true }));
        x.who = { ...x.who!, mac, model: turn.model, firmware: turn.firmware, byAgent: true };
        resolve(undefined);
      });
      x.req.on('error', () => {
        if (!done) (done = true), this.inFlight--;
      });
    });
  }

  private lookUp(x: Exchange): StageResult {
    const who = x.who!;
    if (who.mac === null) {
      if (who.kind === 'common') {
        const f = this.common.get(who.name);
        if (f) return this.reply(x, 'served', 200, f.file);
        return this.reject(x, { status: 404, code: 'PROV_NOT_FOUND', detail: 'no such file', miss: true }, false);
      }
      // A MAC-less file this appliance does not have (a trust list): the phone goes on without.
      return this.refuse(x, 'absent', 'PROV_NOT_FOUND', `${who.name}: not on this appliance`);
    }
    const d = this.devices.get(who.mac);
    if (!d) return this.unknownDevice(x);
    x.device = d;
    if (who.module.vendor !== d.vendor) return this.refuse(x, 'rejected', 'PROV_VENDOR_MISMATCH', `request is from ${who.module.vendor}, device ${d.mac} is recorded as ${d.vendor}`);
    // A family of several modules (Cisco: enterprise and MPP): a device of a known model is answered by its own
    // module only, so another module's paths cannot sidestep its protections (key, TLS, User-Agent, device CA).
    const own = d.model ? moduleOfDevice(d) : who.module;
    if (own && own !== who.module) return this.refuse(x, 'rejected', 'PROV_VENDOR_MISMATCH', `request is for ${who.module.id} files, device ${d.mac} is a ${own.id} phone`);
    if (who.kind === 'absent') return this.refuse(x, 'absent', 'PROV_NOT_FOUND', `${who.name}: not on this appliance`);
    if (who.kind === 'config' && who.module.configNeedsAgent && !who.byAgent) {
      const detail = `suspicious: ${d.mac}'s configuration asked for without the phone's User-Agent (${String(x.req.headers['user-agent'] ?? 'none').slice(0, 60)})`;
      this.devices.note({ mac: d.mac, vendor: d.vendor, model: d.model, outcome: 'rejected', code: 'rejected.noAgent', values: { mac: d.mac, agent: String(x.req.headers['user-agent'] ?? 'none').slice(0, 60) }, ip: x.ip });
      const done: typeof DONE = this.refuse(x, 'rejected', 'PROV_SUSPICIOUS', 'the configuration goes only to the phone itself');
      for (const fn of this.rejectListeners) fn(x, { status: 403, code: 'PROV_SUSPICIOUS', detail, miss: false });
      return done;
    }
    return undefined;
  }

  /** One answer to "may this device have its configuration?", from the in-memory record. */
  private gate(x: Exchange): StageResult {
    const d = x.device!;
    const module = x.who!.module;
    if (x.turn && !x.turn.needsDevice) return undefined;
    x.eligibility = d.blocked ? 'blocked' : !d.userName ? 'unassigned' : module.license && !d.licenseCode ? 'needs-license' : 'licensed';
    if (x.eligibility === 'blocked' || x.eligibility === 'unassigned') return this.refuseDevice(x, x.eligibility);
    return undefined;
  }

  /** The support license is taken when the configuration is handed out, not before. */
  private claim(x: Exchange): StageResult {
    const handsOut = this.handsOut(x);
    if (x.eligibility !== 'needs-license' || !handsOut) return undefined;
    const mac = x.device!.mac;
    return this.devices.claim(mac).then(
      (c) => {
        if (c.ok) {
          x.device = this.devices.get(mac) ?? x.device;
          x.eligibility = 'licensed';
          x.newly = c.newly;
          return undefined;
        }
        return this.refuseDevice(x, c.reason === 'license' ? 'needs-license' : c.reason === 'blocked' ? 'blocked' : 'unassigned', c.detail);
      },
      (e) => this.storeFailed(x, e),
    );
  }

  private render(x: Exchange): StageResult {
    const d = x.device!;
    const { module, kind, name } = x.who!;
    if (x.turn) {
      const eligible = !x.turn.needsDevice || x.eligibility === 'licensed' || (x.eligibility === 'needs-license' && !x.turn.configures);
      x.file = x.turn.answer(eligible, x.turn.configures && eligible ? lineValues(d) : null, this.settings);
    } else if (kind === 'index') {
      x.file = module.renderIndex?.(name, d.mac, x.baseUrl ? { ...this.settings, baseUrl: x.baseUrl } : this.settings) ?? null;
    } else x.file = this.configFor(module, d);
    if (!x.file) return this.refuse(x, 'rejected', 'PROV_NOT_FOUND', `no such ${module.vendor} file`);
    return undefined;
  }

  private answer(x: Exchange): StageResult {
    const d = x.device!;
    const who = x.who!;
    // Only a request that is answered in full may change what the table shows of the device.
    if (!x.quiet) this.devices.touch(d.mac, x.ip, who.model, who.firmware);
    this.reply(x, 'served', 200, x.file!, x.turn?.headers);
    if (x.turn ? x.turn.configures : who.kind === 'config') this.noteServed(x);
    return DONE;
  }

  // ── helpers ──

  /** The device's configuration: its template filled now (nearly every device), or rendered in full once and kept. */
  private configFor(m: VendorModule, d: DeviceRecord): Rendered | null {
    const filled = this.configs.fill(m, d);
    if (filled) return filled;
    const key = `${m.id}:${d.mac}`;
    let r = this.cache.get(key);
    if (!r) {
      r = this.configs.renderInFull(m, d) ?? undefined;
      if (r) this.cache.set(key, r);
    }
    return r ?? null;
  }

  private reply(x: Exchange, outcome: RequestOutcome, status: number, file: Rendered, headers?: Record<string, string>): typeof DONE {
    this.inFlight--;
    x.res.writeHead(status, headers ? { 'content-type': file.type, 'content-length': file.bytes, 'cache-control': 'no-store', ...headers } : { 'content-type': file.type, 'content-length': file.bytes, 'cache-control': 'no-store' });
    x.res.end(x.req.method === 'HEAD' ? undefined : file.body);
    this.recorder(x.who?.module.vendor ?? 'unknown', outcome)(performance.now() - x.t0);
    return DONE;
  }

  /**
   * Counts a request and its time in the core's provisioning series: bound
   * once per vendor and outcome, so a request costs two increments, not a bus
   * event (a Date, two emits, label keys) as `provisioning.request` would.
   */
  private recorder(vendor: string, outcome: RequestOutcome): (ms: number) => void {
    let byOutcome = this.recorders.get(vendor);
    if (!byOutcome) this.recorders.set(vendor, (byOutcome = new Map()));
    let record = byOutcome.get(outcome);
    if (!record) {
      const count = this.core.metrics.get('pbxd_provisioning_requests_total');
      const time = this.core.metrics.get('pbxd_provisioning_request_duration_seconds');
      if (count instanceof Counter && time instanceof Histogram) {
        const inc = count.bind({ vendor, outcome });
        const observe = time.bind({ vendor });
        record = (ms) => (inc(), observe(ms / 1000));
      } else record = (ms) => this.core.bus.emit('provisioning.request', { vendor, outcome, ms }); // no core metrics registered
      byOutcome.set(outcome, record);
    }
    return record;
  }

  private refuse(x: Exchange, outcome: RequestOutcome, code: ProvCode, detail: string, headers?: Record<string, string>): typeof DONE {
    const key = `${code}\0${detail}`;
    let r = this.refusals.get(key);
    if (!r) {
      // The same few refusals (no trust list, unknown file) repeat in every boot: make each text once.
      const refusal = provRefuse(code, { detail });
      if (this.refusals.size >= 1000) this.refusals.clear();
      r = { status: refusal.status, file: rendered(`${refusal.code}: ${refusal.text.en}\n`, TEXT_TYPE) };
      this.refusals.set(key, r);
    }
    return this.reply(x, outcome, r.status, r.file, { 'x-pbxd-refusal': code, ...headers });
  }

  /** A request that missed (unknown MAC, bad path, bad input) from `ip`: false once the source is over its limit this minute. */
  private allowMiss(ip: string): boolean {
    const now = Date.now();
    if (now - this.missWindow >= 60_000) (this.misses.clear(), (this.missWindow = now));
    const source = sourceKey(ip); // an IPv6 host owns its whole /64
    const n = (this.misses.get(source) ?? 0) + 1;
    if (this.misses.size > 50_000 && n === 1) return false;
    this.misses.set(source, n);
    return n <= this.cfg.missesPerMinute;
  }

  private rateLimited(x: Exchange): typeof DONE {
    const retry = String(Math.max(1, Math.ceil((this.missWindow + 60_000 - Date.now()) / 1000)));
    return this.refuse(x, 'rejected', 'PROV_RATE_LIMITED', `more than ${this.cfg.missesPerMinute} a minute`, { 'retry-after': retry });
  }

  /** Refuse input that missed; past the source's limit the answer is 429 instead. */
  private reject(x: Exchange, r: Rejection, note = true): typeof DONE {
    if (!this.allowMiss(x.ip)) return this.rateLimited(x);
    const vendor = x.who?.module.vendor ?? null;
    if (note) this.devices.note({ mac: x.who?.mac ?? null, vendor, model: null, outcome: r.code === 'PROV_NOT_FOUND' ? 'unknown' : 'rejected', code: 'rejected', values: { refusal: r.code, detail: r.detail }, ip: x.ip });
    const done: typeof DONE = this.refuse(x, 'rejected', r.code as ProvCode, r.detail);
    for (const fn of this.rejectListeners) fn(x, r);
    return done;
  }

  private storeFailed(x: Exchange, e: unknown): typeof DONE {
    this.core.log.error('provisioning write failed', { error: String(e) });
    return this.refuse(x, 'rejected', 'PROV_OVERLOADED', 'the database is busy or unavailable', { 'retry-after': '10' });
  }

  private noteServed(x: Exchange): void {
    const d = x.device!;
    const now = Date.now();
    if (!x.newly && now - (this.servedNoted.get(d.mac) ?? 0) < SERVED_EVENT_EVERY_MS) return;
    this.servedNoted.set(d.mac, now);
    if (this.servedNoted.size > 200_000) this.servedNoted.clear();
    const values: Record<string, string> = {};
    if (x.turn) values.step = x.turn.label;
    if (x.newly) values.license = String(x.who!.module.license);
    this.devices.note({ mac: d.mac, vendor: d.vendor, model: d.model, outcome: 'served', code: `served${x.turn ? '.step' : ''}${x.newly ? '.licensed' : ''}` as const, values, ip: x.ip });
  }

  /** Refuse a known device its configuration, in its vendor's protocol. */
  private refuseDevice(x: Exchange, why: 'blocked' | 'unassigned' | 'needs-license', detail?: Pick<Parameters<Devices['note']>[0], 'code' | 'values'>): typeof DONE {
    const d = x.device!;
    const outcome: Outcome = why === 'needs-license' ? 'refused_license' : why === 'blocked' ? 'blocked' : 'unknown';
    const said: Pick<Parameters<Devices['note']>[0], 'code' | 'values'> = detail ?? (why === 'needs-license' ? { code: 'refused.license', values: { license: String(x.who!.module.license) } } : { code: why === 'blocked' ? 'refused.blocked' : 'refused.unassigned', values: {} });
    const v = detail?.values;
    const license = v?.quota !== undefined ? `${v.license}: ${v.used} of ${v.quota} in use${v.ahead ? `, ${v.ahead} waiting longer` : ''}` : String(x.who!.module.license);
    this.devices.note({ mac: d.mac, vendor: d.vendor, model: d.model, outcome, code: said.code, values: said.values, ip: x.ip });
    if (x.turn) return this.reply(x, outcome, 200, x.turn.answer(false, null, this.settings), x.turn.headers);
    const code: ProvCode = why === 'needs-license' ? 'PROV_LICENSE_REQUIRED' : why === 'blocked' ? 'PROV_BLOCKED' : 'PROV_UNASSIGNED';
    return this.refuse(x, outcome, code, why === 'needs-license' ? license : d.mac);
  }

  /** A valid MAC we do not know: record it for the admin (bounded per source, only a vendor's own request), give it nothing. */
  private unknownDevice(x: Exchange): StageResult {
    if (!this.allowMiss(x.ip)) return this.rateLimited(x);
    const who = x.who!;
    const answer = (code: Parameters<Devices['note']>[0]['code'], values: Record<string, string | number> = {}): typeof DONE => {
      this.devices.note({ mac: who.mac, vendor: who.module.vendor, model: who.model || null, outcome: 'unknown', code, values, ip: x.ip });
      if (x.turn) return this.reply(x, 'unknown', 200, x.turn.answer(false, null, this.settings), x.turn.headers);
      return this.refuse(x, 'unknown', 'PROV_UNKNOWN_DEVICE', `${who.mac} is not assigned; an admin can assign it`);
    };
    if (who.kind === 'absent') return answer('unknown.notRecorded');
    // A configuration request names its vendor by its path or User-Agent; an index file only by the User-Agent.
    if (!x.turn && !who.byAgent && who.kind !== 'config') return answer('unknown.noAgent');
    return this.devices.recordUnknown({ mac: who.mac!, vendor: who.module.vendor, model: who.model, firmware: who.firmware, ip: x.ip }).then(
      (r) => (r === 'bounded' ? answer('unknown.bounded', { limit: this.cfg.autoRecordPerSource, ip: x.ip }) : answer('unknown.recorded')),
      (e) => this.storeFailed(x, e),
    );
  }
}
