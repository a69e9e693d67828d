import { z } from 'zod';
import { errorReply, jsonReply, type HttpReply } from '../http/reply';
import type { OptOutHow, OptOutLedger } from '../storage/appointment-store';
import type { OptOutsAnswer } from './api-types';

/** How each opt-out was asked for, in words; records written before `how` was kept say so. */
export const OPT_OUT_HOW: Record<OptOutHow | 'unknown', string> = {
  'twilio-keyword': 'STOP keyword (Twilio also blocks the number)',
  keyword: 'STOP keyword',
  revocation: 'asked in their own words',
  unknown: 'not recorded (opted out before this was kept)',
};

const Query = z.object({
  // Digits, spaces and phone punctuation only: the search is on the number, never on a name.
  q: z
    .string()
    .max(32)
    .regex(/^[\d\s+().-]*$/, 'may hold only digits, spaces and + ( ) . -')
    .optional(),
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]*$/, 'is not a cursor this listing returned')
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

/**
 * A page of the phones opted out, searchable by a fragment of the number. There is no way to
 * undo an opt-out here: only the patient's START can (TCPA: consent is the patient's to give).
 * The numbers go to the logged-in page only; nothing here logs them.
 */
export async function optOutsReply(store: OptOutLedger, params: Record<string, unknown>, requestId: string): Promise<HttpReply> {
  const parsed = Query.safeParse(params);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'request'), message: i.message }));
    return errorReply('invalid-request', problems.map((p) => `${p.field} ${p.message}`).join('; '), requestId, { problems });
  }
  const { q, cursor, limit } = parsed.data;
  const page = await store.listOptOuts({ limit: limit ?? 50, ...(cursor ? { cursor } : {}), ...(q ? { fragment: q } : {}) });
  return jsonReply(
    200,
    {
      opt_outs: page.records.map((r) => ({
        phone: r.phone,
        at: r.at,
        how: r.how ?? 'unknown',
        how_words: OPT_OUT_HOW[r.how ?? 'unknown'],
      })),
      ...(page.cursor ? { cursor: page.cursor } : {}),
    } satisfies OptOutsAnswer,
    requestId,
  );
}
