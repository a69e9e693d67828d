import express from 'express';
import { describe, expect, it } from 'vitest';
import { listen } from '../local/helpers';
import { checkExchange, checkExchanges } from './conformance';
import { recordExchanges, type Exchange } from './exchange-recorder';
import { findOperation } from './twilio-spec';

/** The checker itself: each rule catches what it is for, so a clean run of the recorded tests means something. */

const ZS = `ZS${'0a'.repeat(16)}`;
const ZB = `ZB${'0b'.repeat(16)}`;
const AC = `AC${'0c'.repeat(16)}`;
const FW = `FW${'0d'.repeat(16)}`;

function statusExchange(overrides: Partial<Exchange> = {}, body: Record<string, unknown> = {}): Exchange {
  return {
    product: 'serverless',
    method: 'GET',
    path: `/v1/Services/${ZS}/Builds/${ZB}/Status`,
    query: {},
    form: undefined,
    status: 200,
    body: {
      sid: ZB,
      account_sid: AC,
      service_sid: ZS,
      status: 'building',
      url: `https://serverless.twilio.com/v1/Services/${ZS}/Builds/${ZB}/Status`,
      ...body,
    },
    ...overrides,
  };
}

const createService = (status: number, form: Record<string, unknown>, body: unknown): Exchange => ({
  product: 'serverless',
  method: 'POST',
  path: '/v1/Services',
  query: {},
  form,
  status,
  body,
});

describe('the contract check', () => {
  it('resolves paths to operations, the literal path before a template', () => {
    expect(findOperation('studio', 'POST', '/v2/Flows/Validate')?.operationId).toBe('UpdateFlowValidate');
    expect(findOperation('studio', 'POST', `/v2/Flows/${FW}`)?.operationId).toBe('UpdateFlow');
    expect(findOperation('api', 'GET', `/2010-04-01/Accounts/${AC}/Messages.json`)?.operationId).toBe('ListMessage');
    expect(findOperation('serverless', 'PUT', '/v1/Services')).toBeUndefined();
  });

  it('passes an exchange that keeps to the spec', () => {
    expect(checkExchange(statusExchange())).toEqual([]);
  });

  it('flags an undeclared query or form parameter', () => {
    expect(checkExchange(statusExchange({ query: { Verbose: ['true'] } }))).toEqual([
      expect.stringContaining('query parameter Verbose is not declared'),
    ]);
    expect(
      checkExchange(
        createService(
          400,
          { UniqueName: 'a', FriendlyName: 'b', Colour: 'red' },
          { code: 20001, message: 'x', more_info: 'y', status: 400 },
        ),
      ),
    ).toEqual([expect.stringContaining('form parameter Colour is not declared')]);
  });

  it('flags a request accepted without a required parameter, but not one refused for it', () => {
    const refused = createService(
      400,
      { UniqueName: 'a' },
      { code: 20001, message: 'Missing required parameter FriendlyName in the post body', more_info: 'u', status: 400 },
    );
    expect(checkExchange(refused)).toEqual([]);
    const accepted = createService(201, { UniqueName: 'a' }, {});
    expect(checkExchange(accepted)).toContainEqual(expect.stringContaining('accepted without the required parameter FriendlyName'));
  });

  it('flags an accepted parameter value outside its schema: enum, boolean, the pattern of each listed SID', () => {
    const flow = (status: number, form: Record<string, unknown>) =>
      checkExchange({
        product: 'studio',
        method: 'POST',
        path: '/v2/Flows',
        query: {},
        form,
        status,
        body: status === 201 ? {} : { code: 20001, message: 'm', more_info: 'u', status },
      });
    expect(flow(201, { FriendlyName: 'f', Status: 'live', Definition: '{}' })).toEqual([
      expect.stringContaining('parameter Status: "live" is not one of ["draft","published"]'),
    ]);
    expect(flow(400, { FriendlyName: 'f', Status: 'live', Definition: '{}' })).toEqual([]);
    expect(checkExchange(createService(201, { UniqueName: 'a', FriendlyName: 'b', UiEditable: 'yes' }, {}))).toEqual([
      expect.stringContaining('parameter UiEditable: "yes" is not a boolean'),
    ]);
    const build = checkExchange({
      product: 'serverless',
      method: 'POST',
      path: `/v1/Services/${ZS}/Builds`,
      query: {},
      form: { FunctionVersions: [`ZN${'1'.repeat(32)}`, 'ZN1'] },
      status: 201,
      body: {},
    });
    expect(build).toEqual([
      expect.stringContaining('parameter FunctionVersions: "ZN1" does not match'),
      expect.stringContaining('FunctionVersions: is shorter than 34'),
    ]);
  });

  it('flags a status the operation does not declare', () => {
    expect(checkExchange(createService(200, { UniqueName: 'a', FriendlyName: 'b' }, {}))).toEqual([
      expect.stringContaining('status 200 is not declared (declared: 201)'),
    ]);
  });

  it('flags a body outside the response schema: wrong type, not in the enum, a malformed SID, an undeclared field', () => {
    const problems = checkExchange(statusExchange({}, { status: 'done', sid: 'ZB123', account_sid: 7, logs_url: 'x' }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('$.status "done" is not one of'),
        expect.stringContaining('$.sid "ZB123" does not match'),
        expect.stringContaining('$.account_sid is integer, the spec says string'),
        expect.stringContaining('$.logs_url is not declared by the spec'),
      ]),
    );
  });

  it('allows an allow-listed field only on the operations it is listed for', () => {
    const flow = (operation: 'FetchFlow' | 'FetchExecution') => {
      const path = operation === 'FetchFlow' ? `/v2/Flows/${FW}` : `/v2/Flows/${FW}/Executions/FN${'0e'.repeat(16)}`;
      return checkExchange({ product: 'studio', method: 'GET', path, query: {}, form: undefined, status: 200, body: { author_sid: null } });
    };
    expect(flow('FetchFlow')).toEqual([]);
    expect(flow('FetchExecution')).toEqual([expect.stringContaining('$.author_sid is not declared')]);
  });

  it("flags an error answer that is not Twilio's error body, one with a stack, and any 5xx", () => {
    expect(
      checkExchange(
        statusExchange({
          status: 404,
          body: { code: 20404, message: 'not found', more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 },
        }),
      ),
    ).toEqual([]);
    expect(checkExchange(statusExchange({ status: 404, body: { error: 'nope' } }))).toEqual(
      expect.arrayContaining(['error body has no numeric code']),
    );
    expect(
      checkExchange(statusExchange({ status: 400, body: { code: 1, message: 'm', more_info: 'u', status: 400, stack: 'Error: at …' } })),
    ).toEqual(['error body carries a stack trace']);
    expect(checkExchange(statusExchange({ status: 500, body: { code: 20500, message: 'm', more_info: 'u', status: 500 } }))).toEqual([
      'the stand-in failed (500)',
    ]);
  });

  it('flags a path Twilio has no operation for, unless the stand-in refused it with 404 as Twilio does', () => {
    expect(checkExchange(statusExchange({ path: `/v1/Services/${ZS}/Builds/${ZB}/Logs` }))).toEqual([
      'no operation in Twilio’s spec has this method and path',
    ]);
    const notFound = { code: 20404, message: 'not found', more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 };
    expect(checkExchange(statusExchange({ path: '/v1/Nothing', status: 404, body: notFound }))).toEqual([]);
    expect(checkExchange(statusExchange({ path: '/v1/Nothing', status: 400, body: { ...notFound, status: 400 } }))).toEqual([
      'no operation in Twilio’s spec has this method and path',
    ]);
  });

  it('reports each violation with the exchange it came from (method, path and status; no bodies)', () => {
    const violations = checkExchanges([statusExchange(), statusExchange({ query: { Secret: ['s3cr3t'] } })]);
    expect(violations).toEqual([
      {
        exchange: `GET /serverless/v1/Services/${ZS}/Builds/${ZB}/Status → 200`,
        problem: expect.stringContaining('query parameter Secret'),
      },
    ]);
    expect(JSON.stringify(violations)).not.toContain('s3cr3t');
  });
});

describe('the exchange recorder', () => {
  it('records method, path below the product prefix, query, form, status and JSON body; other paths pass unrecorded', async () => {
    const exchanges: Exchange[] = [];
    const app = express();
    app.use(recordExchanges(exchanges));
    app.use('/serverless', express.urlencoded({ extended: false }), (req, res) => {
      res.status(201).json({ echoed: (req.body as Record<string, string>).UniqueName });
    });
    app.use('/__local', (_req, res) => {
      res.json({ local: true });
    });
    const server = await listen(app);
    try {
      await fetch(`${server.url}/serverless/v1/Services?PageSize=2&PageSize=3`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'UniqueName=demo',
      });
      await fetch(`${server.url}/__local/stack`);
    } finally {
      await server.close();
    }
    expect(exchanges).toEqual([
      {
        product: 'serverless',
        method: 'POST',
        path: '/v1/Services',
        query: { PageSize: ['2', '3'] },
        form: { UniqueName: 'demo' },
        status: 201,
        body: { echoed: 'demo' },
      },
    ]);
  });
});
