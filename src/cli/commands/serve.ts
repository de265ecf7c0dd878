import { resolve } from 'node:path';
import { loadServeConfig } from '../../config/serve-config.js';
import { PortcullisError } from '../../errors/index.js';
import { EXIT, type CliIo } from '../io.js';
import { positiveInteger } from '../options.js';
import { startWebhook } from '../serve.js';

export interface ServeCommandOptions {
  readonly policies?: string;
  readonly kubernetes?: boolean;
  readonly kubeconfig?: string;
  readonly port?: string;
  readonly host?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly devCertDir?: string;
  readonly config?: string;
}

/** `portcullis serve --policies DIR`: the admission webhook and Gatekeeper provider over HTTPS, until SIGTERM. */
export async function serveCommand(opts: ServeCommandOptions, io: CliIo): Promise<number> {
  const port = opts.port === undefined ? 8443 : positiveInteger('--port', opts.port, 8443);
  if (port > 65535) throw new PortcullisError('ERR_INPUT_INVALID', `--port ${port} is not a port`);
  const config = await loadServeConfig(opts.config);
  const webhook = await startWebhook({
    port,
    host: opts.host ?? '0.0.0.0',
    config,
    devCertDir: resolve(opts.devCertDir ?? '.portcullis-dev-cert'),
    ...(opts.policies === undefined ? {} : { policies: opts.policies }),
    ...(opts.kubernetes === true || opts.kubeconfig !== undefined ? { kubernetes: opts.kubeconfig === undefined ? {} : { kubeconfig: opts.kubeconfig } } : {}),
    ...(opts.tlsCert === undefined ? {} : { tlsCert: opts.tlsCert }),
    ...(opts.tlsKey === undefined ? {} : { tlsKey: opts.tlsKey }),
  });
  io.stderr(`portcullis webhook listening on ${webhook.url} (POST /validate, /gatekeeper/v1/verify${config.webhook.mutate ? ', /mutate' : ''}; /healthz, /readyz, /metrics)\n`);
  if (webhook.devCaFile !== undefined) io.stderr(`development certificate: trust the CA in ${webhook.devCaFile}\n`);
  await io.untilShutdown();
  io.stderr(`shutting down: /readyz answers 503 for ${config.webhook.shutdownDelaySeconds} s while reviews are still served, then in-flight requests drain\n`);
  await webhook.stop();
  return EXIT.ok;
}
