import { expect } from 'chai';
import { identify } from '../provisioning/identify.js';
import { LICENSE_CODE, VENDOR_MODULES, VENDORS, moduleOfDevice } from '../provisioning/vendors/index.js';
import { licenseStateOf } from '../daemon/core/devices.js';
import { DEVICE_FAMILIES } from '../daemon/main.js';

const id = (path: string, ua?: string, recorded: Record<string, string> = {}) =>
  identify(VENDOR_MODULES, path.split('?')[0]!, /mac=([^&]+)/.exec(path)?.[1] ?? null, ua, (mac) => {
    const model = recorded[mac];
    return model === undefined ? undefined : moduleOfDevice({ vendor: model.split(':')[0]!, model: model.split(':')[1] ?? '' });
  });
const who = (r: ReturnType<typeof id>) => (r.ok ? { module: r.id.module.id, kind: r.id.kind, mac: r.id.mac } : { code: r.code });

describe('the vendor list (no daemon)', () => {
  it('is what the core is handed as its device families, and which of them take a support license', () => {
    expect(DEVICE_FAMILIES.names).to.equal(VENDORS);
    expect(DEVICE_FAMILIES.licenseCode).to.equal(LICENSE_CODE);
    expect(LICENSE_CODE).to.deep.equal({ cisco: 'devices.cisco', unify: 'devices.unify' });
    expect([...VENDORS].sort()).to.deep.equal(['cisco', 'gigaset', 'snom', 'unify', 'yealink']);
    // The core applies the rule through that seam: an assigned Cisco/Unify phone waits for its license, the others need none.
    const assigned = { blocked: false, userName: 'anna', licenseCode: null };
    expect(VENDORS.map((vendor) => [vendor, licenseStateOf({ ...assigned, vendor }, DEVICE_FAMILIES)])).to.deep.equal(
      VENDORS.map((vendor) => [vendor, vendor === 'cisco' || vendor === 'unify' ? 'waiting' : 'not_required']),
    );
  });

  it('gives each recorded device its module (Cisco by model)', () => {
    expect(moduleOfDevice({ vendor: 'cisco', model: 'CP-8841-3PCC' })?.id).to.equal('cisco-mpp');
    expect(moduleOfDevice({ vendor: 'cisco', model: 'CP-8845' })?.id).to.equal('cisco-enterprise');
    expect(moduleOfDevice({ vendor: 'snom', model: '' })?.id).to.equal('snom');
  });

  it('lets the User-Agent decide a path several vendors share, and the device table when there is none', () => {
    const mac = '000413b60680';
    expect(who(id(`/${mac}.xml`, `Mozilla/4.0 (compatible; Snom M900 05.20.0001 ${mac})`))).to.deep.equal({ module: 'snom', kind: 'config', mac });
    expect(who(id(`/${mac}.xml`, 'Gigaset N870 IP PRO/83.V2.11.0'))).to.deep.equal({ module: 'gigaset', kind: 'config', mac });
    expect(who(id(`/${mac}.xml`))).to.deep.equal({ code: 'PROV_NOT_FOUND' });
    expect(who(id(`/${mac}.xml`, undefined, { [mac]: 'cisco:CP-8841-3PCC' }))).to.deep.equal({ module: 'cisco-mpp', kind: 'config', mac });
    expect(who(id(`/${mac}.xml`, 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', { [mac]: 'gigaset:N870' }))).to.deep.equal({ module: 'gigaset', kind: 'config', mac });
  });

  it('refuses two different MACs in one request, and malformed ones', () => {
    expect(who(id('/000413b60680.xml', 'Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60681)'))).to.deep.equal({ code: 'PROV_MAC_MISMATCH' });
    expect(who(id('/SEPZZZZZZZZZZZZ.cnf.xml'))).to.deep.equal({ code: 'PROV_BAD_MAC' });
    expect(who(id('/snomM900.htm'))).to.deep.equal({ code: 'PROV_NOT_FOUND' });
    expect(who(id('/snomM900.htm?mac=000413B60680'))).to.deep.equal({ module: 'snom', kind: 'index', mac: '000413b60680' });
  });
});
