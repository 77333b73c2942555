import type { DeviceView } from '../../core/devices.js';
import { table, type Command } from '../command.js';
import { cliText, headings, need, stateWord } from '../messages.js';

const enc = encodeURIComponent;

function deviceTable(devices: DeviceView[]): string {
  return table(
    headings('mac', 'vendor', 'model', 'user', 'license', 'waiting since', 'last seen', 'last ip'),
    devices.map((d) => [d.mac, d.vendor, d.model, d.userName, stateWord(d.licenseState), d.waitingSince, d.lastSeen, d.lastIp]),
  );
}

function needMac(mac: string | undefined): string {
  if (!mac) throw need(cliText('argMac'));
  return mac;
}

const one = (words: string[], usage: string, path: string, said: 'deviceReleased' | 'deviceBlocked' | 'deviceUnblocked'): Command => ({
  words,
  usage,
  async run(api, a) {
    const mac = needMac(a.positional[0]);
    const d = await api.request<DeviceView>('POST', `/devices/${enc(mac)}/${path}`);
    return { data: d, text: cliText(said, d.mac, stateWord(d.licenseState)) };
  },
});

export const deviceCommands: Command[] = [
  {
    words: ['devices', 'list'],
    usage: 'devices list [--state S] [--vendor V] [--q TEXT]   provisioned phones and their license state',
    async run(api, a) {
      const q = new URLSearchParams();
      for (const k of ['state', 'vendor', 'q']) if (a.get(k)) q.set(k, a.get(k)!);
      const r = await api.request<{ devices: DeviceView[] }>('GET', `/devices?${q}`);
      return { data: r, text: r.devices.length ? deviceTable(r.devices) : cliText('noDevices') };
    },
  },
  {
    words: ['devices', 'assign'],
    usage: 'devices assign MAC USER [--line N]   give a device to a user (its own SIP line)',
    async run(api, a) {
      const mac = needMac(a.positional[0]);
      const userName = a.positional[1];
      if (!userName) throw need(cliText('argUser'));
      const d = await api.request<DeviceView>('POST', `/devices/${enc(mac)}/assign`, { userName, ...(a.get('line') ? { line: Number(a.get('line')) } : {}) });
      return { data: d, text: cliText('deviceAssigned', d.mac, d.userName ?? '', stateWord(d.licenseState)) };
    },
  },
  one(['devices', 'release'], 'devices release MAC            remove its user and free its support license', 'release', 'deviceReleased'),
  one(['devices', 'block'], 'devices block MAC              never serve this device', 'block', 'deviceBlocked'),
  one(['devices', 'unblock'], 'devices unblock MAC            serve it again', 'unblock', 'deviceUnblocked'),
  {
    words: ['devices', 'events'],
    usage: 'devices events [--limit N]     recent provisioning outcomes',
    async run(api, a) {
      const r = await api.request<{ events: Array<Record<string, string | null>> }>('GET', `/provisioning/events?limit=${Number(a.get('limit') ?? 50)}`);
      return { data: r, text: table(headings('at', 'outcome', 'mac', 'vendor', 'ip', 'detail'), r.events.map((e) => [e.at, e.outcome, e.mac, e.vendor, e.ip, e.detail])) };
    },
  },
];
