// The admin and simulation page (served as assets/admin.js). Plain DOM, no framework.
import { call, describe, localFetch, onSessionLost, sessionStore, type Session } from './lib/api';
import { setUpAppointments } from './lib/appointments';
import { setUpAudit } from './lib/audit';
import { $, debounce, formatTime, Poller, setBanner } from './lib/dom';
import { setUpEhrPanel } from './lib/ehr';
import { setUpFigures } from './lib/figures';
import { setUpLogin } from './lib/login';
import { setUpMessagePaste } from './lib/message-paste';
import { setUpOptOuts } from './lib/opt-outs';
import { setUpPhonePanel } from './lib/phone';
import { setUpInbox } from './lib/inbox';
import { setUpRejectedEvents } from './lib/rejected';
import { setUpSettings } from './lib/settings';
import { setUpSettingsInForce } from './lib/settings-in-force';
import { setUpSimulation } from './lib/simulation';
import { setUpMyPassword, setUpStaffUsers } from './lib/staff-users';
import { setUpStatus } from './lib/status';
import type { EnvironmentAnswer } from '../../src/admin/api-types';

interface LocalStack {
  administrator_phone: string;
}

/** Refreshed well before the 30-minute expiry, so an open page stays logged in. */
const REFRESH_EVERY_MS = 10 * 60_000;

async function localInfo(env: EnvironmentAnswer): Promise<{ adminPhone?: string; clockOffset: number }> {
  if (!env.local) return { clockOffset: 0 };
  const [stack, clock] = await Promise.all([
    localFetch('__local/stack', { cache: 'no-store' }).then((r) => r.json() as Promise<LocalStack>),
    localFetch('__local/clock', { cache: 'no-store' })
      .then((r) => r.json() as Promise<{ offset_ms?: number }>)
      .catch(() => ({ offset_ms: 0 })),
  ]);
  return { adminPhone: stack.administrator_phone, clockOffset: clock.offset_ms ?? 0 };
}

async function main(): Promise<void> {
  const boot = $('boot');
  let env: EnvironmentAnswer;
  let local: { adminPhone?: string; clockOffset: number };
  try {
    env = await call<EnvironmentAnswer>('admin/environment', { auth: 'none' });
    local = await localInfo(env);
  } catch (err) {
    setBanner(boot, 'error', `The service cannot be reached: ${describe(err)}`);
    return;
  }
  boot.hidden = true;
  if (env.customer_name) $('clinic-name').textContent = `${env.customer_name} · admin and simulation${env.local ? ' · local' : ''}`;
  document.body.dataset.mode = env.local ? 'local' : 'deployed';

  const app = $('app');
  const sessionBar = $('session-bar');
  const refresher = new Poller(async () => {
    try {
      const s = await call<Session>('admin/refresh', { method: 'POST' });
      sessionStore.set(s);
      showSession(s);
    } catch {
      // A refused refresh already sent the page back to the login (onSessionLost).
    }
  }, REFRESH_EVERY_MS);

  const showSession = (s: Session) => {
    const who = s.user_id && s.user_id !== 'admin' ? `${s.user_id} (${s.role ?? 'staff'})` : 'administrator';
    $('session-info').textContent = `Logged in as ${who} until ${formatTime(s.expires_at)} (renewed while this page is open)`;
  };

  const settings = setUpSettings();
  // Deployed, the Simulation panel stays hidden until the service says it is enabled there.
  const showSimulation = (enabled: boolean) => {
    $('simulation').hidden = !enabled;
    $('simulation-link').hidden = !enabled;
  };
  if (!env.local) showSimulation(false);
  const inForce = setUpSettingsInForce({ onSimulation: showSimulation });
  const figures = setUpFigures({ now: () => Date.now() + local.clockOffset });
  const optOuts = setUpOptOuts();
  const rejected = setUpRejectedEvents();
  const inbox = setUpInbox();
  const users = setUpStaffUsers();
  const auditLog = setUpAudit();
  // The appointment the admin last acted on: from the paste box, else the simulation form's.
  let pasted: string | undefined;
  const appointments = setUpAppointments({ highlight: () => pasted ?? simulation.appointmentId() });
  const refreshData = debounce(() => {
    void appointments.refresh();
    if (document.body.dataset.role === 'admin') void figures.load();
  }, 600);
  const phone = setUpPhonePanel({ local: env.local, onActivity: refreshData });
  const ehr = setUpEhrPanel({ local: env.local, phone: () => phone.current() });
  const status = setUpStatus({ local: env.local, afterSweep: refreshData });
  const simulation = setUpSimulation({
    now: () => Date.now() + local.clockOffset,
    onPhone: (e164) => {
      phone.follow(e164);
      void ehr.load();
    },
    onEvent: () => {
      pasted = undefined;
      refreshData();
    },
  });
  setUpMessagePaste({
    now: () => Date.now() + local.clockOffset,
    onRecorded: (lines) => {
      pasted = lines[0]?.appointment_id;
      const e164 = lines[0]?.patient_phone;
      if (e164) phone.follow(e164);
      void ehr.load();
      refreshData();
    },
    highlight: (id) => {
      pasted = id;
      return appointments.show(id);
    },
  });

  const enter = (s: Session) => {
    // What the role may not use is hidden (the Functions refuse it with 403 all the same).
    const admin = (s.role ?? 'admin') === 'admin';
    document.body.dataset.role = admin ? 'admin' : 'staff';
    for (const el of document.querySelectorAll<HTMLElement>('[data-needs-role="admin"]')) el.hidden = !admin;
    $('account').hidden = (s.user_id ?? 'admin') === 'admin';
    app.hidden = false;
    sessionBar.hidden = false;
    showSession(s);
    refresher.start(false);
    void appointments.load();
    void inbox.load();
    if (admin) {
      void settings.load();
      void inForce.load();
      void figures.load();
      void optOuts.load();
      void status.load();
      void rejected.load();
      void users.load();
      void auditLog.load();
      ehr.start();
    }
  };

  const login = setUpLogin({ localAdminPhone: local.adminPhone, onLoggedIn: enter });

  const leave = (message?: string) => {
    refresher.stop();
    ehr.stop();
    phone.stop();
    sessionStore.clear();
    app.hidden = true;
    sessionBar.hidden = true;
    const dialog = $<HTMLDialogElement>('history-dialog');
    if (dialog.open) dialog.close();
    login.show(message);
  };
  onSessionLost((message) => leave(`Please log in again: ${message}`));
  setUpMyPassword({ onChanged: () => leave('Your password is changed; log in with the new one.') });
  $('logout').addEventListener('click', () => leave('You are logged out.'));

  // A tab that slept past a refresh renews (or finds out it must log in) as soon as it is seen again.
  document.addEventListener('visibilitychange', () => {
    const s = sessionStore.get();
    if (document.visibilityState === 'visible' && !app.hidden) {
      if (!s) leave('Your session has expired; please log in again.');
      else if (Date.parse(s.expires_at) - Date.now() < 5 * 60_000) refresher.start(true);
    }
  });

  const existing = sessionStore.get();
  if (existing) enter(existing);
  else login.show();
}

void main();
