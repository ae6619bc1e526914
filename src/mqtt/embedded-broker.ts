import { createServer, type Server } from 'node:net';
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
  ) {}

  static async start(host: string, port: number): Promise<EmbeddedBroker> {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    const actualPort = typeof addr === 'object' && addr ? addr.port : port;
    return new EmbeddedBroker(broker, server, `mqtt://${host}:${actualPort}`);
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

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
  }
}
