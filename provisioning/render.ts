import { accessCodeOf, lineValues, type LineValues, type ProvisioningSettings, type Rendered, type VendorModule } from './vendors/vendor.js';

/** What a template is filled from: the device's own values (the access code is derived only where a template has one). */
type LineSource = Pick<LineValues, 'line' | 'displayName' | 'sipUser' | 'sipPassword'>;

/** The fields of a line that differ between configurations of the same module and line number. */
const SLOTS = ['displayName', 'sipUser', 'sipPassword', 'accessCode'] as const;
type Slot = (typeof SLOTS)[number];
const SLOT_MARK = /PBXDSLOT(displayName|sipUser|sipPassword|accessCode)PBXDSLOT/;
const mark = (s: Slot) => `PBXDSLOT${s}PBXDSLOT`;

/** A value the renderers write as it is (nothing to escape, no line break, not empty), so it can fill a template. */
const verbatim = (v: string) => v !== '' && !/[&<>"'\r\n]/.test(v);

/**
 * One module and line's configuration, built once with marks where the
 * line's own values go, kept as the text between them: a device's file is the
 * chunks joined with its values (a few hundred bytes of string concat per
 * request, no XML build), instead of a rendered copy per device in memory.
 */
class Template {
  private constructor(
    private readonly chunks: string[],
    private readonly slots: Slot[],
    private readonly type: string,
  ) {}

  /** null when the renderer's output does not split cleanly (then devices are rendered in full). */
  static build(render: (l: LineValues, s: ProvisioningSettings) => Rendered, line: number, s: ProvisioningSettings): Template | null {
    const marked: LineValues = { line, displayName: mark('displayName'), sipUser: mark('sipUser'), sipPassword: mark('sipPassword'), accessCode: mark('accessCode') };
    const r = render(marked, s);
    const parts = r.body.split(SLOT_MARK);
    const t = new Template(parts.filter((_, i) => i % 2 === 0), parts.filter((_, i) => i % 2 === 1) as Slot[], r.type);
    // The template must give the very bytes the renderer gives.
    const probe = lineValues({ line, displayName: 'Probe Name Ä', sipUser: '4711', sipPassword: 'pw-0123' });
    return t.fill(probe).body === render(probe, s).body ? t : null;
  }

  fill(l: LineSource): Rendered {
    let body = this.chunks[0]!;
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      body += (slot === 'accessCode' ? accessCodeOf(l.sipUser) : l[slot]) + this.chunks[i + 1]!;
    }
    return { body, bytes: Buffer.byteLength(body), type: this.type };
  }
}

/**
 * Device configurations for the settings in force: from a template per
 * module and line for lines whose values need no escaping (nearly all),
 * rendered in full otherwise (the caller keeps those).
 */
export class DeviceConfigs {
  private readonly templates = new Map<string, Template | null>();

  constructor(readonly settings: ProvisioningSettings) {}

  /** The line's file from its template; null if its values need escaping (then `renderInFull`). */
  fill(m: VendorModule, l: LineSource): Rendered | null {
    return this.templateFor(m, l)?.fill(l) ?? null;
  }

  renderInFull(m: VendorModule, l: LineSource): Rendered | null {
    return m.render ? m.render(lineValues(l), this.settings) : null;
  }

  private templateFor(m: VendorModule, l: LineSource): Template | null {
    if (!m.render || !verbatim(l.displayName) || !verbatim(l.sipUser) || !verbatim(l.sipPassword)) return null;
    const key = `${m.id}:${l.line}`;
    let t = this.templates.get(key);
    if (t === undefined) this.templates.set(key, (t = Template.build(m.render, l.line, this.settings)));
    return t;
  }
}

/** MAC-less files of every module, by lower-case name: the same for every phone, never with a credential. */
export function renderCommon(modules: readonly VendorModule[], s: ProvisioningSettings): Map<string, { module: VendorModule; file: Rendered }> {
  const files = new Map<string, { module: VendorModule; file: Rendered }>();
  for (const m of modules) for (const [name, file] of m.commonFiles?.(s) ?? []) files.set(name, { module: m, file });
  return files;
}
