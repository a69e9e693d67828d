/**
 * Talks to the admin Functions (relative URLs, so the same page works on `npm start` and deployed)
 * and, locally, to the local stand-ins under `__local/`.
 */

import type { Problem, Session } from '../../../src/admin/api-types';

export type { LoginResult, Problem, Session } from '../../../src/admin/api-types';

/** An answer other than 2xx, with what the Function said. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Problem[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const SESSION_KEY = 'pam.admin.session';
const CLIENT_KEY = 'pam.admin.client';
const DEVICE_KEY = 'pam.admin.device';

/**
 * The device token outlives the tab (localStorage): it tells the password step this browser has
 * logged in before, so an attack on the password cannot lock it out. It opens nothing by itself.
 */
export const deviceStore = {
  get(): string | undefined {
    return window.localStorage.getItem(DEVICE_KEY) ?? undefined;
  },
  set(token: string): void {
    window.localStorage.setItem(DEVICE_KEY, token);
  },
};

/** The session lives in this tab only (sessionStorage): closing the tab logs out. */
export const sessionStore = {
  get(): Session | undefined {
    try {
      const s = JSON.parse(window.sessionStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
      return s && Date.parse(s.expires_at) > Date.now() ? s : undefined;
    } catch {
      return undefined;
    }
  },
  set(s: Session): void {
    window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  },
  clear(): void {
    window.sessionStorage.removeItem(SESSION_KEY);
  },
};

/** A random id for this browser, which the login rate limits count attempts by. */
export function clientId(): string {
  let id = window.localStorage.getItem(CLIENT_KEY);
  if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    window.localStorage.setItem(CLIENT_KEY, id);
  }
  return id;
}

/**
 * `fetch` for the local stand-ins under `__local/`: they answer this machine, or a browser elsewhere
 * that sends its admin session (when `npm start` listens beyond loopback).
 */
export function localFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const token = sessionStore.get()?.token;
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  return fetch(path, { ...init, headers });
}

let sessionLost: (message: string) => void = () => undefined;

/** What to do when the session is refused (expired, or the secret changed): back to the login. */
export function onSessionLost(fn: (message: string) => void): void {
  sessionLost = fn;
}

export interface CallOptions {
  method?: 'GET' | 'POST';
  query?: Record<string, string | undefined>;
  body?: unknown;
  /** `session` (default): the stored session token; a string: that token; `none`: no token. */
  auth?: 'session' | 'none' | { token: string };
}

function url(path: string, query: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { raw: text };
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; problems?: Problem[]; retry_after_seconds?: number; field?: string };
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const auth = options.auth ?? 'session';
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Client-Id': clientId() };
  const token = auth === 'session' ? sessionStore.get()?.token : auth === 'none' ? undefined : auth.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  const device = path === 'admin/login' || path === 'admin/verify-code' ? deviceStore.get() : undefined;
  if (device) headers['X-Device-Token'] = device;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url(path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The service cannot be reached. Is it running?');
  }
  const body = await readJson(res);
  if (res.ok) return body as T;
  const e = (body as ErrorBody | undefined)?.error ?? {};
  const problems = e.problems ?? (e.field ? [{ field: e.field, message: e.message ?? '' }] : []);
  const err = new ApiError(res.status, e.code ?? `http-${res.status}`, e.message ?? `HTTP ${res.status}`, problems, e.retry_after_seconds);
  if (res.status === 401 && auth === 'session') {
    sessionStore.clear();
    sessionLost(err.message);
  }
  throw err;
}

export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}
