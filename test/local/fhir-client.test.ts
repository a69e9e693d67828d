import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirFetchError, FhirHttpReader } from '../../src/ehr/fhir-client';
import { SandboxFhir } from '../../src/local/ehr-sandbox';
import { FIXTURE_PATIENTS } from '../fixtures/fhir';

const TOKEN = 'sandbox-fixed-token-0123456789';
const CLIENT = { id: 'app', secret: 'client-secret-0123456789' };
let server: http.Server;
let base: string;
const fhir = new SandboxFhir({ token: TOKEN, clients: [CLIENT], tokenSeconds: 600 });

beforeAll(async () => {
  const app = express();
  app.use('/fhir', fhir.router());
  app.get('/moved/Patient/:id', (_req, res) => res.redirect(302, '/fhir/Patient/example'));
  app.get('/slow/Patient/:id', (_req, res) => setTimeout(() => res.json({}), 1500));
  server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fhir.put(FIXTURE_PATIENTS['Patient/example'] as object);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('FhirHttpReader against the sandbox FHIR server', () => {
  it('reads with a fixed token, answers null for a resource the server does not have', async () => {
    const reader = new FhirHttpReader({ baseUrl: `${base}/fhir/`, auth: { kind: 'bearer', token: TOKEN } });
    expect((await reader.read('Patient', 'example'))?.id).toBe('example');
    expect(await reader.read('Patient', 'nobody')).toBeNull();
    expect(await reader.read('Patient', '../admin')).toBeNull();
    expect(reader.owns(`${base}/fhir/Patient/example`)).toBe(true);
    expect(reader.owns('https://elsewhere.example/fhir/Patient/example')).toBe(false);
  });

  it('gets a client_credentials token once and reuses it until it expires', async () => {
    const reader = new FhirHttpReader({
      baseUrl: `${base}/fhir`,
      auth: { kind: 'client-credentials', tokenUrl: `${base}/fhir/auth/token`, clientId: CLIENT.id, clientSecret: CLIENT.secret },
    });
    fhir.clear();
    fhir.put(FIXTURE_PATIENTS['Patient/example'] as object);
    await reader.read('Patient', 'example');
    await reader.read('Patient', 'example');
    expect(fhir.reads().map((r) => [r.status, r.auth])).toEqual([
      [200, 'issued'],
      [200, 'issued'],
    ]);
  });

  it('fails with the kind only: bad credentials, a redirect (never followed), a timeout', async () => {
    const wrong = new FhirHttpReader({ baseUrl: `${base}/fhir`, auth: { kind: 'bearer', token: 'not-the-token-at-all' } });
    await expect(wrong.read('Patient', 'example')).rejects.toMatchObject({ kind: 'unauthorized', status: 401 });
    const badClient = new FhirHttpReader({
      baseUrl: `${base}/fhir`,
      auth: { kind: 'client-credentials', tokenUrl: `${base}/fhir/auth/token`, clientId: 'app', clientSecret: 'wrong-secret-000' },
    });
    await expect(badClient.read('Patient', 'example')).rejects.toMatchObject({ kind: 'token' });
    const moved = new FhirHttpReader({ baseUrl: `${base}/moved`, auth: { kind: 'bearer', token: TOKEN } });
    await expect(moved.read('Patient', 'example')).rejects.toMatchObject({ kind: 'redirect', status: 302 });
    const slow = new FhirHttpReader({ baseUrl: `${base}/slow`, auth: { kind: 'bearer', token: TOKEN }, totalTimeoutMs: 300 });
    const err = await slow.read('Patient', 'example').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirFetchError);
    expect((err as FhirFetchError).kind).toBe('timeout');
    expect((err as FhirFetchError).message).not.toContain(base);
  });

  it('searches Appointments by identifier', async () => {
    fhir.put({ resourceType: 'Appointment', id: 'a1', identifier: [{ system: 'urn:x', value: '2' }], status: 'booked', participant: [] });
    const reader = new FhirHttpReader({ baseUrl: `${base}/fhir`, auth: { kind: 'bearer', token: TOKEN } });
    expect((await reader.searchByIdentifier('Appointment', 'urn:x', '2')).map((r) => r.id)).toEqual(['a1']);
    expect(await reader.searchByIdentifier('Appointment', 'urn:y', '2')).toEqual([]);
  });
});
