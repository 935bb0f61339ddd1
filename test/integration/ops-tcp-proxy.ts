// A TCP proxy the ops tests control: put it between viewgate and a store, then stop it (the store
// "goes down": listener closed, open connections cut), start it again on the same port (the store
// "comes back"), or delay or hold back what the store sends (a slow query without touching the store).
import net from 'node:net';

export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  /** Delay added before each chunk from the store reaches viewgate. */
  delayMs = 0;
  /** While holding: what to do, per connection, to pass on the chunk held back. */
  private held?: (() => void)[];
  /** Chunks from the store being delayed right now. */
  delayed = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url);
    const defaults: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'mysql:': 3306, 'mongodb:': 27017 };
    return new TcpProxy(u.hostname, Number(u.port || defaults[u.protocol]));
  }

  /** From now on, answers from the store are held back until release(): a query stays in flight. */
  hold(): void {
    this.held ??= [];
  }

  /** How many answers from the store are being held back now. */
  get heldChunks(): number {
    return this.held?.length ?? 0;
  }

  /** Passes on everything held back and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const pass of held) pass();
  }

  /** The store URL with host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Closes the listener and cuts every open connection. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(client).add(upstream);
    const cleanup = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', cleanup).on('close', cleanup);
    upstream.on('error', cleanup).on('close', cleanup);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (this.held) {
        upstream.pause();
        this.held.push(() => {
          if (!client.destroyed) client.write(chunk);
          upstream.resume();
        });
        return;
      }
      if (this.delayMs <= 0) return void client.write(chunk);
      upstream.pause();
      this.delayed++;
      setTimeout(() => {
        this.delayed--;
        if (!client.destroyed) client.write(chunk);
        upstream.resume();
      }, this.delayMs);
    });
  }
}
