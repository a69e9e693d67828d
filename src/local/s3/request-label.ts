/** A client's request as the embedded S3 server answered it (key URL-decoded; empty for bucket-level requests). */
export interface AnsweredRequest {
  method: string;
  bucket: string;
  key: string;
  query: URLSearchParams;
  status: number;
}

/**
 * A key's shape in the layout of src/storage/keys.ts, with ids replaced by `*`:
 * `appointments/*\/state.json`, `appointments/*\/history/*`, `index/due/*`, `optouts/*`, ….
 */
export function keyShape(key: string): string {
  const s = key.split('/');
  if (s[0] === 'appointments' && s.length >= 3) return s.length > 3 ? `appointments/*/${s[2]}/*` : `appointments/*/${s[2]}`;
  if (s[0] === 'index' && s.length >= 3) return `index/${s[1]}/*`;
  return s.length > 1 ? `${s[0]}/*` : (s[0] ?? '');
}

/**
 * How S3 request counts are keyed: `METHOD shape status`, e.g. `PUT appointments/*\/state.json 412`,
 * `GET list:index/due/* 200` (a ListObjectsV2 of that prefix).
 */
export function requestLabel(r: Omit<AnsweredRequest, 'status'> & { status: number | string }): string {
  const what =
    r.key !== ''
      ? keyShape(r.key)
      : r.query.has('delete')
        ? 'delete-objects'
        : r.method === 'GET' && r.bucket !== ''
          ? `list:${keyShape(r.query.get('prefix') ?? '')}`
          : '(bucket)';
  return `${r.method} ${what} ${r.status}`;
}
