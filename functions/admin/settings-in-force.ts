// GET /admin/settings-in-force: the reminder settings in force in words, and whether the Simulation panel is available here.
import { adminFunction } from '../../src/admin/handler';
import { settingsInWords } from '../../src/admin/settings-in-words';
import { simulationGate } from '../../src/admin/simulation-gate';
import { jsonReply } from '../../src/http/reply';
import { functionsRuntime } from '../../src/runtime/functions';
import type { SettingsInForce } from '../../src/admin/api-types';

export const handler = adminFunction('session', async ({ context, requestId }) => {
  const runtime = functionsRuntime(context);
  const gate = simulationGate(runtime.config);
  return jsonReply(
    200,
    {
      settings: settingsInWords(runtime.policy, runtime.config),
      simulation: { mode: gate.mode, enabled: gate.enabled, ...(gate.allowedPhones ? { allowed_phones: gate.allowedPhones.length } : {}) },
    } satisfies SettingsInForce,
    requestId,
  );
});
