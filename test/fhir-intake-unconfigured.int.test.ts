import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFixture } from './fixtures/fhir';
import { startTestStack, type TestStack } from './support/local-stack';
import { started } from './support/started';

/* A stack without a FHIR server (its own file: the Functions runtime and the clock are per process). */

let off: TestStack;
beforeAll(async () => {
  off = await startTestStack({ LOCAL_FHIR_SANDBOX: 'off' });
});
afterAll(async () => {
  await started(off)?.stop();
});

async function bucketSnapshot(s: TestStack): Promise<string> {
  const keys = await s.listKeys();
  const bodies = await Promise.all(keys.map(async (k) => `${k}=${JSON.stringify(await s.getJson(k))}`));
  return bodies.join('\n');
}

describe('POST /ehr/fhir without FHIR_BASE_URL', () => {
  const base = () => fhirFixture('r4spec_appointment-example.json');
  it('without a FHIR server, answers an id-only notification 422 saying what to configure', async () => {
    const before = await bucketSnapshot(off);
    const res = await off.postFhir(fhirFixture('athena_subscription_notification_appointment_schedule.json'));
    expect(res.status).toBe(422);
    expect(res.json.issue).toEqual([
      expect.objectContaining({
        code: 'processing',
        expression: ['Bundle.entry[0].resource.notificationEvent[0].focus'],
        diagnostics: expect.stringMatching(/FHIR_BASE_URL.*FHIR_BEARER_TOKEN.*FHIR_CLIENT_ID/),
      }),
    ]);
    const bare = await off.postFhir(base());
    expect(bare.status).toBe(422);
    expect(bare.json.issue[0]).toMatchObject({
      code: 'not-found',
      expression: ['Appointment.participant[0].actor'],
      diagnostics: expect.stringMatching(/FHIR_BASE_URL/),
    });
    expect(await bucketSnapshot(off)).toBe(before);
  });
});
