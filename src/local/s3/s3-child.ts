// Runs the embedded S3 server (s3rver + conditional-write guard) in its own process, so it gets
// its own core and so the OpenSSL legacy provider it needs (s3rver signs list continuation
// tokens with DES) is enabled only here. Started by embedded-s3.ts with --openssl-legacy-provider.
import S3rver from 's3rver';
import { startConditionalGuard } from './conditional-guard';

interface StartMessage {
  directory: string;
  port: number;
  host: string;
  buckets: string[];
}

async function main(options: StartMessage) {
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: options.directory,
    silent: true,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  const address = await s3rver.run();
  const guard = await startConditionalGuard({ upstreamPort: address.port, port: options.port, host: options.host });
  const stop = async () => {
    await guard.close();
    await s3rver.close();
    process.exit(0);
  };
  process.on('message', (m) => {
    if (m === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.send?.({ ready: true, endpoint: guard.endpoint, port: guard.port });
}

process.once('message', (m: StartMessage) => {
  main(m).catch((err: unknown) => {
    process.send?.({ ready: false, error: (err as Error).message });
    process.exit(1);
  });
});
