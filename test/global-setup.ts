import { buildService } from '../scripts/lib/build-service';

/** Integration tests run the built Functions service, exactly as `npm start` does. */
export default async function setup(): Promise<void> {
  await buildService();
}
