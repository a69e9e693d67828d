import { afterAll, describe, expect, it, vi } from 'vitest';

// aws-cdk-lib reads HOME when it loads (its asset fingerprint cache), so HOME points at a scratch
// folder before the first import of the library, as in stack.int.test.ts.
const sandbox = vi.hoisted(() => {
  const fs = process.getBuiltinModule('node:fs');
  const os = process.getBuiltinModule('node:os');
  const path = process.getBuiltinModule('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'appointment-nag-test-'));
  const realHome = process.env.HOME;
  process.env.HOME = path.join(dir, 'home');
  return { dir, realHome };
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AppointmentStack, type AppointmentStackProps } from './stack';

afterAll(() => {
  if (sandbox.realHome === undefined) delete process.env.HOME;
  else process.env.HOME = sandbox.realHome;
  fs.rmSync(sandbox.dir, { recursive: true, force: true });
});

interface Violation {
  ruleName: string;
  violatingConstructs: { constructPath: string }[];
}

let synths = 0;

/**
 * The stack synthesized with the AwsSolutions and HIPAA Security packs as validation plugins
 * (cdk-nag 3 runs in CDK's policy validation, not as an Aspect). Synthesis fails on any finding
 * that is not acknowledged; the findings are read back from the report it leaves.
 */
function nag(props: Partial<AppointmentStackProps> = {}, extra?: (stack: AppointmentStack) => void) {
  synths += 1;
  const outdir = path.join(sandbox.dir, `cdk.out-${synths}`);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new AppointmentStack(app, 'Appointments-test', { customerCode: 'test', alarmEmail: 'ops@clinic.example', ...props });
  extra?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (err) {
    error = err;
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const report = fs.existsSync(reportFile)
    ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { pluginReports: { violations: Violation[] }[] })
    : undefined;
  const findings = (report?.pluginReports ?? []).flatMap((r) =>
    r.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)),
  );
  return { error, findings, stack };
}

function acknowledgments(scope: IConstruct): { path: string; id: string; reason: string }[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      // Recorded as { [rule id]: reason }.
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ path: c.node.path, id, reason })),
  );
}

describe('cdk-nag: AwsSolutions and HIPAA Security', () => {
  it.each([
    ['the default stack', {}],
    ['a stack whose data may be deleted', { deleteDataOnDestroy: true }],
    ['a stack in the middle of a key rotation', { functionsKeySlots: ['a', 'b'] }],
    ['a stack with the raw-body receiver', { rawReceiver: true, receiverEnvironment: { EHR_DEFAULT_TIMEZONE: 'America/New_York' } }],
  ] as [string, Partial<AppointmentStackProps>][])('%s has no unacknowledged finding', (_name, props) => {
    const { error, findings } = nag(props);
    expect(findings).toEqual([]);
    expect(error).toBeUndefined();
  });

  it('does check: a bucket added without access logs fails synthesis with its findings', () => {
    const { error, findings } = nag({}, (stack) => new s3.Bucket(stack, 'Unlogged', { enforceSSL: true }));
    expect(String(error)).toMatch(/ValidationFailed|Validation failed/);
    expect(findings).toEqual(
      expect.arrayContaining([
        'AwsSolutions-S1 at Appointments-test/Unlogged/Resource',
        'HIPAA.Security-S3BucketLoggingEnabled at Appointments-test/Unlogged/Resource',
      ]),
    );
  });

  it('acknowledges the public Function URL on its invoke permissions only: the key is checked in code', () => {
    const { stack } = nag({ rawReceiver: true });
    const url = acknowledgments(stack).filter((a) => /\/Receiver\/invoke-function(-url)?$/.test(a.path));
    expect(url.map((a) => a.id)).toEqual([
      'HIPAA.Security::HIPAA.Security-LambdaFunctionPublicAccessProhibited',
      'HIPAA.Security::HIPAA.Security-LambdaFunctionPublicAccessProhibited',
    ]);
    for (const a of url) expect(a.reason).toMatch(/static bearer key.*checks it in code/);
  });

  it('acknowledges each remaining finding on its own resource, with a reason', () => {
    const { stack } = nag({ rawReceiver: true });
    const acks = acknowledgments(stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/^(AwsSolutions::AwsSolutions|HIPAA\.Security::HIPAA\.Security)-/);
      expect(a.reason.length, `${a.id} on ${a.path}`).toBeGreaterThan(40);
      // Never a blanket acknowledgment for the whole stack.
      expect(a.path).not.toBe('Appointments-test');
    }
  });
});
