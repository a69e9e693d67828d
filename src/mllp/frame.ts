/**
 * MLLP framing (HL7 v2 Minimal Lower Layer Protocol, HL7 v2.5 Appendix C): each message is sent
 * as VT (0x0B) + message + FS (0x1C) + CR (0x0D) over TCP. TCP delivers bytes, not frames: a frame
 * may span packets and a packet may hold several frames, so the decoder keeps what it has seen
 * of the current frame, up to a bound.
 */
export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export type MllpEvent =
  | { kind: 'frame'; payload: Buffer }
  /** The frame grew past the limit: the decoder stops (the connection should be closed). `head` is its start, to answer it. */
  | { kind: 'oversize'; head: Buffer }
  /** Bytes outside a frame (other than line ends), discarded. */
  | { kind: 'junk'; bytes: number };

export function encodeFrame(message: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from([VT]), Buffer.isBuffer(message) ? message : Buffer.from(message, 'utf8'), Buffer.from([FS, CR])]);
}

export class MllpDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private inFrame = false;
  private stopped = false;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): MllpEvent[] {
    const events: MllpEvent[] = [];
    let i = 0;
    while (i < chunk.length && !this.stopped) {
      if (!this.inFrame) {
        const start = chunk.indexOf(VT, i);
        const outside = chunk.subarray(i, start === -1 ? chunk.length : start);
        // The CR after FS, or line ends some senders add between frames, are not junk.
        const junk = outside.filter((b) => b !== CR && b !== 0x0a).length;
        if (junk > 0) events.push({ kind: 'junk', bytes: junk });
        if (start === -1) break;
        this.inFrame = true;
        i = start + 1;
        continue;
      }
      const end = chunk.indexOf(FS, i);
      const part = chunk.subarray(i, end === -1 ? chunk.length : end);
      if (this.size + part.length > this.maxFrameBytes) {
        this.parts.push(part);
        events.push({ kind: 'oversize', head: Buffer.concat(this.parts).subarray(0, 4096) });
        this.parts = [];
        this.stopped = true;
        break;
      }
      this.parts.push(Buffer.from(part));
      this.size += part.length;
      if (end === -1) break;
      events.push({ kind: 'frame', payload: Buffer.concat(this.parts) });
      this.parts = [];
      this.size = 0;
      this.inFrame = false;
      i = end + 1;
    }
    return events;
  }
}

/** The message text: UTF-8 when it decodes as such, else ISO-8859-1 (MSH-18 `8859/1` feeds). */
export function decodePayload(payload: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    return payload.toString('latin1');
  }
}
