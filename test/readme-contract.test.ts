import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EHR_EVENT_TYPES } from '../src/domain/event-types';

const README = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

describe('the README’s event contract', () => {
  it('lists exactly the EHR event types the intake accepts (src/domain/event-types.ts)', () => {
    const row = README.split('\n').find((l) => l.startsWith('| `event_type` |'));
    expect(row, 'the event_type row of the contract table').toBeDefined();
    const listed = [...(row ?? '').split('|')[3]!.matchAll(/`([A-Z-]+)`/g)].map((m) => m[1]);
    expect(listed).toEqual([...EHR_EVENT_TYPES]);
  });
});
