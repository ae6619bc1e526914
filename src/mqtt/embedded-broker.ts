import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

/**
 * The demo's in-process MQTT broker (aedes, MQTT 3.1.1), used only when no broker is configured and
 * `mqtt.embeddedBroker.enabled`. It listens on loopback only; a real deployment uses the agency's
 * broker over mqtts (P14, P16).
 */
export class EmbeddedBroker {
  private constructor(
    readonly broker: Aedes,
    private readonly server: Server,
    readonly url: string,
    private readonly sockets: Set<Socket>,
  ) {}

  static async start(host: string, port: number): Promise<EmbeddedBroker> {
    const broker = await Aedes.createBroker();
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    const actualPort = typeof addr === 'object' && addr ? addr.port : port;
    return new EmbeddedBroker(broker, server, `mqtt://${host}:${actualPort}`, sockets);
  }

  /** Delivers every message published on `filter` to `onMessage` (the demo prints hits with it). */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): void {
    this.broker.subscribe(
      filter,
      (packet, cb) => {
        onMessage(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
        cb();
      },
      () => {},
    );
  }

  /**
   * Clients first: `server.close()` waits for every open connection to end, so with a subscriber
   * connected (mosquitto_sub on the demo) it waited until the stop timeout killed the process.
   * aedes ends each client's connection; any socket still open (mid-handshake) is destroyed.
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
