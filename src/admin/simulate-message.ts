import { z } from 'zod';
import { parseEr7, segmentsOf, valueAt } from '../domain/hl7/er7';
import { OUTCOME_SYSTEM } from '../fhir/outcome';
import { handleFhirIntake } from '../http/fhir-intake';
import { handleHl7Intake } from '../http/hl7-intake';
import { MAX_BODY_BYTES, type IntakeRequest } from '../http/intake';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import type { FunctionsRuntime } from '../runtime/functions';
import { fhirIntakeDeps, hl7IntakeDeps } from '../runtime/intake-deps';
import { refuseWhenOff, simulationGate } from './simulation-gate';

/** The formats the page can paste, each sent to the endpoint an engine would use. */
export const MESSAGE_FORMATS = ['hl7v2', 'fhir-r4'] as const;
export type MessageFormat = (typeof MESSAGE_FORMATS)[number];

export const SimulatedMessage = z.object({
  format: z.enum(MESSAGE_FORMATS, { error: `must be one of ${MESSAGE_FORMATS.join(', ')}` }),
  message: z
    .string({ error: 'must be the message text' })
    .refine((m) => m.trim() !== '', 'is empty: paste a message or load a sample')
    .refine((m) => Buffer.byteLength(m, 'utf8') <= MAX_BODY_BYTES, `is larger than the intake's limit of ${MAX_BODY_BYTES} bytes`),
});
export type SimulatedMessage = z.infer<typeof SimulatedMessage>;

/** What the intake did to one appointment, as its answer says, with the number it texts. */
export interface RecordedLine {
  appointment_id: string;
  event_type?: string;
  outcome: string;
  disposition?: string | null;
  /** What became of the text: started, opted-out, queued-for-retry, refused… */
  message?: string;
  reason?: string;
  /** E.164, from the stored appointment, so the page can follow the conversation. */
  patient_phone?: string;
}

/** MSA and ERR of an ACK, decoded (HL7 v2.5 §2.14.8 MSA, §2.14.5 ERR). */
export interface AckSummary {
  code: string;
  control_id: string;
  text: string;
  errors: { location: string; code: string; condition: string; severity: string; text: string }[];
}

/**
 * Sends a pasted HL7 v2 SIU or FHIR R4 message through the same handler, deps and EHR key as
 * `POST /ehr/hl7` and `POST /ehr/fhir`, and answers what the engine would get back (the ACK or
 * OperationOutcome and its status) beside what was recorded. The admin call itself succeeds
 * whatever the intake said; only a request the page should not have sent is a 400.
 */
export async function simulateMessage(runtime: FunctionsRuntime, params: Record<string, unknown>, requestId: string): Promise<HttpReply> {
  const gate = simulationGate(runtime.config);
  const off = refuseWhenOff(gate, requestId);
  if (off) return off;
  // A pasted message can name any number, and a FHIR one can have it fetched from the EHR, so it
  // cannot be held to the allow list before it is recorded: deployed, only the event form runs.
  if (gate.mode === 'deployed') {
    return errorReply(
      'forbidden',
      'pasted messages are not simulated in a deployed service; use the event form, which texts only SIMULATION_ALLOWED_PHONES',
      requestId,
      {
        problems: [{ field: 'format', message: 'pasted messages run only with npm start' }],
      },
    );
  }
  const parsed = SimulatedMessage.safeParse(params);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'request'), message: i.message }));
    return errorReply('invalid-request', problems.map((p) => `${p.field} ${p.message}`).join('; '), requestId, { problems });
  }
  const { format, message } = parsed.data;
  const authorization = `Bearer ${runtime.config.EHR_API_KEY}`;
  if (format === 'hl7v2') {
    const reply = await handleHl7Intake(
      { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: { message } },
      hl7IntakeDeps(runtime),
      requestId,
    );
    const body = reply.body as { ack?: string; result?: Partial<RecordedLine> };
    const recorded = body.result?.appointment_id ? [lineOf(body.result as RecordedLine)] : [];
    return answer(
      runtime,
      { format, status: reply.status, answer: body, ...(body.ack ? { ack: summariseAck(body.ack) } : {}) },
      recorded,
      requestId,
    );
  }
  // The raw bytes, as an engine sends them: the intake decodes and checks them itself.
  const bytes = Buffer.from(message, 'utf8');
  const req: IntakeRequest = {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json', 'content-length': String(bytes.byteLength) },
    rawBody: bytes,
  };
  const reply = await handleFhirIntake(req, fhirIntakeDeps(runtime), requestId);
  return answer(runtime, { format, status: reply.status, answer: reply.body }, fhirLines(reply.body), requestId);
}

async function answer(
  runtime: FunctionsRuntime,
  base: Record<string, unknown>,
  recorded: RecordedLine[],
  requestId: string,
): Promise<HttpReply> {
  const withPhones = await Promise.all(
    recorded.map(async (line) => {
      const state = await runtime.store.getState(line.appointment_id).catch(() => null);
      const phone = state?.value.facts.patient_phone;
      return phone ? { ...line, patient_phone: phone } : line;
    }),
  );
  return jsonReply(200, { ...base, recorded: withPhones }, requestId);
}

function lineOf(r: RecordedLine): RecordedLine {
  return {
    appointment_id: r.appointment_id,
    ...(r.event_type ? { event_type: r.event_type } : {}),
    outcome: r.outcome,
    disposition: r.disposition ?? null,
    ...(r.message ? { message: r.message } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

/** The per-appointment lines of a FHIR answer: the informational issues coded by the intake (src/fhir/outcome.ts). */
function fhirLines(body: unknown): RecordedLine[] {
  const issues = (body as { issue?: { details?: { coding?: { system?: string; code?: string }[] } }[] } | undefined)?.issue ?? [];
  return issues.flatMap((issue) => {
    const coded = Object.fromEntries(
      (issue.details?.coding ?? [])
        .filter((c) => c.system?.startsWith(`${OUTCOME_SYSTEM}:`))
        .map((c): [string, string | undefined] => [c.system?.slice(OUTCOME_SYSTEM.length + 1) ?? '', c.code]),
    );
    if (!coded['appointment-id'] || !coded.outcome) return [];
    return [
      lineOf({
        appointment_id: coded['appointment-id'],
        event_type: coded['event-type'],
        outcome: coded.outcome,
        disposition: coded.disposition ?? null,
        message: coded.message,
      }),
    ];
  });
}

export function summariseAck(ack: string): AckSummary | undefined {
  const parsed = parseEr7(ack);
  if (!parsed.ok) return undefined;
  const msa = segmentsOf(parsed.message, 'MSA')[0];
  return {
    code: valueAt(msa, 1),
    control_id: valueAt(msa, 2),
    text: valueAt(msa, 3),
    errors: segmentsOf(parsed.message, 'ERR').map((err) => {
      const [segment, , field, , component] = [1, 2, 3, 4, 5].map((c) => valueAt(err, 2, c));
      return {
        location: segment ? `${segment}${field ? `-${field}${component ? `.${component}` : ''}` : ''}` : '',
        code: valueAt(err, 3, 1),
        condition: valueAt(err, 3, 2),
        severity: valueAt(err, 4),
        text: valueAt(err, 8),
      };
    }),
  };
}
