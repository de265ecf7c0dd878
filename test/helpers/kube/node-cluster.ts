import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RegistryClient } from '../../../src/registry/index.js';
import { DistributionRegistry } from '../registry/distribution.js';
import { freePort } from '../registry/free-port.js';
import { pushRunnableImage } from '../registry/runnable-image.js';
import {
  BRIDGE,
  HOST_IP,
  killLeftovers,
  listNetns,
  mountsUnder,
  removeKubeChains,
  removeKubepodsCgroups,
  run,
  sysctl,
  unmountAll,
} from './node-host.js';
import {
  KubeCluster,
  REPO_ROOT,
  daemon,
  delay,
  stopProcess,
  tail,
  track,
  type KubectlOptions,
  type KubectlResult,
} from './cluster.js';

/**
 * A one-node Kubernetes 1.20 cluster that starts pods, on this machine: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, kubelet and kube-proxy (all built from Debian's
 * `kubernetes` source package: scripts/kube/build-apiserver.sh, scripts/kube/build-node.sh),
 * Debian's containerd and runc, the CNI bridge and host-local plugins
 * (containernetworking-plugins), and Debian's docker-registry as the registry images are pulled
 * from. See docs/e2e.md ("A node that starts pods").
 *
 * Networking: a Linux bridge `portcullis0` with 10.244.0.1/24 is the node's pod network and its
 * address: the API server and the registry listen on 10.244.0.1 (reachable from the host and from
 * pods, from nowhere else), pods get 10.244.0.x from host-local, Services are 10.96.0.0/24 and
 * kube-proxy (iptables mode) routes them — also for the API server itself, which calls webhooks
 * through their Service's ClusterIP. etcd stays on 127.0.0.1.
 *
 * Needs root (bridges, iptables, mounts, containerd). One at a time per machine (the bridge name,
 * iptables chains). stop() removes pods, processes, mounts, iptables chains, the bridge and the
 * temp dir; a SIGKILLed test process leaves them behind (`scripts/kube/node-cleanup.sh` then; node-host.ts).
 */

export const NODE_NAME = 'portcullis-node';
export { BRIDGE, HOST_IP };
export const POD_CIDR = '10.244.0.0/24';
export const SERVICE_CIDR = '10.96.0.0/24';
const NODE_BUILD = join(REPO_ROOT, 'scripts', 'kube', 'build-node.sh');
const READY_TIMEOUT_MS = 120_000;

function nodeBinaries(): string {
  const r = spawnSync('bash', [NODE_BUILD, '--print-path'], { encoding: 'utf8' });
  const dir = r.stdout.trim();
  if (r.status === 3)
    throw new Error(
      `NodeCluster: kubelet and friends are not built (expected in ${dir}). Run: make kube-node (about 7-20 minutes, once).`,
    );
  if (r.status !== 0) throw new Error(`NodeCluster: ${NODE_BUILD} --print-path failed: ${r.stderr}`);
  return dir;
}

/** The pause binary (test/helpers/kube/pause/main.go), built with Debian's Go once per source change. */
function pauseBinary(): string {
  const source = join(REPO_ROOT, 'test', 'helpers', 'kube', 'pause', 'main.go');
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const cache = join(process.env['PORTCULLIS_CACHE'] ?? join(homedir(), '.cache', 'portcullis'), 'pause');
  const bin = join(cache, `pause-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(cache, { recursive: true });
  const r = spawnSync('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', bin, source], {
    encoding: 'utf8',
    env: { ...process.env, GO111MODULE: 'off', CGO_ENABLED: '0', GOCACHE: join(cache, 'go-build'), GOFLAGS: '' },
  });
  if (r.status !== 0) throw new Error(`NodeCluster: building the pause binary failed: ${r.stderr}`);
  return bin;
}

function kubeconfig(server: string, caFile: string, user: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: node',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caFile}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: node',
    '  context:',
    '    cluster: node',
    `    user: ${user}`,
    'current-context: node',
    '',
  ].join('\n');
}

interface Component {
  readonly name: string;
  readonly process: ChildProcess;
  readonly log: string;
}

export class NodeCluster {
  readonly api: KubeCluster;
  readonly registry: DistributionRegistry;
  /** host:port of the registry (plain HTTP) that containerd pulls from and pods reach. */
  readonly registryHost: string;
  readonly dir: string;
  /** containerd's socket, for `ctr --address`. */
  readonly containerdSocket: string;
  readonly #components: Component[];
  readonly #restores: (() => void)[];
  #stopped = false;

  private constructor(init: {
    api: KubeCluster;
    registry: DistributionRegistry;
    dir: string;
    containerdSocket: string;
    components: Component[];
    restores: (() => void)[];
  }) {
    this.api = init.api;
    this.registry = init.registry;
    this.registryHost = init.registry.host;
    this.dir = init.dir;
    this.containerdSocket = init.containerdSocket;
    this.#components = init.components;
    this.#restores = init.restores;
  }

  get kubeconfig(): string {
    return this.api.kubeconfig;
  }

  kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
    return this.api.kubectl(args, opts);
  }

  /** `ctr` against the node's containerd (namespace k8s.io unless args say otherwise). */
  ctr(
    args: readonly string[],
    opts: { allowFail?: boolean; input?: string | Buffer } = {},
  ): { code: number; stdout: string; stderr: string } {
    return run('ctr', ['--address', this.containerdSocket, ...args], opts);
  }

  /** The last lines of a component's log (kubelet, containerd, kube-proxy, …), for failure messages. */
  logTail(name: string, lines = 40): string {
    const c = this.#components.find((x) => x.name === name);
    return c === undefined ? `(no component ${name})` : tail(c.log, lines);
  }

  static async start(): Promise<NodeCluster> {
    if (process.getuid?.() !== 0) throw new Error('NodeCluster: needs root (bridge, iptables, mounts, containerd)');
    const bins = nodeBinaries();
    for (const tool of [
      'containerd',
      'containerd-shim-runc-v2',
      'runc',
      'ctr',
      'iptables',
      'conntrack',
      'docker-registry',
      'ip',
    ]) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
        throw new Error(
          `NodeCluster: ${tool} not found; run scripts/kube/build-node.sh (it installs containerd, runc, containernetworking-plugins, iptables, conntrack)`,
        );
    }
    for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) {
      if (!existsSync(join('/usr/lib/cni', plugin)))
        throw new Error(`NodeCluster: /usr/lib/cni/${plugin} missing (apt-get install containernetworking-plugins)`);
    }
    const pause = pauseBinary();
    const dir = mkdtempSync('/tmp/portcullis-node-');
    const netnsBefore = new Set(listNetns());
    const restores: (() => void)[] = [];
    const components: Component[] = [];
    let api: KubeCluster | undefined;
    let registry: DistributionRegistry | undefined;
    const start = (name: string, cmd: string, args: readonly string[]): Component => {
      const log = join(dir, `${name}.log`);
      const p = daemon(cmd, args, log);
      track(p);
      const c = { name, process: p, log };
      components.push(c);
      return c;
    };
    try {
      // The node's network: the bridge the CNI plugin attaches pods to, with the node's address.
      run('ip', ['link', 'del', BRIDGE], { allowFail: true });
      run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
      run('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', BRIDGE]);
      run('ip', ['link', 'set', BRIDGE, 'up']);
      restores.push(() => void run('ip', ['link', 'del', BRIDGE], { allowFail: true }));
      // Pod network namespaces the kubelet did not get to tear down.
      restores.push(() => {
        for (const ns of listNetns())
          if (!netnsBefore.has(ns) && ns.startsWith('cni-')) run('ip', ['netns', 'delete', ns], { allowFail: true });
      });
      restores.push(sysctl('net/ipv4/ip_forward', '1'));
      if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables'))
        restores.push(sysctl('net/bridge/bridge-nf-call-iptables', '1'));

      // The registry on the host, and the sandbox image in it.
      registry = await DistributionRegistry.start({ address: HOST_IP });
      const client = new RegistryClient({ plainHttp: () => true });
      await pushRunnableImage(client, { registry: registry.host, repository: 'pause' }, '3.2', {
        files: [{ path: 'pause', source: pause }],
        entrypoint: ['/pause'],
        user: '65535:65535',
      });
      await client.close();

      api = await KubeCluster.start({
        address: HOST_IP,
        serviceCidr: SERVICE_CIDR,
        users: {
          [`system:node:${NODE_NAME}`]: ['system:nodes'],
          'system:kube-controller-manager': [],
          'system:kube-scheduler': [],
          'system:kube-proxy': [],
        },
        apiServerFlags: {
          '--authorization-mode': 'Node,RBAC',
          // The `kubernetes` Service's endpoint is this address (pods use it).
          '--endpoint-reconciler-type': 'lease',
          '--enable-admission-plugins':
            'NamespaceLifecycle,LimitRanger,ServiceAccount,Priority,DefaultTolerationSeconds,ResourceQuota,NodeRestriction,MutatingAdmissionWebhook,ValidatingAdmissionWebhook',
          '--disable-admission-plugins': '',
          '--allow-privileged': 'false',
          // The node's name does not resolve here; its InternalIP (the bridge address) does.
          '--kubelet-preferred-address-types': 'InternalIP,Hostname',
        },
      });
      const kc = (user: string, file: string): string => {
        const path = join(dir, file);
        writeFileSync(
          path,
          kubeconfig(api?.server as string, api?.caFile as string, user, api?.tokens[user] as string),
          { mode: 0o600 },
        );
        return path;
      };

      // containerd with its own root, state and socket; the registry over plain HTTP.
      const cd = join(dir, 'containerd');
      const socket = join(cd, 'containerd.sock');
      mkdirSync(join(cd, 'certs.d', registry.host), { recursive: true });
      writeFileSync(
        join(cd, 'certs.d', registry.host, 'hosts.toml'),
        `server = "http://${registry.host}"\n\n[host."http://${registry.host}"]\n  capabilities = ["pull", "resolve"]\n`,
      );
      mkdirSync(join(dir, 'cni', 'net.d'), { recursive: true });
      writeFileSync(
        join(dir, 'cni', 'net.d', '10-portcullis.conflist'),
        JSON.stringify({
          cniVersion: '0.4.0',
          name: 'portcullis',
          plugins: [
            {
              type: 'bridge',
              bridge: BRIDGE,
              isGateway: true,
              ipMasq: false,
              hairpinMode: true,
              ipam: {
                type: 'host-local',
                ranges: [[{ subnet: POD_CIDR, gateway: HOST_IP }]],
                routes: [{ dst: '0.0.0.0/0' }],
                dataDir: join(dir, 'cni', 'ipam'),
              },
            },
            { type: 'portmap', capabilities: { portMappings: true } },
          ],
        }),
      );
      writeFileSync(
        join(cd, 'config.toml'),
        [
          'version = 2',
          `root = "${join(cd, 'root')}"`,
          `state = "${join(cd, 'state')}"`,
          '[grpc]',
          `  address = "${socket}"`,
          '[ttrpc]',
          `  address = "${socket}.ttrpc"`,
          '[plugins."io.containerd.metadata.v1.bolt"]',
          // Pulls by the kubelet fetch every blob from the registry, even if another namespace has it.
          '  content_sharing_policy = "isolated"',
          '[plugins."io.containerd.grpc.v1.cri"]',
          `  sandbox_image = "${registry.host}/pause:3.2"`,
          // These VMs withhold CAP_SYS_RESOURCE even from root, so no process may lower its
          // oom_score_adj below 0 (runc fails with "failed to update /proc/self/oom_score_adj:
          // Permission denied" on the sandbox's -998). containerd's option for exactly this
          // (meant for rootless setups) clamps the scores to its own, 0.
          '  restrict_oom_score_adj = true',
          '  [plugins."io.containerd.grpc.v1.cri".cni]',
          '    bin_dir = "/usr/lib/cni"',
          `    conf_dir = "${join(dir, 'cni', 'net.d')}"`,
          '  [plugins."io.containerd.grpc.v1.cri".registry]',
          `    config_path = "${join(cd, 'certs.d')}"`,
          '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
          '    runtime_type = "io.containerd.runc.v2"',
          '  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
          `    Root = "${join(cd, 'runc')}"`,
          ...(process.env['PORTCULLIS_NODE_RUNC'] === undefined
            ? []
            : [`    BinaryName = "${process.env['PORTCULLIS_NODE_RUNC']}"`]),
          '',
        ].join('\n'),
      );
      const containerd = start('containerd', 'containerd', [
        '--config',
        join(cd, 'config.toml'),
        '--log-level',
        'warn',
      ]);
      await waitFor(
        'containerd',
        containerd.process,
        async () => run('ctr', ['--address', socket, 'version'], { allowFail: true }).code === 0,
      );

      const [kubeletPort, proxyHealthz, proxyMetrics] = [await freePort(), await freePort(), await freePort()];
      start('kube-controller-manager', join(bins, 'kube-controller-manager'), [
        `--kubeconfig=${kc('system:kube-controller-manager', 'controller-manager.kubeconfig')}`,
        '--use-service-account-credentials=true',
        `--service-account-private-key-file=${join(api.dir, 'sa.key')}`,
        `--root-ca-file=${api.caFile}`,
        '--leader-elect=false',
        '--port=0',
        '--secure-port=0',
        '--allocate-node-cidrs=false',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--v=1',
      ]);
      start('kube-scheduler', join(bins, 'kube-scheduler'), [
        `--kubeconfig=${kc('system:kube-scheduler', 'scheduler.kubeconfig')}`,
        '--leader-elect=false',
        '--port=0',
        '--secure-port=0',
        '--v=1',
      ]);

      const kubeletDir = join(dir, 'kubelet');
      mkdirSync(kubeletDir, { recursive: true });
      writeFileSync(
        join(dir, 'kubelet-config.yaml'),
        [
          'apiVersion: kubelet.config.k8s.io/v1beta1',
          'kind: KubeletConfiguration',
          `address: ${HOST_IP}`,
          `port: ${kubeletPort}`,
          'readOnlyPort: 0',
          'healthzPort: 0',
          'authentication:',
          '  anonymous: { enabled: false }',
          '  webhook: { enabled: true }',
          `  x509: { clientCAFile: ${api.caFile} }`,
          'authorization: { mode: Webhook }',
          'cgroupDriver: cgroupfs',
          'failSwapOn: false',
          'resolvConf: /etc/resolv.conf',
          'serializeImagePulls: false',
          'imageGCHighThresholdPercent: 100',
          'imageGCLowThresholdPercent: 99',
          // This shared machine's disk and memory are not the node's to guard.
          'evictionHard: { memory.available: "1Mi", nodefs.available: "1%", nodefs.inodesFree: "1%", imagefs.available: "1%" }',
          'maxPods: 60',
          '',
        ].join('\n'),
      );
      const kubelet = start('kubelet', join(bins, 'kubelet'), [
        `--config=${join(dir, 'kubelet-config.yaml')}`,
        `--kubeconfig=${kc(`system:node:${NODE_NAME}`, 'kubelet.kubeconfig')}`,
        '--container-runtime=remote',
        `--container-runtime-endpoint=unix://${socket}`,
        `--root-dir=${kubeletDir}`,
        `--cert-dir=${join(dir, 'kubelet-pki')}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${HOST_IP}`,
        '--v=1',
      ]);
      start('kube-proxy', join(bins, 'kube-proxy'), [
        `--kubeconfig=${kc('system:kube-proxy', 'kube-proxy.kubeconfig')}`,
        `--hostname-override=${NODE_NAME}`,
        '--proxy-mode=iptables',
        `--cluster-cidr=${POD_CIDR}`,
        `--healthz-bind-address=127.0.0.1:${proxyHealthz}`,
        `--metrics-bind-address=127.0.0.1:${proxyMetrics}`,
        // Leave the machine's conntrack sysctls alone.
        '--conntrack-max-per-core=0',
        '--v=1',
      ]);

      const cluster = new NodeCluster({ api, registry, dir, containerdSocket: socket, components, restores });
      await waitFor(
        'the node to be Ready',
        kubelet.process,
        async () => {
          const r = await cluster.kubectl(
            ['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'],
            { allowFail: true },
          );
          return r.stdout === 'True';
        },
        () => `kubelet log:\n${tail(kubelet.log)}\ncontainerd log:\n${tail(containerd.log)}`,
      );
      // The token controller has given `default` service accounts their tokens.
      await waitFor(
        'the default ServiceAccount',
        kubelet.process,
        async () =>
          (
            await cluster.kubectl(['get', 'serviceaccount', 'default', '-o', 'jsonpath={.secrets[0].name}'], {
              allowFail: true,
            })
          ).stdout !== '',
        () => tail(join(dir, 'kube-controller-manager.log')),
      );
      return cluster;
    } catch (e) {
      for (const c of [...components].reverse()) await stopProcess(c.process);
      if (components.some((c) => c.name === 'containerd')) killLeftovers(join(dir, 'containerd', 'containerd.sock'));
      removeKubeChains();
      unmountAll(dir);
      removeKubepodsCgroups();
      await api?.stop();
      await registry?.stop();
      for (const r of restores.reverse()) r();
      if (process.env['PORTCULLIS_KEEP_CLUSTER_DIR'] !== '1' && mountsUnder(dir).length === 0)
        rmSync(dir, { recursive: true, force: true });
      else process.stderr.write(`NodeCluster: kept ${dir}\n`);
      throw e;
    }
  }

  /**
   * Deletes every pod (the kubelet stops their containers and tears down their sandboxes), then
   * stops the components, kube-proxy's and kubelet's iptables chains, mounts, the bridge, the
   * registry and the API server, and removes the temp dir. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.kubectl(['delete', 'validatingwebhookconfigurations,mutatingwebhookconfigurations', '--all'], {
      allowFail: true,
    });
    await this.kubectl(
      ['delete', 'deployments,replicasets,daemonsets,statefulsets,jobs', '--all', '--all-namespaces', '--wait=false'],
      { allowFail: true },
    );
    await this.kubectl(['delete', 'pods', '--all', '--all-namespaces', '--grace-period=0', '--force', '--wait=false'], {
      allowFail: true,
    });
    // The kubelet stops the containers and removes the sandboxes (network namespaces, CNI addresses).
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const tasks = this.ctr(['-n', 'k8s.io', 'tasks', 'ls'], { allowFail: true });
      if (tasks.code !== 0 || tasks.stdout.trim().split('\n').length <= 1) break;
      await delay(500);
    }
    const byName = (n: string) => this.#components.find((c) => c.name === n);
    for (const name of ['kube-proxy', 'kubelet', 'kube-scheduler', 'kube-controller-manager']) {
      const c = byName(name);
      if (c !== undefined) await stopProcess(c.process);
    }
    const containerd = byName('containerd');
    if (containerd !== undefined) await stopProcess(containerd.process);
    killLeftovers(this.containerdSocket);
    removeKubeChains();
    unmountAll(this.dir);
    removeKubepodsCgroups();
    await this.api.stop();
    await this.registry.stop();
    for (const r of this.#restores.reverse()) r();
    if (process.env['PORTCULLIS_KEEP_CLUSTER_DIR'] === '1') {
      process.stderr.write(`NodeCluster: kept ${this.dir}\n`);
    } else if (mountsUnder(this.dir).length === 0) {
      rmSync(this.dir, { recursive: true, force: true });
    } else {
      process.stderr.write(
        `NodeCluster: mounts left under ${this.dir}, not removing it: ${mountsUnder(this.dir).join(' ')}\n`,
      );
    }
  }
}

async function waitFor(
  what: string,
  proc: ChildProcess,
  check: () => Promise<boolean>,
  logs: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(
        `NodeCluster: waiting for ${what}: a process exited (${proc.exitCode ?? proc.signalCode})\n${logs()}`,
      );
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`NodeCluster: ${what}: not within ${READY_TIMEOUT_MS / 1000} s\n${logs()}`);
    await delay(250);
  }
}
