import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { EhrRequest, EhrSandbox } from './sandbox';

export const EhrBehaviourInput = z.object({
  fail_next: z.number().int().min(0).max(1000),
  status: z.number().int().min(400).max(599).optional(),
  delay_ms: z.number().int().min(0).max(60_000).optional(),
});
export type EhrBehaviourInput = z.infer<typeof EhrBehaviourInput>;

function requestView(r: EhrRequest) {
  return {
    id: r.id,
    method: r.method,
    path: r.path,
    headers: r.headers,
    body: r.body,
    json: r.json,
    json_error: r.jsonError,
    received_at: r.receivedAt.toISOString(),
    idempotency_key: r.idempotencyKey,
    duplicate: r.duplicate,
    signature_valid: r.signatureValid,
    outcome: r.outcome,
    response_status: r.responseStatus,
  };
}

function behaviourView(sandbox: EhrSandbox) {
  const b = sandbox.behaviour();
  return { fail_next: b.failNext, status: b.status, delay_ms: b.delayMs };
}

/**
 * The sandbox EHR over HTTP: `POST /requests` is where the app delivers; the rest inspects and
 * steers the sandbox (`GET|DELETE /requests`, `GET|POST /behaviour`); `/fhir` is its FHIR server.
 */
export function createEhrSandboxRouter(sandbox: EhrSandbox): Router {
  const router = express.Router();

  router.post('/requests', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
    const { request, delayMs } = sandbox.handle({
      method: req.method,
      path: req.originalUrl,
      headers: req.headers,
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    });
    const answer = () => {
      if (request.outcome === 'delivered') res.status(200).json({ received: true, id: request.id });
      else if (request.outcome === 'rejected-signature') {
        res.status(401).json({ error: { code: 'invalid-signature', message: 'X-Signature does not match the body' } });
      } else {
        res
          .status(request.responseStatus)
          .json({ error: { code: 'sandbox-failure', message: 'the sandbox EHR was told to fail this request' } });
      }
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });

  router.get('/requests', (_req, res) => {
    res.json({ requests: sandbox.requests().map(requestView) });
  });

  router.delete('/requests', (_req, res) => {
    sandbox.clear();
    res.status(204).end();
  });

  router.use('/fhir', sandbox.fhir.router());

  router.get('/behaviour', (_req, res) => {
    res.json(behaviourView(sandbox));
  });

  router.post('/behaviour', express.json({ limit: '16kb' }), (req, res) => {
    const r = EhrBehaviourInput.safeParse(req.body ?? {});
    if (!r.success) {
      const issue = r.error.issues[0];
      const field = issue?.path.join('.') || 'body';
      res.status(400).json({ error: { code: 'invalid-request', message: `${field} ${issue?.message ?? 'is invalid'}`, field } });
      return;
    }
    sandbox.setBehaviour({
      failNext: r.data.fail_next,
      ...(r.data.status !== undefined ? { status: r.data.status } : {}),
      ...(r.data.delay_ms !== undefined ? { delayMs: r.data.delay_ms } : {}),
    });
    res.json(behaviourView(sandbox));
  });

  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string };
    if (e.type === 'entity.parse.failed') res.status(400).json({ error: { code: 'invalid-json', message: 'the body is not valid JSON' } });
    else if (e.type === 'entity.too.large')
      res.status(413).json({ error: { code: 'payload-too-large', message: 'the body is too large' } });
    else next(err);
  });
  return router;
}
