/**
 * Free loopback TCP ports for the test harness.
 *
 * `redis-server --port 0` is not usable (Redis then listens on no TCP port at all), so a port is
 * picked by letting the kernel choose one (listen on 0), closing, and handing it out. Between the
 * close and the real server's bind another process may take it; callers that spawn servers retry
 * on "Address already in use" (see redis-server.ts). Within this process a port is never handed
 * out twice, so parallel `freePort()` calls cannot collide with each other.
 */
import { createServer } from 'node:net';
import { ApfError } from '../../src/errors.ts';

/** Ports never handed out: Redis's well-known ports may belong to a system server on the machine. */
const RESERVED = new Set([6379, 26379, 16379]);

/** Ports already handed out by this process (the kernel may offer a recently closed port again). */
const issued = new Set<number>();

/** How many kernel picks to try before giving up. */
const ATTEMPTS = 20;

/** Listens on `port` (0 = any) at `host`, then closes; resolves with the port, or `undefined` when it is taken. */
function probe(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(undefined);
      else reject(err);
    });
    // exclusive: a port shared through the cluster module would not prove anything.
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const got = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => resolve(got));
    });
  });
}

/**
 * A TCP port on `host` that nothing listens on right now and that this process has not handed
 * out before. The kernel picks it (listen on port 0); the port is then bound a second time to
 * check it is still free after the close, and another one is picked if it is not.
 *
 * @param host - The loopback address the port will be used on. @defaultValue `127.0.0.1`
 * @throws ApfError `APF_ERR_COMMAND_FAILED` when no port could be found in 20 attempts.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = await probe(host, 0);
    if (port === undefined || RESERVED.has(port) || issued.has(port)) continue;
    // Reserve before the re-check so a concurrent call cannot take the same port meanwhile.
    issued.add(port);
    if ((await probe(host, port)) === port) return port;
  }
  throw new ApfError('APF_ERR_COMMAND_FAILED', `no free TCP port found on ${host} after ${ATTEMPTS} attempts`, {
    details: { host },
  });
}
