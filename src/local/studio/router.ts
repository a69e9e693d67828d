import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { TwilioApiError } from '../twilio/contracts';
import { formBody, formString, requireForm, route, sendTwilioError, twilioAuth, type StandInCredentials } from '../twilio/rest';
import type { StudioEngine } from './engine';
import { invalidDefinition } from './flow-registry';
import type { ExecutionFilter, FlowStatus } from './types';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  executionContextJson,
  executionJson,
  flowJson,
  page,
  revisionJson,
  stepContextJson,
  stepJson,
} from './wire';

/**
 * The Studio v2 REST surface (docs/studio-engine.md §4.1, §4.4–4.6), mounted under the `studio`
 * product prefix: `https://studio.twilio.com/v2/…` → `<stand-in>/studio/v2/…`.
 */

/**
 * rest.ts's route() maps rejected promises to Twilio errors; running every handler as async
 * turns a synchronous throw (404, 409, 400) into such a rejection too.
 */
function handle(fn: (req: Request, res: Response) => void | Promise<void>): RequestHandler {
  return route(async (req, res) => {
    await fn(req, res);
  });
}

function badRequest(message: string): TwilioApiError {
  return new TwilioApiError(400, 20001, message);
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest(`${name} is not valid JSON`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function flowStatus(value: string): FlowStatus {
  if (value !== 'draft' && value !== 'published') throw badRequest('Status must be draft or published');
  return value;
}

function param(req: Request, name: string): string {
  const v = req.params[name];
  if (v === undefined) throw badRequest(`missing path segment ${name}`);
  return v;
}

function query(req: Request, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = req.query[n];
    if (typeof v === 'string') return v;
  }
  return undefined;
}

function paging(req: Request): { pageSize: number; page: number } {
  const size = Number(query(req, 'PageSize') ?? DEFAULT_PAGE_SIZE);
  const pageNo = Number(query(req, 'Page') ?? 0);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) throw badRequest(`PageSize must be between 1 and ${MAX_PAGE_SIZE}`);
  if (!Number.isInteger(pageNo) || pageNo < 0) throw badRequest('Page must be a non-negative integer');
  return { pageSize: size, page: pageNo };
}

function dateQuery(req: Request, name: string): Date | undefined {
  const v = query(req, name);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw badRequest(`${name} is not a valid date`);
  return d;
}

/** Twilio's list of executions filters by creation date only (its spec declares no Status filter). */
function executionFilter(req: Request): { filter: ExecutionFilter; echo: Record<string, string> } {
  const from = dateQuery(req, 'DateCreatedFrom');
  const to = dateQuery(req, 'DateCreatedTo');
  const echo: Record<string, string> = {};
  if (from) echo.DateCreatedFrom = from.toISOString();
  if (to) echo.DateCreatedTo = to.toISOString();
  return { filter: { ...(from ? { dateCreatedFrom: from } : {}), ...(to ? { dateCreatedTo: to } : {}) }, echo };
}

export function createStudioRouter(engine: StudioEngine, credentials: () => StandInCredentials): Router {
  const r = express.Router();
  r.use(twilioAuth(credentials));
  r.use(formBody);

  const flowInput = (req: Request) => ({
    friendlyName: requireForm(req, 'FriendlyName'),
    status: flowStatus(requireForm(req, 'Status')),
    definition: parseJson(requireForm(req, 'Definition'), 'Definition'),
    commitMessage: formString(req, 'CommitMessage') ?? null,
  });

  // Registered before /v2/Flows/:sid so "Validate" is not read as a flow SID.
  r.post(
    '/v2/Flows/Validate',
    handle((req, res) => {
      const { definition } = flowInput(req);
      const result = engine.validate(definition);
      if (!result.valid) throw invalidDefinition(result.errors);
      res.json({ valid: true });
    }),
  );

  r.post(
    '/v2/Flows',
    handle((req, res) => {
      res.status(201).json(flowJson(engine.createFlow(flowInput(req)), { withDefinition: true }));
    }),
  );

  r.get(
    '/v2/Flows',
    handle((req, res) => {
      const flows = engine.listFlows().map((f) => flowJson(f, { withDefinition: false }));
      res.json(page(flows, { key: 'flows', path: '/Flows', query: {}, ...paging(req) }));
    }),
  );

  r.get(
    '/v2/Flows/:sid',
    handle((req, res) => {
      res.json(flowJson(engine.getFlow(param(req, 'sid')), { withDefinition: true }));
    }),
  );

  r.post(
    '/v2/Flows/:sid',
    handle((req, res) => {
      const definition = formString(req, 'Definition');
      const updated = engine.updateFlow(param(req, 'sid'), {
        status: flowStatus(requireForm(req, 'Status')),
        ...(formString(req, 'FriendlyName') !== undefined ? { friendlyName: formString(req, 'FriendlyName') } : {}),
        ...(definition !== undefined ? { definition: parseJson(definition, 'Definition') } : {}),
        commitMessage: formString(req, 'CommitMessage') ?? null,
      });
      res.json(flowJson(updated, { withDefinition: true }));
    }),
  );

  r.delete(
    '/v2/Flows/:sid',
    handle((req, res) => {
      engine.deleteFlow(param(req, 'sid'));
      res.status(204).end();
    }),
  );

  r.get(
    '/v2/Flows/:sid/Revisions',
    handle((req, res) => {
      const sid = param(req, 'sid');
      const revisions = engine.listRevisions(sid).map((x) => revisionJson(x, { withDefinition: false }));
      res.json(page(revisions, { key: 'revisions', path: `/Flows/${sid}/Revisions`, query: {}, ...paging(req) }));
    }),
  );

  r.get(
    '/v2/Flows/:sid/Revisions/:revision',
    handle((req, res) => {
      res.json(revisionJson(engine.getRevision(param(req, 'sid'), param(req, 'revision')), { withDefinition: true }));
    }),
  );

  r.post(
    '/v2/Flows/:sid/Executions',
    handle(async (req, res) => {
      const raw = formString(req, 'Parameters');
      const parameters = raw === undefined || raw === '' ? undefined : parseJson(raw, 'Parameters');
      if (parameters !== undefined && !isRecord(parameters)) throw badRequest('Parameters must be a JSON object');
      const execution = await engine.startExecution({
        flowSid: param(req, 'sid'),
        to: requireForm(req, 'To'),
        from: requireForm(req, 'From'),
        ...(parameters ? { parameters } : {}),
      });
      res.status(201).json(executionJson(execution));
    }),
  );

  r.get(
    '/v2/Flows/:sid/Executions',
    handle((req, res) => {
      const sid = param(req, 'sid');
      const { filter, echo } = executionFilter(req);
      const list = engine.listExecutions(sid, filter).map(executionJson);
      res.json(page(list, { key: 'executions', path: `/Flows/${sid}/Executions`, query: echo, ...paging(req) }));
    }),
  );

  r.get(
    '/v2/Flows/:sid/Executions/:fn',
    handle((req, res) => {
      res.json(executionJson(engine.getExecution(param(req, 'sid'), param(req, 'fn'))));
    }),
  );

  r.post(
    '/v2/Flows/:sid/Executions/:fn',
    handle((req, res) => {
      // §4.4: the only update is Status=ended.
      if (requireForm(req, 'Status') !== 'ended') throw badRequest('Status must be ended');
      res.json(executionJson(engine.endExecution(param(req, 'sid'), param(req, 'fn'))));
    }),
  );

  r.delete(
    '/v2/Flows/:sid/Executions/:fn',
    handle((req, res) => {
      engine.deleteExecution(param(req, 'sid'), param(req, 'fn'));
      res.status(204).end();
    }),
  );

  r.get(
    '/v2/Flows/:sid/Executions/:fn/Context',
    handle((req, res) => {
      const execution = engine.getExecution(param(req, 'sid'), param(req, 'fn'));
      res.json(executionContextJson(execution.accountSid, execution.flowSid, execution.sid, execution.context));
    }),
  );

  r.get(
    '/v2/Flows/:sid/Executions/:fn/Steps',
    handle((req, res) => {
      const [sid, fn] = [param(req, 'sid'), param(req, 'fn')];
      const steps = engine.listSteps(sid, fn).map(stepJson);
      res.json(page(steps, { key: 'steps', path: `/Flows/${sid}/Executions/${fn}/Steps`, query: {}, ...paging(req) }));
    }),
  );

  r.get(
    '/v2/Flows/:sid/Executions/:fn/Steps/:ft',
    handle((req, res) => {
      res.json(stepJson(engine.getStep(param(req, 'sid'), param(req, 'fn'), param(req, 'ft'))));
    }),
  );

  r.get(
    '/v2/Flows/:sid/Executions/:fn/Steps/:ft/Context',
    handle((req, res) => {
      res.json(stepContextJson(engine.getStep(param(req, 'sid'), param(req, 'fn'), param(req, 'ft'))));
    }),
  );

  r.use((req, res) => {
    sendTwilioError(res, new TwilioApiError(404, 20404, `The requested resource ${req.path} was not found`));
  });

  return r;
}
