import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { LocalClock } from './clock';

/* The local stack's fixed settings, its generated secrets, and the small helpers stack.ts wires in. */

export const LOCAL_BUCKET = 'appointments-local';
/** The clinic's Twilio number and the admin's phone on the local carrier (valid, unassigned-style US numbers). */
export const LOCAL_TWILIO_NUMBER = '+14155550100';
export const LOCAL_ADMIN_PHONE = '+14155550199';
export const LOCAL_CUSTOMER_NAME = 'Owl Health Clinic';
/** The local clinic's zone: HL7 wall-clock times are read in it unless EHR_DEFAULT_TIMEZONE says otherwise. */
export const LOCAL_CLINIC_ZONE = 'America/Los_Angeles';

export const LOCAL_FHIR_CLIENT_ID = 'local-appointment-reminders';

/**
 * The FHIR intake reads the sandbox EHR's FHIR server unless `.env` names another one.
 * LOCAL_FHIR_SANDBOX: `token` (default, FHIR_BEARER_TOKEN), `client-credentials` (the OAuth2
 * settings) or `off` (no FHIR server: id-only notifications are refused).
 */
export function localFhirSettings(given: Record<string, string>, baseUrl: string, secrets: LocalSecrets): Record<string, string> {
  const mode = given.LOCAL_FHIR_SANDBOX ?? 'token';
  if (given.FHIR_BASE_URL || mode === 'off') return {};
  if (mode === 'client-credentials') {
    return {
      FHIR_BASE_URL: baseUrl,
      FHIR_CLIENT_ID: LOCAL_FHIR_CLIENT_ID,
      FHIR_CLIENT_SECRET: secrets.FHIR_CLIENT_SECRET ?? '',
      FHIR_TOKEN_URL: `${baseUrl}/auth/token`,
    };
  }
  return { FHIR_BASE_URL: baseUrl, FHIR_BEARER_TOKEN: secrets.FHIR_TOKEN ?? '' };
}

export interface LocalSecrets {
  EHR_API_KEY: string;
  AUTH_TOKEN: string;
  IE_SIGNING_SECRET: string;
  API_KEY_SECRET: string;
  SESSION_SECRET: string;
  APPLICATION_PASSWORD: string;
  /** The sandbox FHIR server's fixed token, and the client secret it issues tokens for. */
  FHIR_TOKEN?: string;
  FHIR_CLIENT_SECRET?: string;
}

/** Local-only secrets are generated once and kept with the local data, so restarts keep them. */
export function localSecrets(dataDir: string): LocalSecrets {
  const file = path.join(dataDir, 'local-secrets.json');
  const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>) : {};
  const secrets: LocalSecrets = {
    EHR_API_KEY: existing.EHR_API_KEY ?? `local-${randomBytes(24).toString('hex')}`,
    AUTH_TOKEN: existing.AUTH_TOKEN ?? randomBytes(16).toString('hex'),
    IE_SIGNING_SECRET: existing.IE_SIGNING_SECRET ?? randomBytes(24).toString('hex'),
    API_KEY_SECRET: existing.API_KEY_SECRET ?? randomBytes(16).toString('hex'),
    SESSION_SECRET: existing.SESSION_SECRET ?? randomBytes(32).toString('hex'),
    APPLICATION_PASSWORD: existing.APPLICATION_PASSWORD ?? randomBytes(12).toString('base64url'),
    FHIR_TOKEN: existing.FHIR_TOKEN ?? randomBytes(24).toString('hex'),
    FHIR_CLIENT_SECRET: existing.FHIR_CLIENT_SECRET ?? randomBytes(24).toString('hex'),
  };
  if (JSON.stringify(existing) === JSON.stringify(secrets)) return secrets;
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

export function defined(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
}

/** A port from the environment: an integer from 0 (any free port) to 65535. */
export function portFrom(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number from 0 to 65535, not "${text}"`);
  return port;
}

/** GET the local clock; POST {"advance_ms": n} or {"offset_ms": n} to move it (demos and tests). */
export function localClockRouter(clock: LocalClock): express.Router {
  const r = express.Router();
  const show = (res: express.Response) => res.json({ now: clock.date().toISOString(), offset_ms: clock.offset() });
  r.get('/', (_req, res) => show(res));
  r.post('/', (req, res) => {
    const body = (req.body ?? {}) as { advance_ms?: unknown; offset_ms?: unknown; now?: unknown };
    if (typeof body.advance_ms === 'number' && Number.isFinite(body.advance_ms)) clock.advance(body.advance_ms);
    else if (typeof body.offset_ms === 'number' && Number.isFinite(body.offset_ms)) clock.setOffset(body.offset_ms);
    else if (typeof body.now === 'string' && Number.isFinite(Date.parse(body.now))) clock.set(body.now);
    else {
      res.status(400).json({
        error: { code: 'invalid-request', message: 'send {"advance_ms": number}, {"offset_ms": number} or {"now": ISO 8601 instant}' },
      });
      return;
    }
    show(res);
  });
  return r;
}
