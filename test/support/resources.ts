import type { TestDaemon } from './daemon.js';

/** The license the resources tests run under. */
export const RESOURCES_LICENSE = { quantities: { users: 10, 'devices.cisco': 0, 'devices.unify': 0, autoattendants: 2, trunkchannels: 30 } };

const officeHours = [{ from: '08:00', to: '17:00' }];

/** An auto attendant as an admin would enter it: Monday to Friday 08:00–17:00 in Berlin. */
export function attendantBody(name: string, numbers: string[], timeZone = 'Europe/Berlin') {
  return {
    name,
    numbers,
    schedule: { timeZone, weekly: { mon: officeHours, tue: officeHours, wed: officeHours, thu: officeHours, fri: officeHours }, holidays: [{ date: '2026-12-24', name: 'Heiligabend' }] },
    inHours: { kind: 'greeting', greeting: 'welcome-de', options: [{ key: '1', target: '200' }, { key: '2', target: '300' }] },
    outOfHours: { kind: 'forward', target: '+4953112345' },
  };
}

export async function auditActions(d: TestDaemon, action: string): Promise<Array<{ actor: string; action: string; subject: string; details: Record<string, unknown> }>> {
  return (await d.request('GET', `/api/v1/audit?action=${encodeURIComponent(action)}&limit=1000`)).json.entries;
}
