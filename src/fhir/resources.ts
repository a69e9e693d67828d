import type { Appointment, AppointmentParticipant, ContactPoint, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { z } from 'zod';

/*
 * Runtime schemas for the FHIR R4 elements the intake reads, and nothing more: unknown elements
 * are dropped, so a profile's extras never make a resource invalid. The code lists come from the
 * R4 value sets (typed against @medplum/fhirtypes so a typo does not compile).
 */

export const APPOINTMENT_STATUSES = [
  'proposed',
  'pending',
  'booked',
  'arrived',
  'fulfilled',
  'cancelled',
  'noshow',
  'entered-in-error',
  'checked-in',
  'waitlist',
] as const satisfies readonly Appointment['status'][];
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

export const PARTICIPANT_STATUSES = [
  'accepted',
  'declined',
  'tentative',
  'needs-action',
] as const satisfies readonly AppointmentParticipant['status'][];
export type ParticipantStatus = (typeof PARTICIPANT_STATUSES)[number];

const CONTACT_SYSTEMS = ['phone', 'fax', 'email', 'pager', 'url', 'sms', 'other'] as const satisfies readonly NonNullable<
  ContactPoint['system']
>[];

const str = z.string({ error: 'must be a string' });

export const Period = z.object({ start: str.optional(), end: str.optional() });
export const Identifier = z.object({ system: str.optional(), value: str.optional() });
export const Coding = z.object({ system: str.optional(), code: str.optional(), display: str.optional() });
export const CodeableConcept = z.object({ coding: z.array(Coding).optional(), text: str.optional() });
export const Reference = z.object({
  reference: str.optional(),
  type: str.optional(),
  identifier: Identifier.optional(),
  display: str.optional(),
});
export type Reference = z.infer<typeof Reference>;
export const Meta = z.object({ versionId: str.optional(), lastUpdated: str.optional() });

export const HumanName = z.object({
  use: str.optional(),
  text: str.optional(),
  family: str.optional(),
  given: z.array(str).optional(),
  period: Period.optional(),
});
export type HumanName = z.infer<typeof HumanName>;

export const ContactPointSchema = z.object({
  system: z.enum(CONTACT_SYSTEMS, { error: `must be one of ${CONTACT_SYSTEMS.join(', ')}` }).optional(),
  value: str.optional(),
  use: str.optional(),
  rank: z.number({ error: 'must be a positive integer' }).int().positive().optional(),
  period: Period.optional(),
});
export type ContactPointInput = z.infer<typeof ContactPointSchema>;

const Extension = z.object({ url: str, valueCode: str.optional(), valueString: str.optional(), valueReference: Reference.optional() });

export const AppointmentParticipantSchema = z.object({
  type: z.array(CodeableConcept).optional(),
  actor: Reference.optional(),
  required: str.optional(),
  status: z.enum(PARTICIPANT_STATUSES, {
    error: (i) => (i.input === undefined ? 'is required' : `must be one of ${PARTICIPANT_STATUSES.join(', ')}`),
  }),
});

export const AppointmentResource = z.object({
  resourceType: z.literal('Appointment'),
  id: str.optional(),
  meta: Meta.optional(),
  identifier: z.array(Identifier).optional(),
  status: z.enum(APPOINTMENT_STATUSES, {
    error: (i) => (i.input === undefined ? 'is required' : `is not an R4 appointment status (one of ${APPOINTMENT_STATUSES.join(', ')})`),
  }),
  start: str.optional(),
  end: str.optional(),
  participant: z
    .array(AppointmentParticipantSchema, { error: 'is required (an array of participants)' })
    .min(1, { error: 'must name at least one participant' }),
  contained: z.array(z.unknown()).optional(),
  patientInstruction: str.optional(),
});
export type AppointmentResource = z.infer<typeof AppointmentResource>;

export const PatientResource = z.object({
  resourceType: z.literal('Patient'),
  id: str.optional(),
  name: z.array(HumanName).optional(),
  telecom: z.array(ContactPointSchema).optional(),
  communication: z.array(z.object({ language: CodeableConcept, preferred: z.boolean().optional() })).optional(),
});
export type PatientResource = z.infer<typeof PatientResource>;

export const PractitionerResource = z.object({
  resourceType: z.literal('Practitioner'),
  id: str.optional(),
  name: z.array(HumanName).optional(),
});
export type PractitionerResource = z.infer<typeof PractitionerResource>;

export const LocationResource = z.object({
  resourceType: z.literal('Location'),
  id: str.optional(),
  name: str.optional(),
  address: z.object({ line: z.array(str).optional(), text: str.optional() }).optional(),
  extension: z.array(Extension).optional(),
});
export type LocationResource = z.infer<typeof LocationResource>;

export const BUNDLE_TYPES_READ = ['transaction', 'batch', 'collection', 'searchset', 'history'] as const;

export const BundleResource = z.object({
  resourceType: z.literal('Bundle'),
  id: str.optional(),
  type: str,
  timestamp: str.optional(),
  entry: z
    .array(
      z.object({
        fullUrl: str.optional(),
        resource: z.record(z.string(), z.unknown()).optional(),
        search: z.object({ mode: str.optional() }).optional(),
      }),
    )
    .optional(),
});
export type BundleResource = z.infer<typeof BundleResource>;

const NotificationEvent = z.object({
  id: str.optional(),
  eventNumber: z.union([str, z.number()]).optional(),
  timestamp: str.optional(),
  focus: Reference.optional(),
});

/** R4B/R5 SubscriptionStatus, which athena sends inside R4 notifications. */
export const SubscriptionStatusResource = z.object({
  resourceType: z.literal('SubscriptionStatus'),
  type: str,
  topic: str.optional(),
  notificationEvent: z.array(NotificationEvent).optional(),
});

const ParameterPart = z.object({
  name: str,
  valueCode: str.optional(),
  valueString: str.optional(),
  valueUri: str.optional(),
  valueCanonical: str.optional(),
  valueInstant: str.optional(),
  valueReference: Reference.optional(),
});

/** The R4 backport IG's status resource: Parameters with the backport-subscriptionstatus profile. */
export const StatusParameters = z.object({
  resourceType: z.literal('Parameters'),
  parameter: z.array(ParameterPart.extend({ part: z.array(ParameterPart).optional() })),
});

export type Issue = Required<Pick<OperationOutcomeIssue, 'severity' | 'code' | 'diagnostics'>> & { expression: string[] };

/** A zod issue path below `base` as a FHIRPath: `Appointment.participant[0].status`. */
export function fhirPath(base: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), base);
}

/** A schema's problems as OperationOutcome issues, each at its FHIRPath below `base`. */
export function schemaIssues(error: z.ZodError, base: string): Issue[] {
  return error.issues.map((i) => {
    const unknownCode = i.path.at(-1) === 'status' && i.code === 'invalid_value';
    return {
      severity: 'error',
      code:
        i.message === 'is required' || i.code === 'too_small'
          ? 'required'
          : unknownCode
            ? 'code-invalid'
            : i.code === 'invalid_type'
              ? 'structure'
              : 'value',
      diagnostics: `${fhirPath(base, i.path)} ${i.message}`,
      expression: [fhirPath(base, i.path)],
    };
  });
}

/** Where an element came from, for error expressions: `Appointment.start`, `Patient.telecom`. */
export type Source = string;
