import { ApiError, call, describe, deviceStore, localFetch, sessionStore, type LoginResult, type Session } from './api';
import { $, Poller, setBanner, whileBusy } from './dom';
import type { LoginChallenge } from '../../../src/admin/api-types';

interface LocalMessage {
  sid: string;
  to: string;
  body: string;
}

/** The login section: password → code → session. `local` is the administrator's virtual phone when running locally. */
export function setUpLogin(options: { localAdminPhone?: string; onLoggedIn: (s: Session) => void }): { show(message?: string): void } {
  const section = $('login');
  const message = $('login-message');
  const passwordForm = $<HTMLFormElement>('password-form');
  const codeForm = $<HTMLFormElement>('code-form');
  const password = $<HTMLInputElement>('password');
  const username = $<HTMLInputElement>('username');
  const code = $<HTMLInputElement>('code');
  let challenge: LoginChallenge | undefined;

  const local = options.localAdminPhone;
  const localCode = $<HTMLOutputElement>('local-code');
  let knownCodeSids = new Set<string>();
  const codePoller = new Poller(async () => {
    if (!local) return;
    const res = await localFetch(`__local/phones/${encodeURIComponent(local)}/messages`, { cache: 'no-store' });
    if (!res.ok) return;
    const { messages } = (await res.json()) as { messages: LocalMessage[] };
    const fresh = messages.filter((m) => m.to === local && !knownCodeSids.has(m.sid) && /\b\d{4,10}\b/.test(m.body));
    const latest = fresh[fresh.length - 1];
    const found = latest ? /(\d{4,10})\D*$/.exec(latest.body)?.[1] : undefined;
    if (found) {
      localCode.value = found;
      localCode.textContent = found;
      codePoller.stop();
    }
  }, 700);

  async function rememberOldCodes(): Promise<void> {
    if (!local) return;
    try {
      const res = await localFetch(`__local/phones/${encodeURIComponent(local)}/messages`, { cache: 'no-store' });
      const { messages } = (await res.json()) as { messages: LocalMessage[] };
      knownCodeSids = new Set(messages.map((m) => m.sid));
    } catch {
      knownCodeSids = new Set();
    }
  }

  if (local) {
    $('local-panel').hidden = false;
    $('local-admin-phone').textContent = local;
  }

  const showStep = (step: 'password' | 'code') => {
    passwordForm.hidden = step !== 'password';
    codeForm.hidden = step !== 'code';
    (step === 'password' ? (username.value === '' ? username : password) : code).focus();
  };

  const fail = (err: unknown) => {
    const wait = err instanceof ApiError && err.retryAfterSeconds ? ` (about ${Math.ceil(err.retryAfterSeconds / 60)} min)` : '';
    setBanner(message, 'error', `${describe(err)}${wait}`);
  };

  passwordForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (password.value === '') {
      setBanner(message, 'error', username.value.trim() === '' ? 'Enter the application password.' : 'Enter your password.');
      password.focus();
      return;
    }
    void whileBusy($<HTMLButtonElement>('password-submit'), async () => {
      setBanner(message, 'loading', 'Checking the password and sending a code…');
      await rememberOldCodes();
      try {
        challenge = await call<LoginChallenge>('admin/login', {
          method: 'POST',
          body: { username: username.value.trim(), password: password.value },
          auth: 'none',
        });
      } catch (err) {
        fail(err);
        return;
      }
      password.value = '';
      $('code-sent-to').textContent = challenge.sent_to;
      setBanner(message, 'info', `A code was texted to ${challenge.sent_to}. It is valid for 10 minutes.`);
      if (local) {
        localCode.textContent = 'waiting…';
        codePoller.start();
      }
      showStep('code');
    });
  });

  codeForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = code.value.trim();
    if (!/^\d{4,10}$/.test(value)) {
      setBanner(message, 'error', 'Enter the digits from the SMS.');
      code.focus();
      return;
    }
    if (!challenge) return showStep('password');
    const token = challenge.challenge;
    void whileBusy($<HTMLButtonElement>('code-submit'), async () => {
      setBanner(message, 'loading', 'Checking the code…');
      try {
        const { device_token: device, ...s } = await call<LoginResult>('admin/verify-code', {
          method: 'POST',
          body: { code: value },
          auth: { token },
        });
        if (device) deviceStore.set(device);
        sessionStore.set(s);
        code.value = '';
        challenge = undefined;
        codePoller.stop();
        message.hidden = true;
        section.hidden = true;
        options.onLoggedIn(s);
      } catch (err) {
        fail(err);
        if (err instanceof ApiError && err.status === 401 && /expired|start again/.test(err.message)) showStep('password');
      }
    });
  });

  $('code-restart').addEventListener('click', () => {
    challenge = undefined;
    codePoller.stop();
    message.hidden = true;
    showStep('password');
  });

  return {
    show(text?: string) {
      section.hidden = false;
      if (text) setBanner(message, 'warning', text);
      else message.hidden = true;
      showStep('password');
    },
  };
}
