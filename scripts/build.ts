import { buildService, SERVICE_DIR } from './lib/build-service';

buildService()
  .then(({ functions, ms }) => console.log(`built ${functions.length} functions into ${SERVICE_DIR} in ${ms} ms`))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
