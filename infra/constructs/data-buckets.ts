import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { APPEND_ONLY_KEYS, CREATE_ONLY } from '../object-access';
import { acknowledge, REPLICATION_REASON } from './acknowledge';

export interface DataBucketsProps {
  code: string;
  deleteData: boolean;
  noncurrentVersionRetention?: Duration;
  accessLogRetention?: Duration;
}

/**
 * The data bucket, the source of truth, with the policy that keeps its history append-only, and
 * the bucket of its access logs. Added to the stack itself (ids Data and AccessLogs), so the
 * logical ids of deployed buckets stay what they were.
 */
export class DataBuckets {
  readonly data: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(stack: Stack, props: DataBucketsProps) {
    // Server access logs (who read or changed which object) are the bucket's audit trail: kept in a
    // bucket of their own that outlives the stack, even a --delete-data destroy.
    this.accessLogs = new s3.Bucket(stack, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Log delivery writes only to SSE-S3 buckets unless a KMS key policy lets the logging service in.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          // Six years: what HIPAA asks of security documentation (45 CFR 164.316(b)(2)(i)).
          expiration: props.accessLogRetention ?? Duration.days(6 * 365),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.accessLogs, [
      ['AwsSolutions::AwsSolutions-S1', 'this is the access log bucket; logging its own log deliveries would log forever'],
      [
        'HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled',
        'this is the access log bucket; logging its own log deliveries would log forever',
      ],
      ['HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled', REPLICATION_REASON],
      [
        'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS',
        'S3 server access log delivery writes to SSE-S3 (AES-256) buckets; SSE-KMS would need a customer managed key whose policy admits the logging service',
      ],
    ]);

    this.data = new s3.Bucket(stack, 'Data', {
      // Account and region make the name globally unique without asking the operator for one.
      bucketName: `appointments-${props.code}-${stack.account}-${stack.region}`,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-overwritten-versions',
          // State objects are rewritten on every event; old versions are for recovery, not forever.
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(30),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'data/',
      removalPolicy: props.deleteData ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: props.deleteData,
    });
    acknowledge(this.data, [
      ['HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled', REPLICATION_REASON],
      [
        'HIPAA.Security::HIPAA.Security-S3DefaultEncryptionKMS',
        'encrypted at rest with SSE-S3 (AES-256); who may read is decided by IAM and the bucket policy, which a KMS key policy would only repeat at a per-request cost',
      ],
    ]);

    // Whoever the principal (also one granted s3:PutObject later, by hand): a history record or an
    // audit entry is only ever created, never overwritten. S3 evaluates If-None-Match: * atomically
    // (conditional writes).
    this.data.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: APPEND_ONLY_KEYS.map((p) => this.data.arnForObjects(p)),
        conditions: { StringNotEquals: CREATE_ONLY },
      }),
    );
  }
}
