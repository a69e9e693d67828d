import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Issue } from './resources';

/** The system of the codings that say, per appointment, what the intake did (see README "Connecting a FHIR feed"). */
export const OUTCOME_SYSTEM = 'urn:appointment-reminders:fhir-intake';

export function operationOutcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export function errorIssue(code: Issue['code'], expression: string | undefined, diagnostics: string): Issue {
  return { severity: 'error', code, diagnostics, expression: expression ? [expression] : [] };
}

/** An issue without an empty `expression` (FHIR forbids empty arrays). */
export function cleanIssue(i: Issue): OperationOutcomeIssue {
  return {
    severity: i.severity,
    code: i.code,
    diagnostics: i.diagnostics,
    ...(i.expression.length > 0 ? { expression: i.expression } : {}),
  };
}

/**
 * One appointment's line of a successful answer: an informational issue whose codings carry the
 * appointment id, the event type, what applying it did and what became of its text.
 */
export function resultIssue(r: {
  appointment_id: string;
  event_id?: string;
  event_type?: string;
  outcome: string;
  disposition?: string | null;
  message?: string;
  message_reason?: string;
  reason?: string;
  expression: string;
}): OperationOutcomeIssue {
  const coding = [
    { system: `${OUTCOME_SYSTEM}:appointment-id`, code: r.appointment_id },
    ...(r.event_id ? [{ system: `${OUTCOME_SYSTEM}:event-id`, code: r.event_id }] : []),
    ...(r.event_type ? [{ system: `${OUTCOME_SYSTEM}:event-type`, code: r.event_type }] : []),
    { system: `${OUTCOME_SYSTEM}:outcome`, code: r.outcome },
    ...(r.disposition ? [{ system: `${OUTCOME_SYSTEM}:disposition`, code: r.disposition }] : []),
    ...(r.message ? [{ system: `${OUTCOME_SYSTEM}:message`, code: r.message }] : []),
  ];
  const said = [
    r.event_type ? `${r.event_type} ${r.outcome}` : r.outcome,
    r.reason ? `(${r.reason})` : '',
    r.message ? `; text ${r.message}${r.message_reason ? ` (${r.message_reason})` : ''}` : '',
  ]
    .join(' ')
    .replace(/\s+/g, ' ')
    .replace(' ;', ';')
    .trim();
  return {
    severity: 'information',
    code: 'informational',
    details: { coding, text: r.outcome },
    diagnostics: `appointment ${r.appointment_id}: ${said}`,
    expression: [r.expression],
  };
}
