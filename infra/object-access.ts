import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledge } from './constructs/acknowledge';

/**
 * What one principal may do with the bucket, by key family (src/storage/keys.ts documents the
 * layout): read and list everything, write and delete only the families it owns, and create history
 * records once.
 */
export interface ObjectAccess {
  /** Key patterns written unconditionally or with If-Match (state, index entries, outbox, …). */
  writes: string[];
  deletes: string[];
  /** Append-only families besides history that it may create, each object once (If-None-Match: *). */
  creates?: string[];
}

/** One record per event, never overwritten or deleted (appendHistory writes with If-None-Match: *). */
export const HISTORY_KEYS = 'appointments/*/history/*';

/** The admin audit log: one object per entry, never overwritten or deleted (appendAudit, If-None-Match: *). */
export const AUDIT_KEYS = 'audit/*';

/** Texts staff sent from the inbox: part of the appointment's record, like its history. */
export const STAFF_TEXT_KEYS = 'appointments/*/staff/*';

/** Every family whose objects are created once and then only read. */
export const APPEND_ONLY_KEYS = [HISTORY_KEYS, AUDIT_KEYS, STAFF_TEXT_KEYS];

/**
 * The dashboard's daily counters and the markers of the facts they counted: written by every
 * principal that records a fact (a text sent, a reminder, a reply, a receipt, an EHR event); a
 * marker is deleted again when its counter could not be incremented (src/storage/s3-appointment-store.ts).
 */
const FIGURE_WRITES = ['stats/daily/*', 'stats/facts/*'];
const FIGURE_DELETES = ['stats/facts/*'];

/** The admin list's index (src/storage/listing-index.ts): entries written before a state, replaced ones deleted after. */
const LISTING_KEYS = ['index/by-time/*', 'index/by-change/*', 'index/name/*'];

/** Change markers the intake writes before a state it does not file (src/use-cases/file-changes.ts). */
export const CHANGE_MARKER_KEYS = 'index/changes/*';

/**
 * What filing a change writes and deletes (src/use-cases/filing.ts): the due, phone and listing
 * indexes and the dashboard's counters; filers also retire change markers. The sweep and the
 * Functions file (the sweep before each run, the admin list and dashboard before they read).
 */
const FILING_WRITES = ['index/due/*', 'index/phone/*', ...LISTING_KEYS, ...FIGURE_WRITES];
const FILING_DELETES = [...LISTING_KEYS, CHANGE_MARKER_KEYS, ...FIGURE_DELETES];

/** The sweep records REMIND/EXPIRED events, keeps claims, the legacy outbox and its heartbeat. */
export const SWEEP_OBJECT_ACCESS: ObjectAccess = {
  writes: [
    'appointments/*/state.json',
    'appointments/*/requests/*',
    'outbox/*',
    'claims/reminders/*',
    'status/sweep.json',
    ...FILING_WRITES,
  ],
  deletes: ['index/due/*', 'outbox/*', 'claims/reminders/*', ...FILING_DELETES],
};

/**
 * Intake, replies and the admin page: events, opt-outs, EHR requests, inbound sightings, login
 * attempts, events refused at the Studio flow, the clinic inbox, and the claims of the page's "simulate REMIND"
 * (it sends through the sweep's claim path); the admin page's staff users, and its audit entries, created once.
 */
export const FUNCTIONS_OBJECT_ACCESS: ObjectAccess = {
  writes: [
    'appointments/*/state.json',
    'appointments/*/requests/*',
    CHANGE_MARKER_KEYS,
    'optouts/*',
    'outbox/ehr/*',
    'inbound/*',
    'admin/attempts/*',
    'admin/users/*',
    'rejected/*',
    'claims/reminders/*',
    'inbox/*',
    'appointments/*/deliveries/*',
    'messages/*',
    ...FILING_WRITES,
  ],
  deletes: ['outbox/ehr/*', 'claims/reminders/*', ...FILING_DELETES],
  creates: [AUDIT_KEYS, STAFF_TEXT_KEYS],
};

/**
 * The intake (the raw-body receiver): events recorded through recordEvents and the texts they
 * claim (state, history, and the change markers of what it leaves to the filer: it writes no
 * index itself). A subset of the Functions' list, which also covers replies and the admin page.
 */
export const INTAKE_OBJECT_ACCESS: ObjectAccess = {
  writes: ['appointments/*/state.json', CHANGE_MARKER_KEYS],
  deletes: [],
};

export const CREATE_ONLY = { 's3:if-none-match': '*' };

/**
 * The grants of one principal. An IAM wildcard also matches `/`, so the write pattern for state.json
 * would also match `appointments/<id>/history/state.json`: the two Deny statements keep the history (and the audit log)
 * append-only whatever the Allow statements match.
 */
export function objectAccessStatements(bucket: s3.IBucket, access: ObjectAccess): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  const add = (statement: iam.PolicyStatementProps) => statements.push(new iam.PolicyStatement(statement));
  const objects = (patterns: string[]) => patterns.map((p) => bucket.arnForObjects(p));
  add({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('*')] });
  add({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] });
  add({ actions: ['s3:PutObject'], resources: objects(access.writes) });
  add({
    actions: ['s3:PutObject'],
    resources: objects([HISTORY_KEYS, ...(access.creates ?? [])]),
    conditions: { StringEquals: CREATE_ONLY },
  });
  if (access.deletes.length > 0) add({ actions: ['s3:DeleteObject'], resources: objects(access.deletes) });
  // A missing If-None-Match header makes StringNotEquals true, so a plain PUT is denied too.
  add({
    effect: iam.Effect.DENY,
    actions: ['s3:PutObject'],
    resources: objects(APPEND_ONLY_KEYS),
    conditions: { StringNotEquals: CREATE_ONLY },
  });
  add({ effect: iam.Effect.DENY, actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'], resources: objects(APPEND_ONLY_KEYS) });
  return statements;
}

/** Each key-family wildcard is a finding of its own (AwsSolutions-IAM5); the reason is the same. */
export function acknowledgeObjectPatterns(policy: iam.ManagedPolicy, bucket: s3.Bucket, access: ObjectAccess): void {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  const patterns = [...new Set(['*', ...APPEND_ONLY_KEYS, ...access.writes, ...(access.creates ?? []), ...access.deletes])];
  acknowledge(
    policy,
    patterns.map((p) => [
      `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${p}]`,
      p === '*'
        ? 'reads cover the whole data bucket: every use case reads state, history and indexes of any appointment'
        : `one key family of the data bucket (src/storage/keys.ts); the wildcard stands for encoded appointment, phone or event ids`,
    ]),
  );
}
