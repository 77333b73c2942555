import type http from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Router } from 'express';
import type { Core } from '../daemon/core/core.js';
import { Counter, Histogram } from '../daemon/kernel/metrics.js';
import type { Feature } from '../daemon/feature.js';
import { Listener } from '../daemon/http/listener.js';
import { devicesRoutes } from '../daemon/http/routes/devices.js';
import { LICENSE_CODE, normalizeMac, type DeviceRecord, type Devices, type Outcome } from '../daemon/core/devices.js';
import { cleanPath, identify, type Identified, type Rejection } from './identify.js';
import { CONFIG_FORMATS, configFormat, DeviceConfigs, rendered, renderCommon, wpiItems, type ConfigFormat, type ProvisioningSettings, type Rendered } from './render.js';
import { CLEAN_UP, DlsTemplate, parseWorkpointMessage, READ_ALL_ITEMS, type WorkpointMessage } from './wpi.js';
import { loadOrCreateTls } from './tls.js';
import { provRefuse, type ProvCode } from './refusals.js';

/** How often batched last_seen/last_ip are written. */
const SEEN_FLUSH_MS = 5000;
/** A device's "served" outcome enters the history at most this often (a boot is many requests). */
const SERVED_EVENT_EVERY_MS = 60_000;
const WPI_TYPES = /^(text|application)\/xml\b/i;

type RequestOutcome = Outcome | 'absent';

/**
 * The provisioning server: three listeners (HTTP 6970, HTTPS 6971, WPI HTTPS
 * 18443) on one bare node:http handler. No middleware chain, no query per
 * request: devices come from the in-memory index of `core.devices`, and a
 * configuration is a template per format and line (built once, again when the
 * settings change) filled with the device's values at request time. The only
 * writes on this path are license claims and recording unknown devices;
 * last_seen is batched.
 */
export class ProvisioningServer implements Feature {
  readonly name = 'provisioning';
  private readonly listeners: Listener[] = [];
  /**
   * `<format>:<mac>` → the configuration, with its secret, of a device whose values need escaping
   * (rendered in full, ahead); served only after the checks in `serveConfig`. Other devices fill a template.
   */
  private readonly cache = new Map<string, Rendered>();
  private configs!: DeviceConfigs;
  private stopped = false;
  private readonly wpiWrite = new Map<string, DlsTemplate>();
  private common = new Map<string, Rendered>();
  private readonly refusals = new Map<string, { status: number; file: Rendered }>();
  private settings!: ProvisioningSettings;
  private inFlight = 0;
  private misses = new Map<string, number>();
  private missWindow = 0;
  private readonly servedNoted = new Map<string, number>();
  private readonly recorders = new Map<string, Map<RequestOutcome, (ms: number) => void>>();
  /** WPI replies that omit mac-addr are matched to the phone by its connection. */
  private readonly wpiSockets = new WeakMap<Socket, string>();
  private timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private readonly devices: Devices;

  constructor(private readonly core: Core) {
    this.devices = core.devices;
  }

  routes(): Router {
    return devicesRoutes(this.core);
  }

  private get cfg() {
    return this.core.config.provisioning;
  }

  private loadSettings(): void {
    const p = this.cfg;
    const registrar = p.sipRegistrar || p.hostnames[0] || p.host;
    this.settings = { registrar, sipPort: p.sipPort, timeZone: p.timeZone, ntpServer: p.ntpServer, language: p.language };
    this.common = renderCommon(this.settings);
    this.configs = new DeviceConfigs(this.settings);
  }

  /** Settings changed at run time: render everything again. */
  rerenderAll(): void {
    this.loadSettings();
    this.cache.clear();
    this.wpiWrite.clear();
    for (const d of this.devices.all()) this.render(d);
  }

  /** Drop whatever is kept for a device (its record changed or is gone). */
  private forget(mac: string): void {
    for (const f of CONFIG_FORMATS) this.cache.delete(`${f}:${mac}`);
    this.wpiWrite.delete(mac);
  }

  private render(d: DeviceRecord): void {
    this.forget(d.mac);
    if (!d.userName || d.blocked) return; // nothing with a credential exists for it
    if (d.vendor === 'unify') this.wpiWrite.set(d.mac, new DlsTemplate('WriteItems', wpiItems(d, this.settings)));
    else {
      const format = configFormat(d);
      if (format && !this.configs.fromTemplate(d, format)) this.cache.set(`${format}:${d.mac}`, this.configs.renderInFull(d, format));
    }
  }

  /** The device's configuration in `format`: its template filled now (nearly every device), or rendered in full once and kept. */
  private configFor(d: DeviceRecord, format: ConfigFormat): Rendered {
    const filled = this.configs.fill(d, format);
    if (filled) return filled;
    const key = `${format}:${d.mac}`;
    let r = this.cache.get(key);
    if (!r) this.cache.set(key, (r = this.configs.renderInFull(d, format)));
    return r;
  }

  /**
   * Prepare every configuration ahead (templates; WPI messages and files of
   * devices whose values need escaping), in slices after the listeners are up,
   * so 10,000 devices do not hold back READY. A request that comes before its
   * device's turn renders it on the spot.
   */
  private renderAheadInBackground(): void {
    const macs = [...this.devices.all()].map((d) => d.mac);
    let i = 0;
    const slice = () => {
      for (const end = Math.min(i + 500, macs.length); i < end; i++) {
        const d = this.devices.get(macs[i]!);
        if (d && !this.isRendered(d)) this.render(d);
      }
      if (i < macs.length && !this.stopped) setImmediate(slice);
    };
    setImmediate(slice);
  }

  private isRendered(d: DeviceRecord): boolean {
    if (d.vendor === 'unify') return this.wpiWrite.has(d.mac);
    const format = configFormat(d);
    return !format || this.configs.fromTemplate(d, format) || this.cache.has(`${format}:${d.mac}`);
  }

  /** The WriteItems of an assigned, unblocked Unify phone (rendered ahead, or now). */
  private wpiTemplate(d: DeviceRecord): DlsTemplate | undefined {
    if (!this.wpiWrite.has(d.mac)) this.render(d);
    return this.wpiWrite.get(d.mac);
  }

  async start(): Promise<Record<string, string>> {
    this.loadSettings();
    this.devices.onChange((macs, action) => {
      if (action === 'licensed' || action === 'waiting') return; // the configuration itself is unchanged
      for (const mac of macs) {
        const d = this.devices.get(mac);
        if (d) this.render(d);
        else this.forget(mac);
      }
    });
    // A user's name or extension changed, or a user was deleted (users feature): refresh their devices' lines.
    let pending: NodeJS.Timeout | null = null;
    this.unsubscribe.push(this.core.bus.on('users.changed', () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        this.devices.refreshUsers().catch((err) => this.core.log.error('refreshing device lines failed', { error: String(err) }));
      }, 200);
    }));

    this.core.metrics.gauge('pbxd_devices', 'Devices by license state', ['state'], () =>
      Object.entries(this.devices.countByState()).map(([state, value]) => ({ labels: { state }, value })),
    );

    const tls = loadOrCreateTls(this.core.config.dataDir, this.cfg.hostnames);
    const http = new Listener('provisioning_http', this.handle);
    const https = new Listener('provisioning_https', this.handle, tls);
    const wpi = new Listener('wpi', this.handle, tls);
    this.listeners.push(http, https, wpi);
    const bound = {
      provisioning_http: await http.listenTcp(this.cfg.host, this.cfg.httpPort),
      provisioning_https: await https.listenTcp(this.cfg.host, this.cfg.httpsPort),
      wpi: await wpi.listenTcp(this.cfg.host, this.cfg.wpiPort),
    };
    this.timers.push(setInterval(() => void this.flush(), SEEN_FLUSH_MS).unref());
    this.renderAheadInBackground();
    this.core.log.info('provisioning listening', { ...bound, certificate: tls.origin, devices: this.devices.size });
    return bound;
  }

  private async flush(): Promise<void> {
    try {
      await this.devices.flushSeen();
    } catch (e) {
      this.core.log.warn('could not write last-seen times; will retry', { error: String(e) });
    }
  }

  /** SIGHUP: settings that go into configurations are rendered again; limits apply at once (they are read per request). */
  reload(_config: unknown, applied: string[]): void {
    this.devices.options.autoRecordPerSource = this.cfg.autoRecordPerSource;
    if (applied.some((k) => /^provisioning\.(sipRegistrar|sipPort|timeZone|ntpServer|language)$/.test(k))) {
      this.rerenderAll();
      this.core.log.info('provisioning configurations rendered again', { changed: applied.filter((k) => k.startsWith('provisioning.')) });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    for (const u of this.unsubscribe) u();
    this.core.metrics.remove('pbxd_devices');
    await Promise.all(this.listeners.map((l) => l.stop()));
    await this.flush();
  }

  // ── the request path ──

  private reply(res: http.ServerResponse, t0: number, vendor: string | null, outcome: RequestOutcome, status: number, file: Rendered, headers?: Record<string, string>): void {
    this.inFlight--;
    res.writeHead(status, headers ? { 'content-type': file.type, 'content-length': file.bytes, 'cache-control': 'no-store', ...headers } : { 'content-type': file.type, 'content-length': file.bytes, 'cache-control': 'no-store' });
    res.end(res.req.method === 'HEAD' ? undefined : file.body);
    this.recorder(vendor ?? 'unknown', outcome)(performance.now() - t0);
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

  private refuse(res: http.ServerResponse, t0: number, vendor: string | null, outcome: RequestOutcome, code: ProvCode, detail: string, headers?: Record<string, string>): void {
    const key = `${code}\0${detail}`;
    let r = this.refusals.get(key);
    if (!r) {
      // The same few refusals (no trust list, unknown file) repeat in every boot: make each text once.
      const refusal = provRefuse(code, { detail });
      if (this.refusals.size >= 1000) this.refusals.clear();
      r = { status: refusal.status, file: rendered(`${refusal.code}: ${refusal.text.en}\n`, 'text/plain; charset=utf-8') };
      this.refusals.set(key, r);
    }
    this.reply(res, t0, vendor, outcome, r.status, r.file, { 'x-pbxd-refusal': code, ...headers });
  }

  /** A request that missed (unknown MAC, bad path, bad input) from `ip`: false once the source is over its limit this minute. */
  private allowMiss(ip: string): boolean {
    const now = Date.now();
    if (now - this.missWindow >= 60_000) (this.misses.clear(), (this.missWindow = now));
    const n = (this.misses.get(ip) ?? 0) + 1;
    if (this.misses.size > 50_000 && n === 1) return false;
    this.misses.set(ip, n);
    return n <= this.cfg.missesPerMinute;
  }

  private retryAfter(): string {
    return String(Math.max(1, Math.ceil((this.missWindow + 60_000 - Date.now()) / 1000)));
  }

  /** Refuse input that missed; past the source's limit the answer is 429 instead. */
  private reject(res: http.ServerResponse, t0: number, ip: string, vendor: string | null, r: Rejection, mac: string | null = null, note = true): void {
    if (!this.allowMiss(ip)) return this.refuse(res, t0, vendor, 'rejected', 'PROV_RATE_LIMITED', `more than ${this.cfg.missesPerMinute} a minute`, { 'retry-after': this.retryAfter() });
    if (note) this.devices.note({ mac, vendor, model: null, outcome: r.code === 'PROV_NOT_FOUND' ? 'unknown' : 'rejected', detail: `${r.code}: ${r.detail}`, ip });
    this.refuse(res, t0, vendor, 'rejected', r.code as ProvCode, r.detail);
  }

  private readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const t0 = performance.now();
    this.inFlight++;
    const ip = req.socket.remoteAddress ?? '';
    if (this.inFlight > this.cfg.maxInFlight) return this.refuse(res, t0, null, 'rejected', 'PROV_OVERLOADED', `${this.inFlight - 1} requests in progress`, { 'retry-after': '5', connection: 'close' });
    try {
      const p = cleanPath(req.url ?? '');
      if (!p.ok) return this.reject(res, t0, ip, null, p);
      const id = identify(p.path, req.headers['user-agent'], (mac) => this.devices.get(mac)?.vendor);
      if (!id.ok) return this.reject(res, t0, ip, null, id, null, id.code !== 'PROV_NOT_FOUND');
      const { id: who } = id;
      if (who.kind === 'wpi') {
        if (req.method !== 'POST') return this.refuse(res, t0, 'unify', 'rejected', 'PROV_METHOD', `${req.method} (use POST)`, { allow: 'POST' });
        return this.readWpi(req, res, t0, ip);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.refuse(res, t0, who.vendor, 'rejected', 'PROV_METHOD', `${req.method} (use GET)`, { allow: 'GET, HEAD' });
      const len = Number(req.headers['content-length'] ?? 0);
      if (len > this.cfg.maxBodyBytes) return this.refuse(res, t0, who.vendor, 'rejected', 'PROV_TOO_LARGE', `${len} bytes, at most ${this.cfg.maxBodyBytes}`, { connection: 'close' });
      this.serveFile(req, res, t0, ip, who);
    } catch (e) {
      this.core.log.error('provisioning request failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      if (!res.headersSent) this.reply(res, t0, null, 'rejected', 500, rendered('internal error\n', 'text/plain'));
    }
  };

  private serveFile(req: http.IncomingMessage, res: http.ServerResponse, t0: number, ip: string, who: Identified): void {
    if (who.mac === null) {
      if (who.kind === 'common') {
        const f = this.common.get(who.name);
        if (f) return this.reply(res, t0, who.vendor, 'served', 200, f);
        return this.reject(res, t0, ip, who.vendor, { status: 404, code: 'PROV_NOT_FOUND', detail: 'no such file', miss: true }, null, false);
      }
      // MAC-less trust lists: this appliance has none; the phone goes on without.
      return this.refuse(res, t0, who.vendor, 'absent', 'PROV_NOT_FOUND', `${who.name}: no trust list on this appliance`);
    }
    const d = this.devices.get(who.mac);
    if (!d) return this.unknownDevice(res, t0, ip, who);
    this.devices.touch(d.mac, ip, who.model, who.firmware);
    if (who.kind === 'trust' || who.kind === 'signed') return this.refuse(res, t0, d.vendor, 'absent', 'PROV_NOT_FOUND', who.kind === 'trust' ? 'no trust list on this appliance' : 'no signed configuration; use the plain file');
    if (who.vendor && who.vendor !== d.vendor) return this.refuse(res, t0, who.vendor, 'rejected', 'PROV_VENDOR_MISMATCH', `request is from ${who.vendor}, device ${d.mac} is recorded as ${d.vendor}`);
    const format = d.vendor === 'cisco' ? (req.url!.toLowerCase().startsWith('/sep') ? 'sep' : 'mpp') : configFormat(d);
    const gate = this.gate(d);
    if (gate === 'ok') return this.serveConfig(res, t0, ip, d, format, false);
    if (gate !== 'claim') return this.refuseDevice(res, t0, ip, d, gate);
    this.devices.claim(d.mac).then(
      (c) => {
        if (c.ok) return this.serveConfig(res, t0, ip, this.devices.get(d.mac) ?? d, format, c.newly);
        this.refuseDevice(res, t0, ip, d, c.reason === 'license' ? 'license' : c.reason === 'blocked' ? 'blocked' : 'unassigned', c.detail);
      },
      (e) => this.storeFailed(res, t0, d.vendor, e),
    );
  }

  /** What the in-memory record allows without a write. */
  private gate(d: DeviceRecord): 'ok' | 'claim' | 'blocked' | 'unassigned' {
    if (d.blocked) return 'blocked';
    if (!d.userName) return 'unassigned';
    if (!LICENSE_CODE[d.vendor] || d.licenseCode) return 'ok';
    return 'claim';
  }

  private storeFailed(res: http.ServerResponse, t0: number, vendor: string | null, e: unknown): void {
    this.core.log.error('provisioning write failed', { error: String(e) });
    this.refuse(res, t0, vendor, 'rejected', 'PROV_OVERLOADED', 'the database is busy or unavailable', { 'retry-after': '10' });
  }

  private serveConfig(res: http.ServerResponse, t0: number, ip: string, d: DeviceRecord, format: ConfigFormat | null, newly: boolean): void {
    if (!format) return this.refuse(res, t0, d.vendor, 'rejected', 'PROV_NOT_FOUND', `no ${d.vendor} configuration file (${d.vendor} phones are provisioned over WPI)`);
    const f = this.configFor(d, format);
    this.reply(res, t0, d.vendor, 'served', 200, f);
    this.noteServed(d, ip, newly);
  }

  private noteServed(d: DeviceRecord, ip: string, newly: boolean): void {
    const now = Date.now();
    if (!newly && now - (this.servedNoted.get(d.mac) ?? 0) < SERVED_EVENT_EVERY_MS) return;
    this.servedNoted.set(d.mac, now);
    this.devices.note({ mac: d.mac, vendor: d.vendor, model: d.model, outcome: 'served', detail: newly ? `configuration served; took a ${LICENSE_CODE[d.vendor]} license` : 'configuration served', ip });
  }

  private refuseDevice(res: http.ServerResponse, t0: number, ip: string, d: DeviceRecord, why: 'license' | 'blocked' | 'unassigned', detail?: string, wpiNonce?: string): void {
    const outcome: Outcome = why === 'license' ? 'refused_license' : why === 'blocked' ? 'blocked' : 'unknown';
    const text = why === 'license' ? `waiting for license (${detail ?? LICENSE_CODE[d.vendor]})` : why === 'blocked' ? 'blocked by an admin' : 'no user assigned';
    this.devices.note({ mac: d.mac, vendor: d.vendor, model: d.model, outcome, detail: text, ip });
    if (wpiNonce !== undefined) return this.reply(res, t0, d.vendor, outcome, 200, CLEAN_UP.with(wpiNonce));
    const code: ProvCode = why === 'license' ? 'PROV_LICENSE_REQUIRED' : why === 'blocked' ? 'PROV_BLOCKED' : 'PROV_UNASSIGNED';
    this.refuse(res, t0, d.vendor, outcome, code, why === 'license' ? (detail ?? String(LICENSE_CODE[d.vendor])) : d.mac);
  }

  /** A valid MAC we do not know: record it for the admin (bounded per source), give it nothing. */
  private unknownDevice(res: http.ServerResponse, t0: number, ip: string, who: Identified, wpiNonce?: string): void {
    if (!this.allowMiss(ip)) return this.refuse(res, t0, who.vendor, 'rejected', 'PROV_RATE_LIMITED', `more than ${this.cfg.missesPerMinute} a minute`, { 'retry-after': this.retryAfter() });
    const answer = (recorded: string) => {
      this.devices.note({ mac: who.mac, vendor: who.vendor, model: who.model || null, outcome: 'unknown', detail: recorded, ip });
      if (wpiNonce !== undefined) return this.reply(res, t0, who.vendor, 'unknown', 200, CLEAN_UP.with(wpiNonce));
      this.refuse(res, t0, who.vendor, 'unknown', 'PROV_UNKNOWN_DEVICE', `${who.mac} is not assigned; an admin can assign it`);
    };
    if (!who.vendor || (who.kind !== 'config' && who.kind !== 'wpi')) return answer('not recorded: trust list or signed file request');
    this.devices.recordUnknown({ mac: who.mac!, vendor: who.vendor, model: who.model, firmware: who.firmware, ip }).then(
      (r) => answer(r === 'bounded' ? `not recorded: ${this.cfg.autoRecordPerSource} unassigned devices from ${ip} already` : 'recorded as unassigned'),
      (e) => this.storeFailed(res, t0, who.vendor, e),
    );
  }

  // ── Unify WPI ──

  private readWpi(req: http.IncomingMessage, res: http.ServerResponse, t0: number, ip: string): void {
    const type = req.headers['content-type'] ?? '';
    if (!WPI_TYPES.test(type)) return this.reject(res, t0, ip, 'unify', { status: 415, code: 'PROV_CONTENT_TYPE', detail: `${type.slice(0, 60) || 'none'} (send text/xml)`, miss: true });
    const max = this.cfg.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) return this.refuse(res, t0, 'unify', 'rejected', 'PROV_TOO_LARGE', `${declared} bytes, at most ${max}`, { connection: 'close' });
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        // Read no further: answer, then drop the connection.
        done = true;
        req.pause();
        this.refuse(res, t0, 'unify', 'rejected', 'PROV_TOO_LARGE', `more than ${max} bytes`, { connection: 'close' });
        res.on('finish', () => req.socket.destroy());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      this.handleWpi(req, res, t0, ip, Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', () => {
      if (!done) (done = true), this.inFlight--;
    });
  }

  private handleWpi(req: http.IncomingMessage, res: http.ServerResponse, t0: number, ip: string, body: string): void {
    const parsed = parseWorkpointMessage(body);
    if (!parsed.ok) return this.reject(res, t0, ip, 'unify', parsed);
    const msg = parsed.msg;
    const stated = msg.items.get('mac-addr');
    let mac: string | null = null;
    if (stated !== undefined) {
      mac = normalizeMac(stated);
      if (!mac) return this.reject(res, t0, ip, 'unify', { status: 400, code: 'PROV_BAD_MAC', detail: `malformed MAC "${stated.slice(0, 40)}"`, miss: true });
    } else mac = this.wpiSockets.get(req.socket) ?? null;
    if (!mac) return this.reject(res, t0, ip, 'unify', { status: 400, code: 'PROV_WPI_INVALID', detail: 'no mac-addr item', miss: true });
    this.wpiSockets.set(req.socket, mac);
    const who: Identified = { vendor: 'unify', model: msg.items.get('device-type') ?? '', firmware: msg.items.get('software-version') ?? '', mac, kind: 'wpi', name: '' };
    const d = this.devices.get(mac);
    if (!d) return this.unknownDevice(res, t0, ip, who, msg.nonce);
    this.devices.touch(mac, ip, who.model, who.firmware);
    if (d.vendor !== 'unify') return this.refuse(res, t0, 'unify', 'rejected', 'PROV_VENDOR_MISMATCH', `request is from unify, device ${mac} is recorded as ${d.vendor}`);
    this.wpiStep(res, t0, ip, d, msg);
  }

  /**
   * start-up (or any fresh contact) → ReadAllItems; the phone's answer to
   * ReadAllItems → WriteItems with its line; the answer to WriteItems → CleanUp.
   * A phone that may not have a configuration gets CleanUp at once.
   */
  private wpiStep(res: http.ServerResponse, t0: number, ip: string, d: DeviceRecord, msg: WorkpointMessage): void {
    const isReply = msg.reason === 'reply-to';
    if (isReply && msg.action !== 'ReadAllItems') return this.reply(res, t0, 'unify', 'served', 200, CLEAN_UP.with(msg.nonce));
    const proceed = (newly: boolean) => {
      const dev = this.devices.get(d.mac) ?? d;
      if (!isReply) return this.reply(res, t0, 'unify', 'served', 200, READ_ALL_ITEMS.with(msg.nonce));
      const tpl = this.wpiTemplate(dev);
      if (!tpl) return this.reply(res, t0, 'unify', 'rejected', 200, CLEAN_UP.with(msg.nonce));
      this.reply(res, t0, 'unify', 'served', 200, tpl.with(msg.nonce));
      this.noteServed(dev, ip, newly);
    };
    const gate = this.gate(d);
    if (gate === 'ok') return proceed(false);
    if (gate !== 'claim') return this.refuseDevice(res, t0, ip, d, gate, undefined, msg.nonce);
    this.devices.claim(d.mac).then(
      (c) => (c.ok ? proceed(c.newly) : this.refuseDevice(res, t0, ip, d, c.reason === 'license' ? 'license' : c.reason === 'blocked' ? 'blocked' : 'unassigned', c.detail, msg.nonce)),
      (e) => this.storeFailed(res, t0, 'unify', e),
    );
  }
}

