import { KubeCluster } from './cluster.js';

/**
 * Starts a throw-away cluster for manual work and keeps it until Ctrl-C (or SIGTERM):
 *   scripts/kube/start-cluster.sh            # prints `export KUBECONFIG=...`
 *   PORTCULLIS_KEEP_CLUSTER_DIR=1 ...        # keep certs, logs and etcd data afterwards
 */
const cluster = await KubeCluster.start();
process.stdout.write(
  [
    `# kube-apiserver v1.20.2 at ${cluster.server} (logs, certs, etcd data: ${cluster.dir})`,
    `export KUBECONFIG=${cluster.kubeconfig}`,
    '# Ctrl-C stops etcd and the API server and removes the directory.',
    '',
  ].join('\n'),
);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  cluster.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
