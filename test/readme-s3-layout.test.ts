import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as keys from '../src/storage/keys';

/**
 * The README's S3 layout table names every kind of key the storage layer writes. The keys come
 * from calling src/storage/keys.ts, so a new key family without a row fails here, and so does a
 * row that no longer matches the key it describes.
 */
const AT = '2026-11-25T08:30:00.000Z';
const SAMPLES: Record<string, string | null> = {
  stateKey: keys.stateKey('APT-1'),
  historyKey: keys.historyKey('APT-1', AT, 'e'.repeat(32)),
  dueKey: keys.dueKey(AT, 'APT-1'),
  optOutKey: keys.optOutKey('+14155550134'),
  phoneIndexKey: keys.phoneIndexKey('+14155550134', 'APT-1'),
  changeKey: keys.changeKey('APT-1', 3, AT, '+14155550134'),
  outboxKey: keys.outboxKey('ehr', 'e'.repeat(32)),
  receiptKey: keys.receiptKey('APT-1', 'e'.repeat(32)),
  reminderClaimKey: keys.reminderClaimKey('APT-1', 2, 1),
  SWEEP_STATUS_KEY: keys.SWEEP_STATUS_KEY,
  inboundKey: keys.inboundKey(`SM${'a'.repeat(32)}`),
  attemptLogKey: keys.attemptLogKey('password', 'total'),
  rejectedKey: keys.rejectedKey(AT, 'APT-1'),
  deliveryKey: keys.deliveryKey('APT-1', `SM${'a'.repeat(32)}`, 'delivered'),
  messageLinkKey: keys.messageLinkKey(`SM${'a'.repeat(32)}`),
  inboxItemKey: keys.inboxItemKey(keys.inboxItemId(AT, `SM${'a'.repeat(32)}`)),
  inboxAckKey: keys.inboxAckKey('+14155550134', '2026-11-25'),
  staffMessageKey: keys.staffMessageKey('APT-1', AT, 'r-0001'),
  staffUserKey: keys.staffUserKey('ann'),
  auditKey: keys.auditKey(AT, 'x1y2z3'),
  dailyFiguresKey: keys.dailyFiguresKey('2026-11-25', 3),
  figureFactKey: keys.figureFactKey('sent', 'e'.repeat(32)),
};

/** The key templates of the table's first column (`appointments/<id>/state.json`…) as patterns. */
function layoutTable(): { template: string; pattern: RegExp }[] {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const start = readme.indexOf('## S3 layout');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const firstCells = section
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => l.split(' | ')[0] ?? '');
  return firstCells.flatMap((cell) =>
    [...cell.matchAll(/`([^`]+)`/g)].map((m) => {
      const template = m[1] ?? '';
      const source = template
        .split(/(<[^>]+>)/)
        .map((part) => (part.startsWith('<') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
      return { template, pattern: new RegExp(`^${source}$`) };
    }),
  );
}

describe('README "S3 layout"', () => {
  it('has a sample here for every key function of src/storage/keys.ts', () => {
    const exported = Object.keys(keys).filter((name) => /Key$|_KEY$/.test(name));
    expect(Object.keys(SAMPLES).sort()).toEqual(exported.sort());
  });

  it.each(Object.entries(SAMPLES))('has a row for %s', (_name, key) => {
    expect(key).not.toBeNull();
    const rows = layoutTable();
    expect(rows.length).toBeGreaterThan(10);
    expect(
      rows.filter((r) => r.pattern.test(key ?? '')).map((r) => r.template),
      key ?? '',
    ).toHaveLength(1);
  });

  it('names every prefix the stores list', () => {
    const text = layoutTable()
      .map((r) => r.template)
      .join('\n');
    for (const prefix of [
      keys.DUE_INDEX_PREFIX,
      keys.PHONE_INDEX_PREFIX,
      keys.APPOINTMENTS_PREFIX,
      keys.REJECTED_PREFIX,
      keys.INBOX_ITEMS_PREFIX,
      keys.outboxPrefix('flow'),
      keys.outboxPrefix('ehr'),
    ]) {
      expect(text.includes(prefix) || (prefix.startsWith('outbox/') && text.includes('outbox/<kind>/')), prefix).toBe(true);
    }
  });
});
