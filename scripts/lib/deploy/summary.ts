import type { DeploySettings } from './settings';

/** The intake Function's path (functions/ehr/events.ts). */
export const INTAKE_PATH = '/ehr/events';
export const CONTRACT_LINK = 'README.md, section "The EHR event contract"';

// Placeholders for values the shell computes when the example is pasted, so it never books a past date.
const SHELL_NOW = '@@NOW@@';
const SHELL_DAY = '@@DAY@@';

/**
 * What the EHR integrator needs, and where the admin page is. The key itself is not printed (it is
 * in `.env`, and deploy logs get pasted into tickets); the example reads it from the shell.
 */
export function integrationDetails(s: DeploySettings, domain: string, receiverUrl?: string): string[] {
  const base = `https://${domain}`;
  const example = JSON.stringify({
    event_type: 'BOOKED',
    event_datetime_utc: SHELL_NOW,
    appointment_id: 'A-1001',
    appointment_datetime: `${SHELL_DAY}T09:30:00`,
    appointment_timezone: 'America/New_York',
    patient_id: 'P-77',
    patient_first_name: 'Ana',
    patient_phone: s.administratorPhone,
    provider_id: 'D-9',
    provider_first_name: 'Sam',
    provider_last_name: 'Lee',
  });
  return [
    'EHR integration',
    `  Intake URL      POST ${base}${INTAKE_PATH}`,
    `  Auth header     Authorization: Bearer <EHR_API_KEY> (the ${s.ehrApiKey.length}-character value of EHR_API_KEY in .env)`,
    `  Content type    application/json: one event, an array of up to 100, or {"events": [...]}`,
    `  Event contract  ${CONTRACT_LINK}`,
    `  Patient replies POST to ${s.ieEndpoint}, signed with IE_SIGNING_SECRET`,
    '  Try it (texts the administrator phone; books three days from today):',
    '    NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)',
    "    DAY=$(date -d '+3 days' +%Y-%m-%d 2>/dev/null || date -v+3d +%Y-%m-%d)",
    `    curl -sS ${base}${INTAKE_PATH} \\`,
    '      -H "Authorization: Bearer $EHR_API_KEY" -H "Content-Type: application/json" \\',
    `      -d '${example.replaceAll(SHELL_NOW, `'"$NOW"'`).replaceAll(SHELL_DAY, `'"$DAY"'`)}'`,
    ...(receiverUrl ? receiverLines(receiverUrl.replace(/\/$/, '')) : []),
    '',
    `Admin page        ${base}/  (APPLICATION_PASSWORD, then the code texted to ADMINISTRATOR_PHONE)`,
  ];
}

/** The raw-body receiver (RAW_RECEIVER=true): same key, same answers, raw bodies. */
function receiverLines(url: string): string[] {
  return [
    '',
    'Raw-body receiver (for engines that cannot wrap the body in JSON; same key, same answers)',
    `  HL7 v2          POST ${url}/ehr/hl7   raw ER7: x-application/hl7-v2+er7, application/hl7-v2 or text/plain (MLLP framing tolerated)`,
    `  FHIR R4         POST ${url}/ehr/fhir  application/fhir+json`,
    `  Events          POST ${url}/ehr/events  application/json, no query parameters`,
  ];
}
