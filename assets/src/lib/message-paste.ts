import { ApiError, call, describe } from './api';
import { $, h, replaceChildren, setBanner, whileBusy } from './dom';
import { sampleMessage, type SampleFormat } from './message-samples';

interface AckSummary {
  code: string;
  control_id: string;
  text: string;
  errors: { location: string; code: string; condition: string; severity: string; text: string }[];
}

interface FhirIssue {
  severity: string;
  code: string;
  expression?: string[];
  diagnostics?: string;
}

interface RecordedLine {
  appointment_id: string;
  event_type?: string;
  outcome: string;
  disposition?: string | null;
  message?: string;
  reason?: string;
  patient_phone?: string;
}

interface SimulatedAnswer {
  format: SampleFormat;
  /** The HTTP status the intake answered the engine with. */
  status: number;
  answer: unknown;
  ack?: AckSummary;
  recorded: RecordedLine[];
}

const ENDPOINT: Record<SampleFormat, string> = { hl7v2: 'POST /ehr/hl7', 'fhir-r4': 'POST /ehr/fhir' };

function randomTag(): string {
  const bytes = new Uint8Array(3);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function table(caption: string, head: (Node | string)[], rows: (Node | string)[][]): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((c) => h('td', {}, c))))),
    ),
  );
}

/**
 * The paste box: the admin plays an integration engine sending one HL7 v2 or FHIR message to the
 * real endpoint, and sees the ACK or OperationOutcome it would get and what was recorded.
 */
export function setUpMessagePaste(options: {
  now: () => number;
  onRecorded: (lines: RecordedLine[]) => void;
  highlight: (appointmentId: string) => Promise<void>;
}) {
  const form = $<HTMLFormElement>('paste-form');
  const format = $<HTMLSelectElement>('paste-format');
  const message = $<HTMLTextAreaElement>('paste-message');
  const result = $('paste-result');
  const send = $<HTMLButtonElement>('paste-send');
  const selected = (): SampleFormat => (format.value === 'fhir-r4' ? 'fhir-r4' : 'hl7v2');

  const clearError = () => {
    message.removeAttribute('aria-invalid');
    document.getElementById('paste-message-error')?.remove();
    message.setAttribute('aria-describedby', 'paste-hint');
  };
  const markError = (text: string) => {
    clearError();
    message.setAttribute('aria-invalid', 'true');
    message.setAttribute('aria-describedby', 'paste-hint paste-message-error');
    message.after(h('p', { class: 'field-error', id: 'paste-message-error' }, text));
    message.focus();
  };

  $('paste-sample').addEventListener('click', () => {
    clearError();
    message.value = sampleMessage(selected(), { now: options.now(), tag: randomTag() });
    result.hidden = true;
  });

  /** Highlights the appointment in the table (as the simulation form's is) and brings its row into view. */
  const show = async (id: string) => {
    await options.highlight(id);
    const row = Array.from(document.querySelectorAll<HTMLTableRowElement>('#appointments-table tr[data-appointment-id]')).find(
      (r) => r.dataset.appointmentId === id,
    );
    row?.scrollIntoView({ block: 'center' });
    row?.querySelector('button')?.focus({ preventScroll: true });
  };

  const recordedTable = (lines: RecordedLine[]) =>
    lines.length === 0
      ? h('p', { class: 'muted' }, 'Nothing was recorded.')
      : table(
          'What was recorded',
          ['Appointment', 'Event', 'Outcome', 'Disposition', 'Text', h('span', { class: 'visually-hidden' }, 'Actions')],
          lines.map((r) => [
            h('span', { class: 'mono' }, r.appointment_id),
            r.event_type ?? '',
            `${r.outcome}${r.reason ? ` (${r.reason})` : ''}`,
            r.disposition ? h('span', { class: `badge disp-${r.disposition}` }, r.disposition) : '',
            r.message ?? 'no text',
            h(
              'button',
              {
                type: 'button',
                class: 'secondary small',
                'data-show': r.appointment_id,
                'aria-label': `Show ${r.appointment_id} in the appointments table`,
                onclick: () => void show(r.appointment_id),
              },
              'Show in the table',
            ),
          ]),
        );

  const ackView = (ack: AckSummary) =>
    h(
      'div',
      {},
      h(
        'p',
        {},
        'MSA-1 ',
        h('strong', { class: 'mono', 'data-ack-code': ack.code }, ack.code),
        ack.text ? ` · MSA-3 ${ack.text}` : '',
        ack.control_id ? h('span', { class: 'muted' }, ` · answers MSH-10 ${ack.control_id}`) : '',
      ),
      ack.errors.length > 0
        ? table(
            'ERR segments',
            ['Where (ERR-2)', 'Condition (ERR-3)', 'Severity', 'Text (ERR-8)'],
            ack.errors.map((e) => [h('span', { class: 'mono' }, e.location || '—'), `${e.code} ${e.condition}`.trim(), e.severity, e.text]),
          )
        : null,
    );

  const outcomeView = (issues: FhirIssue[]) =>
    table(
      'OperationOutcome issues',
      ['Severity', 'Code', 'Expression', 'Diagnostics'],
      issues.map((i) => [i.severity, i.code, h('span', { class: 'mono' }, (i.expression ?? []).join(', ')), i.diagnostics ?? '']),
    );

  const render = (r: SimulatedAnswer) => {
    const ack = r.ack;
    const issues = r.format === 'fhir-r4' ? ((r.answer as { issue?: FhirIssue[] } | undefined)?.issue ?? []) : [];
    const accepted = r.status < 300;
    const state = !accepted ? 'error' : r.recorded.some((l) => l.outcome === 'applied') ? 'ok' : 'warning';
    const what = ack
      ? `${ack.code}${ack.text ? `: ${ack.text}` : ''}`
      : r.format === 'fhir-r4'
        ? `an OperationOutcome with ${issues.length} issue${issues.length === 1 ? '' : 's'}`
        : 'no ACK';
    const banner = h('p', { class: 'banner', id: 'paste-summary' });
    setBanner(banner, state, `${ENDPOINT[r.format]} answered ${r.status}, ${what}.`);
    const raw =
      r.format === 'hl7v2' && typeof (r.answer as { ack?: unknown } | undefined)?.ack === 'string'
        ? (r.answer as { ack: string }).ack.split('\r').filter(Boolean).join('\n')
        : JSON.stringify(r.answer, null, 2);
    replaceChildren(
      result,
      banner,
      h('h4', {}, r.format === 'hl7v2' ? 'ACK' : 'OperationOutcome'),
      ack ? ackView(ack) : r.format === 'fhir-r4' ? outcomeView(issues) : null,
      h('details', {}, h('summary', {}, 'The whole answer'), h('pre', { class: 'mono' }, raw)),
      h('h4', {}, 'What was recorded'),
      recordedTable(r.recorded),
    );
    result.hidden = false;
  };

  async function submit(): Promise<void> {
    clearError();
    const f = selected();
    result.hidden = false;
    replaceChildren(result, h('p', { class: 'banner', 'data-state': 'loading' }, `Sending to ${ENDPOINT[f]}…`));
    try {
      const r = await call<SimulatedAnswer>('admin/simulate-message', { method: 'POST', body: { format: f, message: message.value } });
      render(r);
      if (r.recorded.length > 0) options.onRecorded(r.recorded);
    } catch (err) {
      const problem = err instanceof ApiError ? err.problems.find((p) => p.field === 'message') : undefined;
      if (problem) markError(`Message ${problem.message}`);
      replaceChildren(result, h('p', { class: 'banner', 'data-state': 'error' }, `Not sent: ${describe(err)}`));
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void whileBusy(send, submit);
  });
}
