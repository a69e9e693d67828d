import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { buildAck } from '../domain/hl7/ack';
import { parseEr7, splitSegments } from '../domain/hl7/er7';
import { describeError, log } from '../log';
import { decodePayload, encodeFrame, MllpDecoder } from './frame';

/**
 * The MLLP bridge for engines on the clinic's network: it takes HL7 v2 over MLLP (TCP), forwards
 * each message to POST /ehr/hl7 over HTTPS with the EHR key, and returns that endpoint's ACK on
 * the same connection, in order. When the endpoint cannot answer (down, 5xx) the bridge sends no
 * ACK and closes the connection, so the engine keeps the message queued and resends it; an AA,
 * AE or AR from the endpoint is passed on as it is.
 */
export interface MllpBridgeOptions {
  host: string;
  port: number;
  /** The HTTPS URL of POST /ehr/hl7. */
  endpoint: string;
  apiKey: string;
  maxFrameBytes: number;
  /** Per message, for the HTTP request. */
  timeoutMs: number;
  now?: () => Date;
}

export interface MllpBridge {
  port: number;
  close(): Promise<void>;
}

type Forwarded = { ok: true; ack: string; status: number } | { ok: false; why: string };

async function forward(text: string, options: MllpBridgeOptions): Promise<Forwarded> {
  let res: Response;
  try {
    res = await fetch(options.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${options.apiKey}` },
      body: JSON.stringify({ message: text }),
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    return { ok: false, why: `endpoint unreachable (${describeError(err)})` };
  }
  const body = (await res.json().catch(() => undefined)) as { ack?: unknown } | undefined;
  if (res.status >= 500) return { ok: false, why: `endpoint answered ${res.status}` };
  if (typeof body?.ack !== 'string')
    return { ok: false, why: `endpoint answered ${res.status} without an ACK${res.status === 401 ? ' (check EHR_API_KEY)' : ''}` };
  return { ok: true, ack: body.ack, status: res.status };
}

/** MSA-1 and MSA-2 of an ACK, for the log (ids only). */
function msaOf(ack: string): { code: string; control_id: string } {
  const msa = splitSegments(ack).find((s) => s.startsWith('MSA'));
  const [, code = '', controlId = ''] = (msa ?? '').split(ack[3] ?? '|');
  return { code, control_id: controlId };
}

function oversizeAck(head: Buffer, options: MllpBridgeOptions): string {
  const text = decodePayload(head);
  const first = splitSegments(text)[0] ?? '';
  const parsed = parseEr7(first);
  return buildAck({
    code: 'AR',
    original: parsed.ok ? parsed.message : undefined,
    text: `message larger than ${options.maxFrameBytes} bytes`,
    issues: [
      { code: 100, text: `the MLLP frame is larger than ${options.maxFrameBytes} bytes (MLLP_MAX_FRAME_BYTES); nothing was forwarded` },
    ],
    now: (options.now ?? (() => new Date()))(),
    controlId: randomBytes(10).toString('hex'),
  });
}

export async function startMllpBridge(options: MllpBridgeOptions): Promise<MllpBridge> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (err) => log('warn', 'mllp connection error', { error: describeError(err) }));
    const peer = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
    const decoder = new MllpDecoder(options.maxFrameBytes);
    // ACKs go back in the order the messages came, one message at a time per connection.
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const event of decoder.push(chunk)) {
        if (event.kind === 'junk') {
          log('warn', 'mllp bytes outside a frame discarded', { peer, count: event.bytes });
        } else if (event.kind === 'oversize') {
          log('error', 'mllp frame over the size limit: answered AR and closed the connection', { peer, count: options.maxFrameBytes });
          queue = queue.then(() => {
            socket.end(encodeFrame(oversizeAck(event.head, options)));
          });
        } else {
          const text = decodePayload(event.payload);
          queue = queue.then(async () => {
            if (socket.destroyed) return;
            const started = Date.now();
            const result = await forward(text, options);
            if (!result.ok) {
              log('error', 'mllp message not delivered: closed without an ACK so the sender resends it', { peer, error: result.why });
              socket.destroy();
              return;
            }
            log('info', 'mllp message acknowledged', { peer, ...msaOf(result.ack), status: result.status, ms: Date.now() - started });
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the peer can close the socket while forward() awaits
            if (!socket.destroyed) socket.write(encodeFrame(result.ack));
          });
        }
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
