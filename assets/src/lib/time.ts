/** Time-zone helpers for the simulation form (the browser's Intl, no library). */

export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'America/New_York';
  } catch {
    return 'America/New_York';
  }
}

export function knownZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [];
  } catch {
    return [];
  }
}

export function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `YYYY-MM-DDT10:00` for tomorrow's date as the clock in `zone` reads at `nowMs`. */
export function tomorrowAt(zone: string, nowMs: number, hour = 10): string {
  const safe = isZone(zone) ? zone : 'UTC';
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: safe, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    new Date(nowMs),
  );
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const next = new Date(Date.UTC(get('year'), get('month') - 1, get('day') + 1));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${next.getUTCFullYear()}-${pad(next.getUTCMonth() + 1)}-${pad(next.getUTCDate())}T${pad(hour)}:00`;
}
