import { describe, expect, it } from 'vitest';
import { classifyKeyword, countSegments, parseTwimlMessages } from '../../src/local/phones/sms';

describe('opt-out keywords', () => {
  it.each([
    ['STOP', false, 'STOP'],
    [' stop ', false, 'STOP'],
    ['Stop!!', false, 'STOP'],
    ['unsubscribe.', false, 'STOP'],
    ['OptOut', false, 'STOP'],
    ['stop it', false, undefined],
    ['START', true, 'START'],
    ['unstop', false, 'START'],
    ['yes', true, 'START'],
    ['yes', false, undefined],
    ['Help?', false, 'HELP'],
    ['info', true, 'HELP'],
    ['C', false, undefined],
  ] as const)('%j (opted out: %s) is %s', (body, optedOut, expected) => {
    expect(classifyKeyword(body, optedOut)).toBe(expected);
  });
});

describe('segments', () => {
  it.each([
    ['', 1],
    ['a'.repeat(160), 1],
    ['a'.repeat(161), 2],
    ['a'.repeat(306), 2],
    ['a'.repeat(307), 3],
    ['{'.repeat(80), 1],
    ['{'.repeat(81), 2],
    ['é'.repeat(160), 1],
    ['✅'.repeat(70), 1],
    ['✅'.repeat(71), 2],
  ])('%#: %i', (body, expected) => {
    expect(countSegments(body)).toBe(expected);
  });
});

describe('TwiML messaging responses', () => {
  it('reads text, <Body>, attributes, entities and CDATA, ignoring <Media>', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
      '<Message>Tom &amp; Jerry &lt;3</Message>' +
      '<Message to="+15550001111" from=\'+15550002222\'><Body>See you</Body><Media>https://x.test/a.png</Media></Message>' +
      '<Message><![CDATA[a < b & c]]></Message>' +
      '<Message/>' +
      '</Response>';
    expect(parseTwimlMessages(xml)).toEqual([
      { body: 'Tom & Jerry <3' },
      { body: 'See you', to: '+15550001111', from: '+15550002222' },
      { body: 'a < b & c' },
      { body: '' },
    ]);
  });

  it('finds nothing in an empty response', () => {
    expect(parseTwimlMessages('<Response/>')).toEqual([]);
    expect(parseTwimlMessages('')).toEqual([]);
  });
});
