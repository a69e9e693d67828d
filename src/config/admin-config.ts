import { z } from 'zod';
import { E164Phone, VerifyServiceSid } from './rules';
import { FunctionsConfig, loadConfig, loadFunctionsConfig, type ConfigProblem, type Env } from './config';

/**
 * Configuration of the admin page's Functions. The login and session Functions need only these
 * variables plus Twilio and S3 access, so an administrator can still log in and read the settings
 * check when another variable (a reminder timing, the EHR endpoint) is wrong.
 */
export const AdminConfig = z.object({
  APPLICATION_PASSWORD: z
    .string({ error: 'is not set' })
    .min(12, { error: 'is shorter than 12 characters' })
    .meta({ fix: 'set a long passphrase that only the administrators know; `npm start` generates one locally' }),
  ADMINISTRATOR_PHONE: E164Phone.meta({
    fix: "set the administrator's mobile number in E.164, e.g. +14155550199; login codes are texted there",
  }),
  VERIFY_SERVICE_SID: VerifyServiceSid.meta({
    fix: 'create a Verify service (Twilio Console → Verify → Services) and use its SID; `npm start` creates a local one',
  }),
  SESSION_SECRET: z.string({ error: 'is not set' }).min(32, { error: 'is shorter than 32 characters' }).meta({
    fix: 'set a long random secret used only to sign admin sessions, e.g. `openssl rand -hex 32`; `npm start` generates one locally',
  }),
});
export type AdminConfig = z.infer<typeof AdminConfig>;

/** What the admin Functions run with: the admin variables plus Twilio and S3 access. */
export const AdminRuntimeConfig = AdminConfig.extend(
  FunctionsConfig.pick({
    ACCOUNT_SID: true,
    AUTH_TOKEN: true,
    TWILIO_API_BASE_URL: true,
    S3_BUCKET: true,
    AWS_REGION: true,
    S3_ENDPOINT: true,
    AWS_ACCESS_KEY_ID: true,
    AWS_SECRET_ACCESS_KEY: true,
  }).shape,
).superRefine((c, ctx) => {
  // A session signed with the auth token could be forged by anyone holding Twilio credentials.
  if (c.SESSION_SECRET === c.AUTH_TOKEN) {
    ctx.addIssue({
      code: 'custom',
      path: ['SESSION_SECRET'],
      message: 'is the same as AUTH_TOKEN; sessions must be signed with a secret of their own',
      params: { fix: 'generate a separate secret, e.g. `openssl rand -hex 32`' },
    });
  }
});
export type AdminRuntimeConfig = z.infer<typeof AdminRuntimeConfig>;

/** Variables whose values never leave the server, not even masked. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'EHR_API_KEY',
  'AUTH_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'IE_SIGNING_SECRET',
  'APPLICATION_PASSWORD',
  'SESSION_SECRET',
]);

function fixesOf(schema: z.ZodObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(schema.shape).map(([k, s]) => [k, String(((s as z.ZodType).meta() as { fix?: string } | undefined)?.fix ?? '')]),
  );
}

const ADMIN_FIXES = fixesOf(AdminRuntimeConfig);

export function loadAdminConfig(env: Env) {
  return loadConfig(AdminRuntimeConfig, env, ADMIN_FIXES);
}

export interface VariableReport {
  variable: string;
  /** `default`: not set, and the default applies. */
  state: 'ok' | 'default' | 'problem';
  secret: boolean;
  /** Only for variables that are not secret. */
  value?: string;
}

export interface SettingsReport {
  ok: boolean;
  problems: ConfigProblem[];
  variables: VariableReport[];
}

/**
 * Every problem of the Functions' configuration and of the admin configuration, each once. Secret
 * values are never part of the report: a problem text that would quote one is replaced.
 */
export function checkSettings(env: Env): SettingsReport {
  const main = loadFunctionsConfig(env);
  const admin = loadAdminConfig(env);
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const p of [...(main.ok ? [] : main.problems), ...(admin.ok ? [] : admin.problems)]) {
    const key = `${p.variable}\u0000${p.problem}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(redact(p, env));
  }
  const names = [...new Set([...Object.keys(FunctionsConfig.shape), ...Object.keys(AdminRuntimeConfig.shape)])];
  const variables = names.map((variable): VariableReport => {
    const raw = env[variable];
    const set = raw !== undefined && raw.trim() !== '';
    const secret = SECRET_VARIABLES.has(variable);
    const state = problems.some((p) => p.variable === variable) ? 'problem' : set ? 'ok' : 'default';
    return { variable, state, secret, ...(set && !secret ? { value: raw } : {}) };
  });
  return { ok: problems.length === 0, problems, variables };
}

function redact(p: ConfigProblem, env: Env): ConfigProblem {
  const value = env[p.variable];
  if (!SECRET_VARIABLES.has(p.variable) || !value || !p.problem.includes(value)) return p;
  return { ...p, problem: p.problem.split(value).join('…') };
}
