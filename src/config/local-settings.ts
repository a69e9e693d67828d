/**
 * What `.env` and the environment may change in `npm start`. Everything else (credentials,
 * IE_ENDPOINT, the Twilio number, S3) stays local even when `.env` is filled in for a deploy, so a
 * local run never texts real phones, posts to the real EHR or touches the real bucket. Kept here,
 * next to the schemas, so the `.env.example` check sees these names too.
 */
export const LOCAL_VARIABLES = [
  'PORT',
  'S3_PORT',
  'HOST',
  'LOCAL_DATA_DIR',
  'LOG_LEVEL',
  'CUSTOMER_NAME',
  'DEFAULT_PHONE_COUNTRY',
  'REMINDER_FIRST_TIMING',
  'REMINDER_SECOND_TIMING',
  'REMINDER_OUTREACH_START',
  'REMINDER_OUTREACH_FINISH',
  'REMINDER_MIN_GAP_HOURS',
  'SWEEP_INTERVAL_SECONDS',
  'SWEEP_RATE_PER_SECOND',
  'SWEEP_CONCURRENCY',
  'LOCAL_FHIR_SANDBOX',
  'EHR_DEFAULT_TIMEZONE',
  'EHR_FACILITY_TIMEZONES',
] as const;
