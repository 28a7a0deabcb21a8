/**
 * Prepares the IMAP servers the tests run besides Dovecot: Cyrus and Courier, unpacked from
 * Debian's packages (see test/helpers/imap-packages.ts). Run as root; `.ci/run` and `npm test`
 * call it before the tests so that no test worker waits for apt.
 */
import { ensureCyrusAndCourier, TEST_SERVERS_DIR } from '../test/helpers/imap-packages';

const started = performance.now();
ensureCyrusAndCourier().then(
  (roots) => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`Cyrus in ${roots.cyrusRoot}, Courier in ${roots.courierRoot} (${TEST_SERVERS_DIR}, ready in ${seconds} s)`);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
