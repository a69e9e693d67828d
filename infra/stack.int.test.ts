import { afterAll, describe, expect, it, vi } from 'vitest';

// aws-cdk-lib keeps an asset fingerprint cache under os.homedir() and reads HOME when it loads,
// so HOME must point at a scratch folder before the first import of the library.
const sandbox = vi.hoisted(() => {
  const fs = process.getBuiltinModule('node:fs');
  const os = process.getBuiltinModule('node:os');
  const path = process.getBuiltinModule('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'appointment-stack-test-'));
  const realHome = process.env.HOME;
  process.env.HOME = path.join(dir, 'home');
  return { dir, realHome };
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import {
  attemptLogKey,
  auditKey,
  staffUserKey,
  dailyFiguresKey,
  dueKey,
  figureFactKey,
  historyKey,
  inboundKey,
  rejectedKey,
  inboxAckKey,
  inboxItemId,
  inboxItemKey,
  staffMessageKey,
  deliveryKey,
  messageLinkKey,
  optOutKey,
  outboxKey,
  phoneIndexKey,
  receiptKey,
  reminderClaimKey,
  stateKey,
  SWEEP_STATUS_KEY,
  changeKey,
} from '../src/storage/keys';
import { allListingKeys } from '../src/storage/listing-index';
import { INTAKE_SECRET_FIELDS as RUNTIME_INTAKE_SECRET_FIELDS } from '../src/runtime/receiver';
import {
  APPEND_ONLY_KEYS,
  AppointmentStack,
  FUNCTIONS_OBJECT_ACCESS,
  HISTORY_KEYS,
  INTAKE_OBJECT_ACCESS,
  INTAKE_SECRET_FIELDS,
  SWEEP_OBJECT_ACCESS,
  type AppointmentStackProps,
  DEFAULT_REMINDER_SETTINGS,
  TWILIO_SECRET_PLACEHOLDER,
} from './stack';
import { loadDeploySettings } from '../scripts/lib/deploy/settings';
import { TWILIO_SECRET_FIELDS, TwilioSecret } from '../src/config/rules';
import { parseTwilioSecret } from '../src/runtime/sweep';
import { validEnv } from '../test/deploy/support';

afterAll(() => {
  if (sandbox.realHome === undefined) delete process.env.HOME;
  else process.env.HOME = sandbox.realHome;
  fs.rmSync(sandbox.dir, { recursive: true, force: true });
});

let synths = 0;

/** Synthesizes into the sandbox; bundling is skipped unless a test needs the real bundle. */
function synth(props: Partial<AppointmentStackProps> = {}, options: { bundle?: boolean } = {}) {
  synths += 1;
  const outdir = path.join(sandbox.dir, `cdk.out-${synths}`);
  // Asset metadata (set by the CLI, off in a bare App) says where the bundle was staged.
  const context = options.bundle ? { 'aws:cdk:enable-asset-metadata': true } : { 'aws:cdk:bundling-stacks': [] };
  const app = new App({ outdir, context });
  const stack = new AppointmentStack(app, 'Appointments-test', { customerCode: 'test', ...props });
  return { stack, template: Template.fromStack(stack), outdir };
}

const { template } = synth();
const BUCKET = 'Data666C94C7';
const bucketArn = { 'Fn::GetAtt': [BUCKET, 'Arn'] };
const objectsArn = { 'Fn::Join': ['', [bucketArn, '/*']] };

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
function statementsOf(type: string, t = template): { id: string; statement: Statement }[] {
  return Object.entries(t.findResources(type)).flatMap(([id, r]) =>
    ((r.Properties.PolicyDocument as { Statement?: Statement[] }).Statement ?? []).map((statement) => ({ id, statement })),
  );
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const objectArn = (pattern: string) => ({ 'Fn::Join': ['', [bucketArn, `/${pattern}`]] });

/** The key pattern of an object ARN as the stack renders it (`<bucket ARN>/<pattern>`). */
function patternOf(resource: unknown): string | undefined {
  const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const [arn, suffix] = join?.[1] ?? [];
  return JSON.stringify(arn) === JSON.stringify(bucketArn) && typeof suffix === 'string' ? suffix.slice(1) : undefined;
}

const globMatches = (pattern: string, key: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(key);

function conditionHolds(condition: unknown, context: Record<string, string>): boolean {
  for (const [operator, pairs] of Object.entries((condition ?? {}) as Record<string, Record<string, string>>)) {
    for (const [key, value] of Object.entries(pairs)) {
      if (operator === 'StringEquals') {
        if (context[key] !== value) return false;
      } else if (operator === 'StringNotEquals') {
        // An absent key makes a negated operator true (IAM policy reference, condition operators).
        if (context[key] === value) return false;
      } else {
        throw new Error(`operator ${operator} is not modelled here`);
      }
    }
  }
  return true;
}

/** IAM's decision on an object request of one principal: an explicit Deny wins, then any Allow. */
function allowed(owner: string, action: string, key: string, context: Record<string, string>): boolean {
  const applicable = statementsOf('AWS::IAM::ManagedPolicy')
    .filter(
      ({ id, statement }) => id.startsWith(owner) && actionsOf(statement).includes(action) && conditionHolds(statement.Condition, context),
    )
    .map(({ statement }) => statement)
    .filter((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).some((r) => globMatches(patternOf(r) ?? '', key)));
  return !applicable.some((s) => s.Effect === 'Deny') && applicable.some((s) => s.Effect === 'Allow');
}

describe('the data bucket', () => {
  it('blocks public access, encrypts at rest, keeps versions, and names itself after the customer', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      BucketName: { 'Fn::Join': ['', Match.arrayWith(['appointments-test-'])] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } })] },
    });
  });

  it('is retained when the stack is deleted, unless deleting data was asked for', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    const deletable = synth({ deleteDataOnDestroy: true }).template;
    deletable.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    deletable.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });

  it('refuses every request that does not use TLS (1.2 or later)', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: [bucketArn, objectsArn],
          }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
    // The data bucket's policy only denies.
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: BUCKET } } }))[0];
    for (const statement of policy?.Properties.PolicyDocument.Statement as Statement[]) expect(statement.Effect).toBe('Deny');
  });
});

describe('the access logs', () => {
  const logs = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('AccessLogs')) as string;

  it('are written for the data bucket into a bucket of their own, under data/', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: Match.anyValue(),
      LoggingConfiguration: { DestinationBucketName: { Ref: logs }, LogFilePrefix: 'data/' },
    });
  });

  it('are kept six years, encrypted, versioned, private, and outlive the stack even when the data is deleted', () => {
    const expected = {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 2190 })] },
        LoggingConfiguration: Match.absent(),
      }),
    };
    expect(template.findResources('AWS::S3::Bucket')[logs]).toMatchObject({ DeletionPolicy: 'Retain' });
    template.hasResource('AWS::S3::Bucket', expected);
    synth({ deleteDataOnDestroy: true }).template.hasResource('AWS::S3::Bucket', expected);
  });

  it('take only TLS requests, and only the S3 logging service for this data bucket may write them', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logs },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logs, 'Arn'] }, '/data/*']] },
            Condition: { ArnLike: { 'aws:SourceArn': bucketArn }, StringEquals: { 'aws:SourceAccount': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('the sweep Lambda', () => {
  it('runs Node.js 24 with the default timeout and memory', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'appointment-sweep-test',
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 840,
      MemorySize: 1024,
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it('never runs twice at once: reserved concurrency 1', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'appointment-sweep-test', ReservedConcurrentExecutions: 1 });
  });

  it('runs as a role of its own with one customer managed policy: no AWS managed or inline policies anywhere', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'appointment-sweep-test',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })] },
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'appointment-sweep-test',
      Roles: [{ Ref: Match.stringLikeRegexp('^SweepRole') }],
    });
    template.resourceCountIs('AWS::IAM::Policy', 0);
  });

  it('writes only its own log group', () => {
    const logs = statementsOf('AWS::IAM::ManagedPolicy').filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('logs:')));
    expect(logs.map(({ id, statement }) => [id, statement])).toEqual([
      [
        expect.stringMatching(/^SweepAccess/),
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SweepLogs/), 'Arn'] },
        },
      ],
    ]);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('gets the bucket, the secret ARN and the reminder settings in its environment, and no reserved AWS_REGION', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          CUSTOMER_CODE: 'test',
          S3_BUCKET: { Ref: BUCKET },
          TWILIO_SECRET_ARN: { Ref: Match.stringLikeRegexp('^TwilioCredentials') },
          TWILIO_FLOW_SID: '',
          TWILIO_PHONE_NUMBER: '',
          REMINDER_FIRST_TIMING: '4800',
          REMINDER_SECOND_TIMING: '2400',
          REMINDER_OUTREACH_START: '0800',
          REMINDER_OUTREACH_FINISH: '2100',
          NODE_OPTIONS: '--enable-source-maps',
          AWS_REGION: Match.absent(),
        },
      },
    });
  });

  it('takes timeout, memory, reminder settings and Twilio ids from the stack props', () => {
    const custom = synth({
      sweepTimeout: Duration.seconds(90),
      sweepMemorySize: 512,
      reminders: { firstTiming: '7200', secondTiming: '0000', outreachStart: '0800', outreachFinish: '2000' },
      twilioFlowSid: `FW${'a'.repeat(32)}`,
      twilioPhoneNumber: '+14155550100',
      sweepEnvironment: { LOG_LEVEL: 'debug' },
    }).template;
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 90,
      MemorySize: 512,
      Environment: {
        Variables: Match.objectLike({
          REMINDER_FIRST_TIMING: '7200',
          REMINDER_SECOND_TIMING: '0000',
          REMINDER_OUTREACH_START: '0800',
          REMINDER_OUTREACH_FINISH: '2000',
          TWILIO_FLOW_SID: `FW${'a'.repeat(32)}`,
          TWILIO_PHONE_NUMBER: '+14155550100',
          LOG_LEVEL: 'debug',
        }),
      },
    });
  });

  it.each([
    [{ customerCode: 'Acme Clinic' }, /CUSTOMER_CODE "Acme Clinic"/],
    [{ reminders: { firstTiming: '48h' } }, /REMINDER_FIRST_TIMING "48h"/],
    [{ reminders: { outreachFinish: '2500' } }, /REMINDER_OUTREACH_FINISH "2500"/],
    [{ sweepEnvironment: { AWS_REGION: 'us-west-2' } }, /AWS_REGION is reserved/],
    [{ twilioFlowSid: 'flow-1' }, /TWILIO_FLOW_SID "flow-1"/],
    [{ sweepMemorySize: 64 }, /memory 64 MiB/],
  ] as [Partial<AppointmentStackProps>, RegExp][])('refuses invalid settings at synth: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('is really bundled by the local esbuild: one CommonJS file with a source map, the sweep inside, AWS SDK left out', () => {
    const { template: bundled, outdir } = synth({}, { bundle: true });
    const fn = Object.values(bundled.findResources('AWS::Lambda::Function'))[0] as { Metadata: Record<string, string> };
    expect(fn.Metadata['aws:asset:is-bundled']).toBe(true);
    const assetDir = path.join(outdir, fn.Metadata['aws:asset:path'] as string);
    expect(fs.readdirSync(assetDir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8');
    expect(code).toMatch(/module\.exports/);
    expect(code).toContain('sweep finished');
    expect(code).not.toMatch(/@aws-sdk\/client-s3\/dist/);
    expect(code).not.toMatch(/require\("twilio"\)/);
    // The fingerprint cache landed in the sandbox, not in the real HOME.
    expect(fs.existsSync(path.join(sandbox.dir, 'home', '.cdk', 'cache', 'fingerprints'))).toBe(true);
  });
});

describe('the stack and the deploy settings apply the same rules (src/config/rules.ts)', () => {
  const stackProps: Record<string, (v: string) => Partial<AppointmentStackProps>> = {
    CUSTOMER_CODE: (v) => ({ customerCode: v }),
    REMINDER_FIRST_TIMING: (v) => ({ reminders: { firstTiming: v } }),
    REMINDER_OUTREACH_FINISH: (v) => ({ reminders: { outreachFinish: v } }),
    TWILIO_PHONE_NUMBER: (v) => ({ twilioPhoneNumber: v }),
    ALARM_EMAIL: (v) => ({ alarmEmail: v }),
  };
  const deployProblem = (variable: string, value: string) => {
    const loaded = loadDeploySettings(validEnv({ [variable]: value }));
    return loaded.ok ? undefined : loaded.problems.find((p) => p.variable === variable);
  };

  it.each([
    ['CUSTOMER_CODE', 'acme-clinic'],
    ['CUSTOMER_CODE', 'Acme'],
    ['CUSTOMER_CODE', 'a'.repeat(21)],
    ['REMINDER_FIRST_TIMING', '48h'],
    ['REMINDER_FIRST_TIMING', '0160'],
    ['REMINDER_FIRST_TIMING', '9999'],
    ['REMINDER_OUTREACH_FINISH', '2401'],
    ['TWILIO_PHONE_NUMBER', '4155550100'],
    ['TWILIO_PHONE_NUMBER', '+0155550100'],
    ['ALARM_EMAIL', 'ops at clinic'],
  ])('both refuse %s=%j', (variable, value) => {
    expect(deployProblem(variable, value), 'deploy settings').toBeDefined();
    expect(() => synth((stackProps[variable] as (v: string) => Partial<AppointmentStackProps>)(value)), 'stack').toThrow(
      new RegExp(`${variable} "`),
    );
  });

  it.each([
    ['CUSTOMER_CODE', 'clinic2'],
    ['REMINDER_OUTREACH_FINISH', '2400'],
    ['TWILIO_PHONE_NUMBER', '+442071838750'],
  ])('both accept %s=%j', (variable, value) => {
    expect(deployProblem(variable, value), 'deploy settings').toBeUndefined();
    expect(() => synth((stackProps[variable] as (v: string) => Partial<AppointmentStackProps>)(value)), 'stack').not.toThrow();
  });

  it('defaults the reminder settings as the Functions do when .env leaves them unset', () => {
    const loaded = loadDeploySettings(
      validEnv({ REMINDER_FIRST_TIMING: undefined, REMINDER_OUTREACH_START: undefined, REMINDER_OUTREACH_FINISH: undefined }),
    );
    expect(loaded.ok && loaded.settings.reminders).toEqual({
      firstTiming: '4800',
      secondTiming: '2400',
      outreachStart: '0800',
      outreachFinish: '2100',
    });
    expect(DEFAULT_REMINDER_SETTINGS).toEqual(loaded.ok && loaded.settings.reminders);
  });
});

describe('the schedule', () => {
  it('runs the sweep every 15 minutes by default', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: 'appointment-sweep-test',
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sweep'), 'Arn'] } })],
    });
  });

  it.each([
    [events.Schedule.rate(Duration.minutes(5)), 'rate(5 minutes)'],
    [events.Schedule.expression('cron(0/10 12-23 * * ? *)'), 'cron(0/10 12-23 * * ? *)'],
  ])('uses a custom schedule: %s', (schedule, expression) => {
    synth({ sweepSchedule: schedule }).template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: expression });
  });

  it('lets only this rule invoke the Lambda', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sweep'), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SweepSchedule'), 'Arn'] },
    });
  });
});

describe('secrets and IAM', () => {
  it('creates the Twilio credentials secret with its fields, named after the customer', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'appointments-test/twilio',
      GenerateSecretString: {
        SecretStringTemplate: JSON.stringify({ account_sid: '', api_key_sid: '' }),
        GenerateStringKey: 'api_key_secret',
      },
    });
  });

  it('creates the placeholder in the shape the sweep reads, and the sweep refuses it until the deploy writes real values', () => {
    const placeholder = { ...TWILIO_SECRET_PLACEHOLDER, api_key_secret: 'g'.repeat(32) };
    expect(Object.keys(placeholder).sort()).toEqual(
      TWILIO_SECRET_FIELDS.filter((f) => !TwilioSecret.shape[f].safeParse(undefined).success).sort(),
    );
    expect(() => parseTwilioSecret(JSON.stringify(placeholder))).toThrow(/account_sid, api_key_sid/);
  });

  it('lets only the sweep read the Twilio secret', () => {
    const readers = statementsOf('AWS::IAM::ManagedPolicy').filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(readers).toHaveLength(1);
    expect(readers[0]?.id).toMatch(/^SweepAccess/);
    expect(readers[0]?.statement).toEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: { Ref: expect.stringMatching(/^TwilioCredentials/) },
    });
  });

  it('gives the Twilio Functions a user of their own with one access key, its permissions from a group only', () => {
    template.hasResourceProperties('AWS::IAM::User', {
      UserName: 'appointments-functions-test',
      Groups: [{ Ref: Match.stringLikeRegexp('^FunctionsGroup') }],
    });
    template.hasResourceProperties('AWS::IAM::Group', {
      GroupName: 'appointments-functions-test',
      ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('^FunctionsAccess') }],
    });
    template.resourceCountIs('AWS::IAM::AccessKey', 1);
  });

  it.each([
    ['FunctionsAccess', FUNCTIONS_OBJECT_ACCESS],
    ['SweepAccess', SWEEP_OBJECT_ACCESS],
  ])(
    '%s reads everything, writes and deletes its own key families, creates history records (and audit entries) only with If-None-Match: * and never deletes them',
    (owner, access) => {
      const s3 = statementsOf('AWS::IAM::ManagedPolicy')
        .filter(({ id, statement }) => id.startsWith(owner) && actionsOf(statement).some((a) => a.startsWith('s3:')))
        .map(({ statement }) => statement);
      // CloudFormation gets a lone resource as a value, several as a list.
      const resources = (patterns: string[]) => (patterns.length === 1 ? objectArn(patterns[0] as string) : patterns.map(objectArn));
      const creates = resources([HISTORY_KEYS, ...(access.creates ?? [])]);
      const appendOnly = resources(APPEND_ONLY_KEYS);
      expect(s3).toEqual([
        { Effect: 'Allow', Action: 's3:GetObject', Resource: objectsArn },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: resources(access.writes) },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: creates, Condition: { StringEquals: { 's3:if-none-match': '*' } } },
        { Effect: 'Allow', Action: 's3:DeleteObject', Resource: resources(access.deletes) },
        { Effect: 'Deny', Action: 's3:PutObject', Resource: appendOnly, Condition: { StringNotEquals: { 's3:if-none-match': '*' } } },
        { Effect: 'Deny', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: appendOnly },
      ]);
    },
  );

  it('denies every principal a history, audit or staff-text write without If-None-Match: * in the bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: BUCKET },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:PutObject',
            Resource: APPEND_ONLY_KEYS.map(objectArn),
            Condition: { StringNotEquals: { 's3:if-none-match': '*' } },
          },
        ]),
      },
    });
  });

  // The key layout of src/storage/keys.ts against the policies as IAM evaluates them, so a
  // pattern that misses a family (or a family a principal should not touch) fails here.
  const id = 'A-1/../x';
  const phone = '+14155550100';
  const at = '2026-11-25T08:00:00.000Z';
  const keys = {
    state: stateKey(id),
    history: historyKey(id, at, 'ev-1'),
    'due index': dueKey(at, id),
    'phone index': phoneIndexKey(phone, id),
    'opt-out': optOutKey(phone),
    'EHR outbox': outboxKey('ehr', 'ev-1'),
    'flow outbox': outboxKey('flow', 'ev-1'),
    'EHR receipt': receiptKey(id, 'ev-1'),
    'reminder claim': reminderClaimKey(id, 3, 1),
    heartbeat: SWEEP_STATUS_KEY,
    'inbound sighting': inboundKey('SM123'),
    'login attempts': attemptLogKey('password', 'total'),
    'refused event': rejectedKey(at, 'ev-1'),
    'inbox item': inboxItemKey(inboxItemId(at, 'SM123')) ?? '',
    'delivery receipt': deliveryKey(id, 'SM123', 'delivered'),
    'message link': messageLinkKey('SM123'),
    'inbox holding reply': inboxAckKey(phone, '2026-11-25'),
    'staff text': staffMessageKey(id, at, 'r-1'),
    'staff user': staffUserKey('ann'),
    'audit entry': auditKey(at, 'e1'),
    'daily figures': dailyFiguresKey('2026-11-25'),
    'counted fact': figureFactKey('sent', 'ev-1'),
  };
  type Owner = 'FunctionsAccess' | 'SweepAccess';
  const [W, D, C] = ['write', 'delete', 'create once'];
  const expected: Record<keyof typeof keys, Record<Owner, string[]>> = {
    state: { FunctionsAccess: [W], SweepAccess: [W] },
    history: { FunctionsAccess: [C], SweepAccess: [C] },
    'due index': { FunctionsAccess: [W], SweepAccess: [W, D] },
    'phone index': { FunctionsAccess: [W], SweepAccess: [W] },
    'opt-out': { FunctionsAccess: [W], SweepAccess: [] },
    'EHR outbox': { FunctionsAccess: [W, D], SweepAccess: [W, D] },
    'flow outbox': { FunctionsAccess: [], SweepAccess: [W, D] },
    'EHR receipt': { FunctionsAccess: [W], SweepAccess: [W] },
    'reminder claim': { FunctionsAccess: [W, D], SweepAccess: [W, D] },
    heartbeat: { FunctionsAccess: [], SweepAccess: [W] },
    'inbound sighting': { FunctionsAccess: [W], SweepAccess: [] },
    'login attempts': { FunctionsAccess: [W], SweepAccess: [] },
    'refused event': { FunctionsAccess: [W], SweepAccess: [] },
    'inbox item': { FunctionsAccess: [W], SweepAccess: [] },
    'delivery receipt': { FunctionsAccess: [W], SweepAccess: [] },
    'message link': { FunctionsAccess: [W], SweepAccess: [] },
    'inbox holding reply': { FunctionsAccess: [W], SweepAccess: [] },
    'staff text': { FunctionsAccess: [C], SweepAccess: [] },
    'staff user': { FunctionsAccess: [W], SweepAccess: [] },
    'audit entry': { FunctionsAccess: [C], SweepAccess: [] },
    'daily figures': { FunctionsAccess: [W], SweepAccess: [W] },
    'counted fact': { FunctionsAccess: [W, D], SweepAccess: [W, D] },
  };
  it.each(Object.entries(keys))('%s (%s): each principal may read it and do exactly what its code does', (family, key) => {
    for (const owner of ['FunctionsAccess', 'SweepAccess'] as const) {
      const may = (action: string, context: Record<string, string> = {}) => allowed(owner, action, key, context);
      expect(may('s3:GetObject'), `${owner} reads ${key}`).toBe(true);
      const can: string[] = [];
      if (may('s3:PutObject')) can.push(W);
      else if (may('s3:PutObject', { 's3:if-none-match': '*' })) can.push(C);
      if (may('s3:DeleteObject')) can.push(D);
      expect(can, `${owner} on ${key}`).toEqual(expected[family as keyof typeof keys][owner]);
      expect(may('s3:DeleteObjectVersion'), `${owner} deletes versions of ${key}`).toBe(false);
    }
  });

  it('keeps history/ append-only for a key that also matches another family’s pattern', () => {
    const lookalike = historyKey(id, at, 'ev-1').replace(/[^/]+$/, 'state.json');
    for (const owner of ['FunctionsAccess', 'SweepAccess']) {
      expect(allowed(owner, 's3:PutObject', lookalike, {})).toBe(false);
      expect(allowed(owner, 's3:PutObject', lookalike, { 's3:if-none-match': '*' })).toBe(true);
      expect(allowed(owner, 's3:DeleteObject', lookalike, {})).toBe(false);
    }
  });

  it('never grants s3:* or *, and scopes every S3 grant to this bucket', () => {
    const all = statementsOf('AWS::IAM::ManagedPolicy');
    expect(all.length).toBeGreaterThan(0);
    for (const { statement } of all) {
      expect(actionsOf(statement)).not.toContain('s3:*');
      expect(actionsOf(statement)).not.toContain('*');
      if (!actionsOf(statement).some((a) => a.startsWith('s3:'))) continue;
      for (const r of Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]) {
        expect(JSON.stringify(r) === JSON.stringify(bucketArn) || patternOf(r) !== undefined, JSON.stringify(r)).toBe(true);
      }
    }
    const users = Object.values(template.findResources('AWS::IAM::User'));
    expect(users.every((u) => u.Properties.ManagedPolicyArns === undefined && u.Properties.Policies === undefined)).toBe(true);
  });

  it('keeps the Functions secret access key in Secrets Manager, never in an output', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'appointments-test/functions-s3-key',
      SecretString: {
        'Fn::Join': [
          '',
          Match.arrayWith([
            Match.stringLikeRegexp('AWS_ACCESS_KEY_ID'),
            { Ref: Match.stringLikeRegexp('^FunctionsAccessKey') },
            Match.stringLikeRegexp('AWS_SECRET_ACCESS_KEY'),
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^FunctionsAccessKey'), 'SecretAccessKey'] },
          ]),
        ],
      },
    });
    expect(JSON.stringify(template.toJSON().Outputs)).not.toContain('SecretAccessKey');
  });
});

describe('the sweep alarms', () => {
  const TOPIC = { Ref: Match.stringLikeRegexp('^Alarms') };

  it('go to an SNS topic that takes only TLS, with the alarm e-mail subscribed when one is set', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'appointment-alarms-test' });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    synth({ alarmEmail: 'ops@clinic.example' }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@clinic.example',
      TopicArn: TOPIC,
    });
  });

  it('go off on any failed run (threw or timed out), not on quiet periods', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'appointment-sweep-errors-test',
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Sweep') } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [TOPIC],
      OKActions: [TOPIC],
    });
  });

  it('go off when no run finished without an error for an hour (three intervals of the default schedule, rounded up to an hour), missing data counting as none', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'appointment-sweep-heartbeat-test',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'invocations - FILL(errors, 0)', ReturnData: true }),
        Match.objectLike({
          Id: 'invocations',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Invocations' }), Period: 3600, Stat: 'Sum' }),
          ReturnData: false,
        }),
        Match.objectLike({
          Id: 'errors',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Errors' }), Period: 3600 }),
          ReturnData: false,
        }),
      ]),
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [TOPIC],
      OKActions: [TOPIC],
    });
  });

  it.each([
    [{ sweepSchedule: events.Schedule.rate(Duration.minutes(5)) }, 3600],
    [{ sweepSchedule: events.Schedule.rate(Duration.hours(2)) }, 6 * 3600],
    [{ sweepSchedule: events.Schedule.expression('cron(0/10 12-23 * * ? *)') }, 86_400],
    [{ sweepHeartbeatWindow: Duration.hours(3) }, 3 * 3600],
  ] as [Partial<AppointmentStackProps>, number][])('size the heartbeat window from the schedule: %j', (props, seconds) => {
    synth(props).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'appointment-sweep-heartbeat-test',
      Metrics: Match.arrayWith([Match.objectLike({ Id: 'invocations', MetricStat: Match.objectLike({ Period: seconds }) })]),
    });
  });

  it.each([
    [{ alarmEmail: 'ops at clinic' }, /ALARM_EMAIL "ops at clinic"/],
    [{ sweepHeartbeatWindow: Duration.days(2) }, /heartbeat window/],
  ] as [Partial<AppointmentStackProps>, RegExp][])('refuses invalid alarm settings: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});

describe('the key slots of the Functions (for rotate-keys)', () => {
  const keysOf = (t: Template) => Object.keys(t.findResources('AWS::IAM::AccessKey')).sort();

  it('has two keys during a rotation, each in a secret of its own named after its slot', () => {
    const both = synth({ functionsKeySlots: ['a', 'b'] }).template;
    expect(keysOf(both)).toEqual([expect.stringMatching(/^FunctionsAccessKey[0-9A-F]{8}$/), expect.stringMatching(/^FunctionsAccessKeyB/)]);
    both.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'appointments-test/functions-s3-key' });
    both.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'appointments-test/functions-s3-key-b' });
    both.hasOutput('FunctionsKeySlots', { Value: 'a,b' });
    both.hasOutput('FunctionsAccessKeyIdB', { Value: { Ref: Match.stringLikeRegexp('^FunctionsAccessKeyB') } });
  });

  it('keeps slot a under the names from before slots existed, so a deploy replaces nothing', () => {
    expect(keysOf(template)).toEqual([expect.stringMatching(/^FunctionsAccessKey[0-9A-F]{8}$/)]);
    expect(
      Object.keys(template.findOutputs('*'))
        .filter((o) => o.startsWith('FunctionsAccess'))
        .sort(),
    ).toEqual(['FunctionsAccessKeyId', 'FunctionsAccessKeySecretArn']);
  });

  it('after a rotation into slot b, has only that key', () => {
    const b = synth({ functionsKeySlots: ['b'] }).template;
    expect(keysOf(b)).toEqual([expect.stringMatching(/^FunctionsAccessKeyB/)]);
    expect(
      Object.keys(b.findOutputs('*'))
        .filter((o) => o.startsWith('FunctionsAccess'))
        .sort(),
    ).toEqual(['FunctionsAccessKeyIdB', 'FunctionsAccessKeySecretArnB']);
  });

  it.each([[[]], [['a', 'a']], [['c']]] as [string[]][])('refuses the slots %j', (slots) => {
    expect(() => synth({ functionsKeySlots: slots as AppointmentStackProps['functionsKeySlots'] })).toThrow(/Functions key slots/);
  });
});

describe('outputs for the deploy step', () => {
  it.each([
    ['BucketName', { Ref: BUCKET }],
    ['Region', Match.anyValue()],
    ['SweepFunctionName', { Ref: Match.stringLikeRegexp('^Sweep') }],
    ['TwilioSecretArn', { Ref: Match.stringLikeRegexp('^TwilioCredentials') }],
    ['FunctionsAccessKeyId', { Ref: Match.stringLikeRegexp('^FunctionsAccessKey') }],
    ['FunctionsAccessKeySecretArn', { Ref: Match.stringLikeRegexp('^FunctionsAccessKeySecret') }],
    ['AlarmTopicArn', { Ref: Match.stringLikeRegexp('^Alarms') }],
    ['FunctionsKeySlots', 'a'],
    ['FunctionsUserName', { Ref: Match.stringLikeRegexp('^FunctionsUser') }],
  ])('outputs %s', (name, value) => {
    template.hasOutput(name, { Value: value });
  });
});

describe('the raw-body receiver (RAW_RECEIVER)', () => {
  const on = synth({
    rawReceiver: true,
    receiverEnvironment: {
      EHR_DEFAULT_TIMEZONE: 'America/Chicago',
      FHIR_BASE_URL: 'https://ehr.example.org/fhir/r4',
      FHIR_CLIENT_ID: 'reminders',
    },
  }).template;
  const receiverPolicy = () =>
    statementsOf('AWS::IAM::ManagedPolicy', on)
      .filter(({ id }) => id.startsWith('ReceiverAccess'))
      .map(({ statement }) => statement);

  it('is not there unless asked for: no Function URL, no receiver, no intake secret, no output', () => {
    template.resourceCountIs('AWS::Lambda::Url', 0);
    expect(
      Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'appointment-receiver-test' } })),
    ).toEqual([]);
    expect(
      Object.keys(template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: 'appointments-test/intake' } })),
    ).toEqual([]);
    expect(Object.keys(template.findOutputs('ReceiverUrl'))).toEqual([]);
  });

  it('serves a Function URL with AuthType NONE (the key is checked in code) and outputs its URL', () => {
    on.resourceCountIs('AWS::Lambda::Url', 1);
    on.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Receiver'), 'Arn'] },
    });
    on.hasOutput('ReceiverUrl', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ReceiverFunctionUrl'), 'FunctionUrl'] } });
    on.hasOutput('IntakeSecretArn', { Value: { Ref: Match.stringLikeRegexp('^IntakeSecret') } });
    on.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
    });
  });

  it('runs Node.js 24 with reserved concurrency and a log group of its own, kept a month', () => {
    on.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'appointment-receiver-test',
      Runtime: 'nodejs24.x',
      Timeout: 15,
      ReservedConcurrentExecutions: 10,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^ReceiverLogs') } },
    });
    on.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(receiverPolicy().filter((st) => actionsOf(st).some((a) => a.startsWith('logs:')))).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^ReceiverLogs/), 'Arn'] },
      },
    ]);
  });

  it('has no secret in its environment: the EHR key and the FHIR secrets are read from the intake secret', () => {
    const [fn] = Object.values(on.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'appointment-receiver-test' } }));
    const vars = (fn?.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(vars).toMatchObject({
      S3_BUCKET: { Ref: BUCKET },
      TWILIO_SECRET_ARN: { Ref: expect.stringMatching(/^TwilioCredentials/) },
      INTAKE_SECRET_ARN: { Ref: expect.stringMatching(/^IntakeSecret/) },
      EHR_DEFAULT_TIMEZONE: 'America/Chicago',
      FHIR_BASE_URL: 'https://ehr.example.org/fhir/r4',
      FHIR_CLIENT_ID: 'reminders',
    });
    for (const secret of [
      'EHR_API_KEY',
      'FHIR_BEARER_TOKEN',
      'FHIR_CLIENT_SECRET',
      'AUTH_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'TWILIO_API_KEY_SECRET',
      'IE_SIGNING_SECRET',
    ])
      expect(vars).not.toHaveProperty(secret);
    on.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'appointments-test/intake',
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'EHR_API_KEY' }),
    });
    expect(INTAKE_SECRET_FIELDS).toEqual(RUNTIME_INTAKE_SECRET_FIELDS);
  });

  it('refuses a secret or an unknown variable in the receiver settings', () => {
    expect(() => synth({ rawReceiver: true, receiverEnvironment: { FHIR_CLIENT_SECRET: 'x'.repeat(20) } })).toThrow(
      /FHIR_CLIENT_SECRET is a secret/,
    );
    expect(() => synth({ rawReceiver: true, receiverEnvironment: { S3_ENDPOINT: 'http://x' } })).toThrow(
      /S3_ENDPOINT is not a receiver setting/,
    );
    expect(() => synth({ receiverEnvironment: { EHR_DEFAULT_TIMEZONE: 'America/Chicago' } })).toThrow(/raw receiver is off/);
  });

  it('reads only the two secrets it needs', () => {
    const reads = receiverPolicy().filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')));
    expect(reads).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [{ Ref: expect.stringMatching(/^TwilioCredentials/) }, { Ref: expect.stringMatching(/^IntakeSecret/) }],
      },
    ]);
  });

  it('may write only what recording an event writes (state, history, change markers), a subset of the Functions’ families, and history only once', () => {
    const writes = receiverPolicy()
      .filter((st) => st.Effect === 'Allow' && actionsOf(st).includes('s3:PutObject') && !st.Condition)
      .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(patternOf));
    expect(writes.sort()).toEqual([...INTAKE_OBJECT_ACCESS.writes].sort());
    for (const w of INTAKE_OBJECT_ACCESS.writes) expect(FUNCTIONS_OBJECT_ACCESS.writes).toContain(w);
    for (const key of [stateKey('A-1'), changeKey('A-1', 2, '2026-12-01T10:00:00.000Z', '+14155550134')]) {
      expect(
        INTAKE_OBJECT_ACCESS.writes.some((p) => globMatches(p, key)),
        key,
      ).toBe(true);
    }
    // It files nothing itself (the filer does), so it writes no index and deletes nothing.
    expect(INTAKE_OBJECT_ACCESS.writes.some((p) => globMatches(p, dueKey('2026-12-01T10:00:00.000Z', 'A-1')))).toBe(false);
    const deletes = receiverPolicy()
      .filter((st) => st.Effect === 'Allow' && actionsOf(st).includes('s3:DeleteObject'))
      .flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(patternOf));
    expect(deletes).toEqual([]);
  });

  it('lets both filers (the sweep, the Functions) write every index family filing writes, and retire the markers', () => {
    const listed = allListingKeys({
      id: 'A-1',
      at: '2026-12-03T17:30:00.000Z',
      changed: '2026-12-01T10:00:00.000Z',
      disposition: 'QUEUED',
      undeliverable: false,
      patient_request: false,
      first_name: 'Zoë',
      last_name: "O'Connor-Nuñez",
    });
    const written = [
      ...listed,
      dueKey('2026-12-01T10:00:00.000Z', 'A-1'),
      phoneIndexKey('+14155550134', 'A-1'),
      dailyFiguresKey('2026-12-01', 2),
      figureFactKey('sent', 'E-1'),
    ];
    const deleted = [...listed, changeKey('A-1', 2, '2026-12-01T10:00:00.000Z', '+14155550134')];
    for (const access of [SWEEP_OBJECT_ACCESS, FUNCTIONS_OBJECT_ACCESS]) {
      for (const key of written)
        expect(
          access.writes.some((p) => globMatches(p, key)),
          key,
        ).toBe(true);
      for (const key of deleted)
        expect(
          access.deletes.some((p) => globMatches(p, key)),
          key,
        ).toBe(true);
    }
    const history = receiverPolicy().filter(
      (st) =>
        actionsOf(st).includes('s3:PutObject') &&
        (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).some((r) => patternOf(r) === HISTORY_KEYS),
    );
    expect(history.map((st) => [st.Effect, st.Condition])).toEqual([
      ['Allow', { StringEquals: { 's3:if-none-match': '*' } }],
      ['Deny', { StringNotEquals: { 's3:if-none-match': '*' } }],
    ]);
    expect(globMatches(HISTORY_KEYS, historyKey('A-1', '2026-11-25T16:00:00.000Z', 'E-1'))).toBe(true);
  });
});
