/**
 * A loopback TCP forwarder a test puts between a client and a server (typically apf and Redis)
 * to simulate partitions and crashed peers without root or network namespaces (infra.md §8).
 *
 * Modes:
 * - `pass`: bytes flow both ways.
 * - `pause`: a black hole. Both sockets of every connection are held open but not read
 *   (`socket.pause()`), so nothing moves in either direction and nothing is dropped: TCP flow
 *   control queues the bytes in the kernel and they are delivered in order after `pass`. The
 *   client sees silence (its own timeouts fire), not a reset. Dropping bytes instead would leave
 *   a Redis client's reply queue out of step with the server after the heal. Connections opened
 *   while paused are accepted but not forwarded; their upstream is opened on `pass`.
 * - `reset`: every current connection is reset (RST to the client) and new ones are reset as soon
 *   as they arrive, until `pass`: like a crashed or restarted peer.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the proxy does with traffic. */
export type ProxyMode = 'pass' | 'pause' | 'reset';

/** A running proxy. */
export interface TcpProxy {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** `scheme://127.0.0.1:port`. @param scheme - @defaultValue `redis` */
  url(scheme?: string): string;
  /** Switches the mode; takes effect at once for current and future connections. */
  mode(m: ProxyMode): void;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
  /** Client connections currently held (forwarded or paused). */
  readonly connections: number;
}

/** One proxied connection. */
interface Link {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** True once the upstream socket is connected. */
  open: boolean;
}

/**
 * Starts a proxy on a free 127.0.0.1 port forwarding to `target`, in mode `pass`.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let current: ProxyMode = 'pass';
  const links = new Set<Link>();

  const drop = (link: Link, reset: boolean): void => {
    if (!links.delete(link)) return;
    if (reset) link.client.resetAndDestroy();
    else link.client.destroy();
    link.upstream?.destroy();
  };

  /** Moves bytes `from` → `to` while in `pass`, respecting backpressure. */
  const forward = (link: Link, from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (current !== 'pass') {
        // Paused in the same tick the chunk was read: give it back unread rather than send or drop it.
        from.pause();
        from.unshift(chunk);
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (current === 'pass' && links.has(link)) from.resume();
        });
      }
    });
    from.on('end', () => to.end());
  };

  const flow = (link: Link): void => {
    if (!link.open) return;
    link.client.resume();
    link.upstream?.resume();
  };

  const openUpstream = (link: Link): void => {
    const upstream = connect({ host: target.host, port: target.port });
    link.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.pause();
    upstream.on('connect', () => {
      link.open = true;
      if (current === 'pass') flow(link);
    });
    // The target refused or died: the client sees a reset, as it would without the proxy.
    upstream.on('error', () => drop(link, true));
    upstream.on('close', () => drop(link, false));
    forward(link, link.client, upstream);
    forward(link, upstream, link.client);
  };

  const server: Server = createServer((client) => {
    if (current === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: undefined, open: false };
    links.add(link);
    client.setNoDelay(true);
    // Nothing is read from the client until its upstream is connected and the mode is pass.
    client.pause();
    client.on('error', () => drop(link, false));
    client.on('close', () => drop(link, false));
    if (current === 'pass') openUpstream(link);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    port,
    url: (scheme = 'redis') => `${scheme}://127.0.0.1:${port}`,
    get connections() {
      return links.size;
    },
    mode(m) {
      current = m;
      for (const link of [...links]) {
        if (m === 'pause') {
          link.client.pause();
          link.upstream?.pause();
        } else if (m === 'reset') {
          drop(link, true);
        } else if (link.upstream === undefined) {
          openUpstream(link);
        } else {
          flow(link);
        }
      }
    },
    close() {
      current = 'reset';
      for (const link of [...links]) drop(link, false);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
