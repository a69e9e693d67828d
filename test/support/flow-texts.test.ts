import { describe, expect, it } from 'vitest';
import { flowText, flowTextPattern, messageWidgets } from './flow-texts';

const VALUES = {
  variables: {
    patient_first_name: 'Zoë',
    provider_name: 'Ana Lopez, MD',
    appointment_when: 'Tue, Dec 1 at 9:30 AM PST',
    appointment_location: 'Suite 100',
    provider_callback_phone: '(415) 555-0100',
  },
  reply: {
    patient_first_name: 'Zoë',
    provider_name: 'Ana Lopez, MD',
    appointment_when: 'Tue, Dec 1 at 9:30 AM PST',
    callback_phone: '(415) 555-0100',
  },
};

describe('the golden SMS texts, rendered from studio/flow.json', () => {
  it('puts the given values in and leaves out the parts whose value is absent', async () => {
    const full = await flowText('send_booked', VALUES);
    for (const v of ['Zoë', 'Ana Lopez, MD', 'Tue, Dec 1 at 9:30 AM PST', 'Suite 100', '(415) 555-0100', 'Owl Health Clinic'])
      expect(full).toContain(v);
    const bare = await flowText('send_booked', { variables: { patient_first_name: 'Zoë', appointment_when: 'Tue, Dec 1 at 9:30 AM PST' } });
    expect(bare).not.toContain('Ana Lopez');
    expect(bare).not.toContain('Suite 100');
    expect(bare.length).toBeLessThan(full.length);
    expect(await flowText('send_booked', { ...VALUES, customerName: 'Clinic Ünïcode' })).toContain('Clinic Ünïcode');
  });

  it('refuses a value name no text uses, and a widget that is not a message', async () => {
    await expect(flowText('send_booked', { variables: { patient_frist_name: 'Zoë' } })).rejects.toThrow(
      /flow\.variables\.patient_frist_name/,
    );
    await expect(flowText('send_nothing')).rejects.toThrow(/no widget send_nothing/);
    await expect(flowText('split_event')).rejects.toThrow(/not a message widget/);
  });

  it("matches each text to its own widget's pattern and to no other widget's", async () => {
    // A staff text is whatever staff wrote (the whole body is one value), so it matches anything.
    const widgets = messageWidgets().filter((w) => w !== 'send_staff_message');
    expect(widgets.length).toBeGreaterThan(10);
    const patterns = widgets.map((w) => [w, flowTextPattern(w)] as const);
    for (const w of widgets) {
      const text = await flowText(w, VALUES);
      expect(
        patterns.filter(([, p]) => p.test(text)).map(([name]) => name),
        w,
      ).toEqual([w]);
    }
  });
});
