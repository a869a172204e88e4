import type { WebDeps } from '../../src/web/deps.ts';
import type { Route } from '../../src/web/router.ts';
import { buildServer, listen } from '../../src/web/server.ts';

/** A web server of the product listening on 127.0.0.1 on a free port, for HTTP and browser tests. */
export interface ServedWeb {
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** Closes every connection and the listening socket. */
  close(): Promise<void>;
}

/** Builds the server for `routes` over `deps` (src/web/server.ts) and listens on port 0. */
export async function serveWeb(deps: WebDeps, routes: readonly Route[]): Promise<ServedWeb> {
  const server = buildServer(deps, routes);
  const port = await listen(server, 0, '127.0.0.1');
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
