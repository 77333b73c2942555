import { readFileSync } from 'node:fs';
import { table, type Command } from '../command.js';
import { cliText, headings, need, needMac, pick } from '../messages.js';

const enc = encodeURIComponent;

interface UrlsReply {
  urls: Array<{ module: string; vendor: string; where: { en: string; de: string }; value: string; protections: Array<{ en: string; de: string }>; credentials: { user: string; password: string } | null }>;
  previousKeys: Array<{ expiresAt: string }>;
  enrolmentUntil: string | null;
}

interface LockReply {
  mac: string;
  ip: string | null;
  subnet: string | null;
  pendingIp: string | null;
  pendingCount: number;
  enrolUntil: string | null;
}

function urlsText(r: UrlsReply): string {
  const lines = [table(headings('vendor', 'set', 'value'), r.urls.map((u) => [u.module, pick(u.where), u.value]))];
  for (const u of r.urls) lines.push(`${u.module}: ${u.protections.map(pick).join('; ')}${u.credentials ? `; ${cliText('provCredentials', u.credentials.user, u.credentials.password)}` : ''}`);
  for (const k of r.previousKeys) lines.push(cliText('provPreviousKey', k.expiresAt));
  if (r.enrolmentUntil) lines.push(cliText('provEnrolmentOpen', cliText('provAllDevices'), r.enrolmentUntil));
  return lines.join('\n');
}

const lockText = (l: LockReply) =>
  `${l.mac}: ${l.subnet ? cliText('provPinned', l.subnet) : l.ip ? cliText('provLocked', l.ip) : cliText('provNotLocked')}${l.pendingIp ? `; ${cliText('provRefusedAddress', l.pendingIp, l.pendingCount)}` : ''}${l.enrolUntil ? `; ${cliText('provMayMove', l.enrolUntil)}` : ''}`;

/** The site key, enrolment windows and device locks (docs/provisioning.md, Security). */
export const provisioningCommands: Command[] = [
  {
    words: ['provisioning', 'urls'],
    usage: 'provisioning urls                 per vendor, the provisioning URL or DHCP value to set (with the site key)',
    async run(api) {
      const r = await api.request<UrlsReply>('GET', '/provisioning/urls');
      return { data: r, text: urlsText(r) };
    },
  },
  {
    words: ['provisioning', 'key', 'rotate'],
    usage: 'provisioning key rotate [--overlap-hours N]   a new site key; the old one works N more hours',
    async run(api, a) {
      const hours = a.get('overlap-hours');
      const r = await api.request<UrlsReply>('POST', '/provisioning/key/rotate', hours ? { overlapHours: Number(hours) } : {});
      return { data: r, text: `${cliText('provNewKey')}\n${urlsText(r)}` };
    },
  },
  {
    words: ['provisioning', 'enrolment', 'open'],
    usage: 'provisioning enrolment open [MAC] [--minutes N]   locked devices (or one) may move to a new address',
    async run(api, a) {
      const mac = a.positional[0];
      const r = await api.request<{ until: string }>('POST', '/provisioning/enrolment/open', { ...(mac ? { mac } : {}), ...(a.get('minutes') ? { minutes: Number(a.get('minutes')) } : {}) });
      return { data: r, text: cliText('provEnrolmentOpen', mac ?? cliText('provAllDevices'), r.until) };
    },
  },
  {
    words: ['provisioning', 'enrolment', 'close'],
    usage: 'provisioning enrolment close [MAC]   close the window (without MAC: every window)',
    async run(api, a) {
      const mac = a.positional[0];
      const r = await api.request('POST', '/provisioning/enrolment/close', mac ? { mac } : {});
      return { data: r, text: cliText('provEnrolmentClosed', mac ?? cliText('provAllDevices')) };
    },
  },
  {
    words: ['provisioning', 'allow'],
    usage: 'provisioning allow MAC            the refused new address becomes the device\'s',
    async run(api, a) {
      const r = await api.request<LockReply>('POST', `/devices/${enc(needMac(a.positional[0]))}/address/allow`);
      return { data: r, text: lockText(r) };
    },
  },
  {
    words: ['provisioning', 'block'],
    usage: 'provisioning block MAC            keep refusing the new address (clears the alert badge)',
    async run(api, a) {
      const r = await api.request<LockReply>('POST', `/devices/${enc(needMac(a.positional[0]))}/address/block`);
      return { data: r, text: lockText(r) };
    },
  },
  {
    words: ['provisioning', 'pin'],
    usage: 'provisioning pin MAC SUBNET|none  the device may fetch only from inside SUBNET (e.g. 10.1.2.0/24)',
    async run(api, a) {
      const subnet = a.positional[1];
      if (!subnet) throw need(cliText('argSubnet'));
      const r = await api.request<LockReply>('PUT', `/devices/${enc(needMac(a.positional[0]))}/address`, { subnet: subnet === 'none' ? '' : subnet });
      return { data: r, text: lockText(r) };
    },
  },
  {
    words: ['provisioning', 'vendor-ca', 'list'],
    usage: 'provisioning vendor-ca list       installed vendor device CAs (factory certificates)',
    async run(api) {
      const r = await api.request<{ vendorCas: Array<{ module: string; subject: string; fingerprint: string }> }>('GET', '/provisioning/vendor-cas');
      return { data: r, text: r.vendorCas.length ? table(headings('vendor', 'subject', 'sha-256'), r.vendorCas.map((c) => [c.module, c.subject, c.fingerprint])) : cliText('provNoVendorCa') };
    },
  },
  {
    words: ['provisioning', 'vendor-ca', 'install'],
    usage: 'provisioning vendor-ca install MODULE FILE   the vendor\'s phones must then present a factory certificate',
    async run(api, a) {
      const [module, file] = a.positional;
      if (!module || !file) throw need(cliText('argVendorCa'));
      const r = await api.request<{ module: string; subject: string }>('PUT', `/provisioning/vendor-cas/${enc(module)}`, { pem: readFileSync(file, 'utf8') });
      return { data: r, text: cliText('provVendorCaInstalled', r.module, r.subject) };
    },
  },
  {
    words: ['provisioning', 'vendor-ca', 'remove'],
    usage: 'provisioning vendor-ca remove MODULE         no client certificate asked of that vendor any more',
    async run(api, a) {
      const module = a.positional[0];
      if (!module) throw need(cliText('argVendorModule'));
      await api.request('DELETE', `/provisioning/vendor-cas/${enc(module)}`);
      return { data: { removed: module }, text: cliText('provVendorCaRemoved', module) };
    },
  },
  {
    words: ['provisioning', 'alerts'],
    usage: 'provisioning alerts [--limit N]   refused attempts at devices\' credentials, newest first',
    async run(api, a) {
      const r = await api.request<{ alerts: Array<Record<string, string | null> & { text: { en: string; de: string } }> }>('GET', `/provisioning/alerts?limit=${Number(a.get('limit') ?? 50)}`);
      return { data: r, text: r.alerts.length ? table(headings('at', 'kind', 'mac', 'ip', 'detail'), r.alerts.map((x) => [x.at, x.kind, x.mac, x.ip, pick(x.text)])) : cliText('provNoAlerts') };
    },
  },
];
