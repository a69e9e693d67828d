/**
 * A port another program already holds, said so that the reader knows what to change: the
 * variable that moves it. A bare `EADDRINUSE` names neither the port's purpose nor the fix.
 */
export class PortInUseError extends Error {
  readonly code = 'port-in-use';
  constructor(
    readonly variable: string,
    readonly port: number,
    host: string,
  ) {
    const hint = port === 0 ? '' : ` e.g. ${variable}=${port === 65535 ? port - 1 : port + 1}`;
    super(
      `port ${port} on ${host} is in use (another npm start, or another program); set ${variable} to a free port,${hint} (0 picks any free port)`,
    );
    this.name = 'PortInUseError';
  }
}

/** Whether a listen error means the address is taken. */
export function isAddressInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE';
}
