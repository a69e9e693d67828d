import { Duration, type Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { SWEEP_OBJECT_ACCESS } from '../object-access';
import { ScopedLambda } from './scoped-lambda';

export const DEFAULT_SCHEDULE = events.Schedule.rate(Duration.minutes(15));

export interface SweepProps {
  code: string;
  bucket: s3.Bucket;
  twilioSecret: secretsmanager.Secret;
  alarmTopic: sns.Topic;
  environment: Record<string, string>;
  schedule?: events.Schedule;
  timeout?: Duration;
  memorySize?: number;
  logRetention?: logs.RetentionDays;
  heartbeatWindow?: Duration;
}

/** The scheduled reminder sweep: its Lambda, the EventBridge rule that runs it, and its two alarms. */
export class Sweep {
  readonly fn: NodejsFunction;
  readonly rule: events.Rule;

  constructor(stack: Stack, props: SweepProps) {
    const { code } = props;
    this.fn = new ScopedLambda(stack, 'Sweep', {
      name: `appointment-sweep-${code}`,
      entry: 'sweep.ts',
      description: 'Finds appointments whose reminder is due and starts the Studio Flow for each',
      roleDescription: 'The reminder sweep Lambda',
      policyDescription: 'What the reminder sweep may do: its key families of the data bucket, the Twilio secret, its log group',
      // At Studio's 20 starts/s a 14-minute run sends ~16,000 reminders; the sweep stops taking new
      // work a minute before the timeout and leaves the rest to the next run.
      timeout: props.timeout ?? Duration.minutes(14),
      memorySize: props.memorySize ?? 1024,
      // The schedule is the retry: an immediate re-run of a failed sweep races the next one.
      retryAttempts: 0,
      // Never two sweeps at once: a schedule tick during a long run waits (EventBridge retries it)
      // instead of racing the run for the same claims.
      reservedConcurrentExecutions: 1,
      environment: props.environment,
      logRetention: props.logRetention,
      logs: 'the sweep logs ids and counts only',
      bucket: props.bucket,
      access: SWEEP_OBJECT_ACCESS,
      secrets: new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [props.twilioSecret.secretArn],
      }),
      outsideVpc:
        'the sweep calls Twilio and the EHR on the internet; a VPC would add a NAT gateway and nothing else, as S3 and Secrets Manager are reached over TLS with IAM either way',
      noDeadLetterQueue:
        'a scheduled event carries no data to keep: the next scheduled run is the retry, and a failed run sets off the sweep errors alarm',
    }).fn;

    const schedule = props.schedule ?? DEFAULT_SCHEDULE;
    this.rule = new events.Rule(stack, 'SweepSchedule', {
      ruleName: `appointment-sweep-${code}`,
      description: 'Runs the reminder sweep',
      schedule,
      targets: [new targets.LambdaFunction(this.fn, { retryAttempts: 2, maxEventAge: Duration.minutes(10) })],
    });
    this.addAlarms(stack, code, props.alarmTopic, schedule, props.heartbeatWindow);
  }

  /**
   * Two alarms on Lambda's own metrics, so the sweep needs no code to be watched. Errors: a run
   * threw or timed out. Heartbeat: no run finished without an error within the window, counting
   * missing data as breaching, so a disabled rule, a lost invoke permission or runs that never
   * start (throttled) alarm too, which a metric the sweep itself published could not tell.
   */
  private addAlarms(stack: Stack, code: string, topic: sns.Topic, schedule: events.Schedule, heartbeatWindow: Duration | undefined): void {
    const fn = this.fn;
    const notify = new cwActions.SnsAction(topic);
    const errors = fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }).createAlarm(stack, 'SweepErrors', {
      alarmName: `appointment-sweep-errors-${code}`,
      alarmDescription: 'A reminder sweep run failed (threw or timed out); its log group says why',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const window = heartbeatWindow ?? defaultHeartbeatWindow(schedule);
    const succeeded = new cloudwatch.MathExpression({
      expression: 'invocations - FILL(errors, 0)',
      usingMetrics: {
        invocations: fn.metricInvocations({ period: window, statistic: cloudwatch.Stats.SUM }),
        errors: fn.metricErrors({ period: window, statistic: cloudwatch.Stats.SUM }),
      },
      period: window,
      label: 'successful sweeps',
    });
    const heartbeat = succeeded.createAlarm(stack, 'SweepHeartbeat', {
      alarmName: `appointment-sweep-heartbeat-${code}`,
      alarmDescription: `No reminder sweep finished without an error in ${window.toHumanString()}: reminders are not being sent`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    for (const alarm of [errors, heartbeat]) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
  }
}

/** Three intervals of a rate(...) schedule (one missed run is not yet an outage), at least an hour; a day for cron(...). */
function defaultHeartbeatWindow(schedule: events.Schedule): Duration {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(schedule.expressionString);
  if (!m) return Duration.days(1);
  const minutes = Number(m[1]) * (m[2]?.startsWith('minute') ? 1 : m[2]?.startsWith('hour') ? 60 : 24 * 60);
  return Duration.minutes(Math.min(24 * 60, Math.max(60, 3 * minutes)));
}
