import { describe, expect, it } from 'vitest';
import { LiquidLimitError, MAX_LOOP_ITERATIONS, MAX_RENDERED_BYTES, render } from '../../src/local/studio/liquid';

const ctx = {
  flow: { data: { event_type: 'BOOKED', first_name: 'Ana', nested: { list: [1, 2], ok: true } }, variables: { n: '4' } },
  widgets: { 'get-datetime-parts': { parsed: { readable: 'Monday' } } },
  items: Array.from({ length: 40 }, (_, i) => i),
};

describe('Studio Liquid (§3.2, §3.3)', () => {
  it('renders undefined paths as empty strings instead of failing', async () => {
    expect(await render('[{{flow.data.missing}}][{{nothing.at.all}}]', ctx)).toBe('[][]');
  });

  it('prints an object like a Java Map', async () => {
    expect(await render('{{flow.data}}', ctx)).toBe('{event_type=BOOKED, first_name=Ana, nested={list=[1, 2], ok=true}}');
  });

  it('keeps to_json and json for serialising objects', async () => {
    expect(JSON.parse(await render('{{flow.data.nested | to_json}}', ctx))).toEqual({ list: [1, 2], ok: true });
    expect(await render('{{flow.data.nested | json}}', ctx)).toBe(await render('{{flow.data.nested | to_json}}', ctx));
  });

  it.each([
    ['{{ 10 | divided_by: 3 }}', '3'],
    ['{{ 10 | divided_by: 4 }}', '2'],
    ['{{ "10" | divided_by: "4" }}', '2'],
    ['{{ -7 | divided_by: 2 }}', '-3'],
    ['{{ 10 | divided_by: 2.5 }}', '4'],
    ['{{ 7.5 | divided_by: 2 }}', '3.75'],
    ['{{ flow.variables.n | divided_by: 3 }}', '1'],
  ])('divides integers as integers: %s → %s', async (template, expected) => {
    expect(await render(template, ctx)).toBe(expected);
  });

  it('coerces numeric strings in plus', async () => {
    expect(await render("{{ '1' | plus: '1' }}", ctx)).toBe('2');
  });

  it('formats dates in America/Los_Angeles, DST included', async () => {
    expect(await render("{{ '2026-01-15T20:00:00Z' | date: '%Y-%m-%d %H:%M' }}", ctx)).toBe('2026-01-15 12:00');
    expect(await render("{{ '2026-07-15T20:00:00Z' | date: '%H:%M %z' }}", ctx)).toBe('13:00 -0700');
  });

  it("reads 'now' from the given clock, in Pacific time", async () => {
    const now = Date.UTC(2026, 2, 8, 12, 30); // after the US DST switch: PDT, UTC-7
    expect(await render("{{ 'now' | date: '%Y-%m-%d %H:%M' }}", ctx, { now })).toBe('2026-03-08 05:30');
  });

  it('resolves widget names with hyphens', async () => {
    expect(await render('{{widgets.get-datetime-parts.parsed.readable}}', ctx)).toBe('Monday');
  });

  it('treats the empty string as truthy (Ruby rules)', async () => {
    expect(
      await render('{% if flow.data.empty_string_missing %}a{% else %}b{% endif %}{% assign e = "" %}{% if e %}c{% endif %}', ctx),
    ).toBe('bc');
  });

  it(`stops a for loop after ${MAX_LOOP_ITERATIONS} iterations`, async () => {
    const out = await render('{% for i in items %}{{i}},{% endfor %}', ctx);
    expect(out.split(',').filter(Boolean)).toHaveLength(MAX_LOOP_ITERATIONS);
    expect(await render('{% for i in items limit: 3 %}{{i}}{% endfor %}', ctx)).toBe('012');
  });

  it('caps nested loops independently', async () => {
    const out = await render('{% for i in items %}{% for j in items %}x{% endfor %};{% endfor %}', ctx);
    expect(out).toBe(`${'x'.repeat(15)};`.repeat(15));
  });

  it('refuses output over 16 KB', async () => {
    await expect(render('x'.repeat(MAX_RENDERED_BYTES + 1), ctx)).rejects.toBeInstanceOf(LiquidLimitError);
    await expect(render('{% for i in items %}{{ big }}{% endfor %}', { ...ctx, big: 'y'.repeat(2000) })).rejects.toThrow(/16384/);
    expect(await render('x'.repeat(MAX_RENDERED_BYTES), ctx)).toHaveLength(MAX_RENDERED_BYTES);
  });

  it('supports whitespace control for the counter idiom', async () => {
    const t = '{%- if flow.variables.n -%} {{ flow.variables.n | plus: 1 }} {%- else -%} 0 {%- endif -%}';
    expect(await render(t, ctx)).toBe('5');
    expect(await render(t, { flow: {} })).toBe('0');
  });
});
