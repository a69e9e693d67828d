import { S3ServiceException } from '@aws-sdk/client-s3';

/** What the AWS SDK throws when S3 answers 503 Service Unavailable: the transient failure. */
export function s3Unavailable(): S3ServiceException {
  return new S3ServiceException({
    name: 'ServiceUnavailable',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Please reduce your request rate.',
  });
}

/** A bug: the kind of error no retry will ever fix (its message quotes a path, as real ones do). */
export function bug(): TypeError {
  return new TypeError("Cannot read properties of undefined (reading 'facts') at /srv/app/secret/path.ts");
}
