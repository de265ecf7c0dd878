import { ChaosProxy, type NetworkProfile } from '../../test/helpers/registry/chaos-proxy.js';
import { DistributionRegistry } from '../../test/helpers/registry/distribution.js';
import { serverTls, type ServerTls } from '../../test/helpers/registry/tls.js';

/**
 * A registry far away: Debian's docker-registry on loopback behind a ChaosProxy that adds the
 * network (test/helpers/registry/chaos-proxy.ts). HTTPS offering HTTP/2 and HTTP/1.1, as public
 * registries do; seeding goes to the registry directly, the server under test through the proxy.
 */

/** 50 ms round trips; a new connection costs two more (TCP, then TLS 1.3); 10 MiB/s per connection. */
export const FAR_AWAY: NetworkProfile = { rttMs: 50, handshakeMs: 100, bytesPerSecond: 10 * 1024 * 1024 };

export interface FarRegistry {
  /** What the server under test names images with: the proxy. */
  readonly host: string;
  /** The registry itself, for seeding. */
  readonly direct: string;
  /** The CA of the proxy's certificate (serve's registries.hosts.<host>.caFile). */
  readonly caFile: string;
  readonly proxy: ChaosProxy;
  stop(): Promise<void>;
}

export async function startFarRegistry(network: NetworkProfile = FAR_AWAY): Promise<FarRegistry> {
  const real = await DistributionRegistry.start();
  let tls: ServerTls | undefined;
  try {
    tls = serverTls('far-registry');
    const proxy = await ChaosProxy.start(real.host, {
      network,
      tls: { certPem: tls.certPem, keyPem: tls.keyPem },
      record: true,
    });
    const pki = tls;
    return {
      host: proxy.host,
      direct: real.host,
      caFile: tls.caFile,
      proxy,
      stop: async () => {
        await proxy.stop();
        await real.stop();
        pki.pki.cleanup();
      },
    };
  } catch (error) {
    tls?.pki.cleanup();
    await real.stop();
    throw error;
  }
}
