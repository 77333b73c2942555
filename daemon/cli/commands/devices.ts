import type { DeviceView } from '../../core/devices.js';
import { outcomeWord } from '../../core/provisioning-outcomes.js';
import type { Command } from '../command.js';
import { cliText, need, needMac, pick, stateWord } from '../messages.js';
import { listCommand, PAGE_USAGE } from '../paging.js';

const enc = encodeURIComponent;

const DEVICE_HEADERS = ['mac', 'vendor', 'model', 'user', 'license', 'waiting since', 'last seen', 'last ip'];
const deviceRow = (d: DeviceView) => [d.mac, d.vendor, d.model, d.userName, stateWord(d.licenseState), d.waitingSince, d.lastSeen, d.lastIp];
interface EventRow {
  at: string;
  outcome: string;
  mac: string | null;
  vendor: string | null;
  ip: string;
  text: { en: string; de: string };
}
const outcomeText = (o: string) => pick(outcomeWord(`outcome.${o}` as 'outcome.served').text);

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
    usage: `devices list [--state S] [--vendor V] [--user U] [--q PREFIX] ${PAGE_USAGE}   provisioned phones and their license state`,
    booleanFlags: ['all'],
    async run(api, a) {
      const q = new URLSearchParams();
      for (const k of ['state', 'vendor', 'user', 'q']) if (a.get(k)) q.set(k, a.get(k)!);
      return listCommand<DeviceView>(api, a, { path: '/devices', listName: 'devices', headers: DEVICE_HEADERS, row: deviceRow, noun: 'devices' }, q);
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
    usage: `devices events [--outcome O] [--mac MAC] ${PAGE_USAGE}   recent provisioning outcomes`,
    booleanFlags: ['all'],
    async run(api, a) {
      const q = new URLSearchParams();
      for (const k of ['outcome', 'mac']) if (a.get(k)) q.set(k, a.get(k)!);
      const headers = ['at', 'outcome', 'mac', 'vendor', 'ip', 'detail'];
      return listCommand<EventRow>(api, a, { path: '/provisioning/events', listName: 'events', headers, row: (e) => [e.at, outcomeText(e.outcome), e.mac, e.vendor, e.ip, pick(e.text)], noun: 'events' }, q);
    },
  },

];
