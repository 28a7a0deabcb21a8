/**
 * Prepares the IMAP servers the tests run besides Dovecot: Cyrus (with its CalDAV/CardDAV
 * httpd) and Courier, unpacked from Debian's packages (see test/helpers/imap-packages.ts). Run
 * as root; `.ci/run` and `npm test` call it before the tests so that no test worker waits for apt.
 */
import { ensureCyrusAndCourier, ensureCyrusDav, TEST_SERVERS_DIR } from '../test/helpers/imap-packages';

const started = performance.now();
ensureCyrusAndCourier()
  .then(async (roots) => {
    await ensureCyrusDav();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`Cyrus (IMAP, CalDAV/CardDAV) in ${roots.cyrusRoot}, Courier in ${roots.courierRoot} (${TEST_SERVERS_DIR}, ready in ${seconds} s)`);
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
