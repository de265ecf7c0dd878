import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the node scenario (node-cluster.ts) changes on the host, and how it is undone: mounts
 * under its temp dir, iptables chains, the kubelet's cgroups, pod network namespaces,
 * processes left by containerd's shims, sysctls.
 */

export const BRIDGE = 'portcullis0';
export const HOST_IP = '10.244.0.1';

export function run(
  cmd: string,
  args: readonly string[],
  opts: { allowFail?: boolean; input?: string | Buffer } = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, maxBuffer: 64 * 1024 * 1024 });
  const result = { code: r.status ?? 128, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
  if (result.code !== 0 && opts.allowFail !== true)
    throw new Error(`NodeCluster: ${cmd} ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result;
}

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .map((m) => m.replace(/\\040/g, ' '));
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

/** Removes the iptables chains named KUBE-* (kubelet's and kube-proxy's) and the rules jumping to them. */
export function removeKubeChains(): void {
  for (const table of ['nat', 'filter', 'mangle']) {
    const rules = run('iptables', ['-t', table, '-S'], { allowFail: true }).stdout.split('\n');
    // Rules are deleted by number (their text has quoted comments), last first.
    const byChain = new Map<string, string[]>();
    for (const rule of rules) {
      const m = /^-A (\S+) (.*)$/.exec(rule);
      if (m !== null) byChain.set(m[1] as string, [...(byChain.get(m[1] as string) ?? []), m[2] as string]);
    }
    for (const [chain, chainRules] of byChain) {
      if (chain.startsWith('KUBE-')) continue;
      for (let i = chainRules.length; i >= 1; i--) {
        if (/-j KUBE-\S+/.test(chainRules[i - 1] as string))
          run('iptables', ['-t', table, '-D', chain, String(i)], { allowFail: true });
      }
    }
    const chains = rules.map((r) => /^-N (KUBE-\S+)$/.exec(r)?.[1]).filter((c): c is string => c !== undefined);
    for (const c of chains) run('iptables', ['-t', table, '-F', c], { allowFail: true });
    for (const c of chains) run('iptables', ['-t', table, '-X', c], { allowFail: true });
  }
}

/** Sets a sysctl under /proc/sys and returns a function that restores the old value. */
export function sysctl(path: string, value: string): () => void {
  const file = join('/proc/sys', path);
  const old = readFileSync(file, 'utf8').trim();
  writeFileSync(file, value);
  return () => {
    try {
      writeFileSync(file, old);
    } catch {
      // best effort
    }
  };
}

/**
 * What this node left running after containerd stopped: its runc shims (found by the socket in
 * their command line) and the processes in the kubelet's pod cgroups. Killed by pid.
 */
export function killLeftovers(socket: string): void {
  const pids = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf('-address');
      if ((args[0] ?? '').endsWith('containerd-shim-runc-v2') && at !== -1 && args[at + 1] === socket)
        pids.add(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  const procs = run(
    'sh',
    ['-c', 'find /sys/fs/cgroup/pids/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null; true'],
    { allowFail: true },
  ).stdout;
  for (const line of procs.split('\n')) if (/^\d+$/.test(line)) pids.add(Number(line));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/**
 * The kubelet's cgroups (`kubepods` under every cgroup v1 controller), deepest first; rmdir
 * fails on a cgroup that still has processes, which are then left alone. Left behind, the next
 * kubelet finds "orphaned" pods in them.
 */
export function removeKubepodsCgroups(): void {
  run(
    'sh',
    [
      '-c',
      'for c in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \\; 2>/dev/null; done; true',
    ],
    { allowFail: true },
  );
}

export function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

export function unmountAll(dir: string): void {
  for (const m of mountsUnder(dir)) run('umount', ['-l', m], { allowFail: true });
}

/**
 * After a test process was killed without stop(): stops what a NodeCluster left behind (its
 * processes, found by their command lines: the node's temp dir, the API server bound to
 * HOST_IP and its etcd), unmounts and removes /tmp/portcullis-node-* dirs, and removes the
 * iptables chains, pod cgroups and the bridge. scripts/kube/node-cleanup.sh runs it.
 */
export function cleanupLeftNode(): string[] {
  const done: string[] = [];
  const nodeDirs = readdirSync('/tmp')
    .filter((d) => d.startsWith('portcullis-node-'))
    .map((d) => join('/tmp', d));
  const procs: { pid: number; args: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      procs.push({ pid: Number(entry), args: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') });
    } catch {
      // gone meanwhile
    }
  }
  const apiservers = procs.filter(
    (p) => (p.args[0] ?? '').endsWith('kube-apiserver') && p.args.includes(`--bind-address=${HOST_IP}`),
  );
  const kubeDirs = apiservers
    .map((p) =>
      p.args
        .find((a) => a.startsWith('--cert-dir='))
        ?.slice('--cert-dir='.length)
        .replace(/\/certs$/, ''),
    )
    .filter((d): d is string => d !== undefined);
  const victims = procs.filter(
    (p) =>
      apiservers.includes(p) ||
      p.args.some((a) => nodeDirs.some((d) => a.includes(`${d}/`)) || kubeDirs.some((d) => a.includes(`${d}/`))),
  );
  for (const v of victims) {
    try {
      process.kill(v.pid, 'SIGKILL');
      done.push(`killed ${v.pid} ${v.args.slice(0, 2).join(' ')}`);
    } catch {
      // gone
    }
  }
  for (const d of nodeDirs) killLeftovers(join(d, 'containerd', 'containerd.sock'));
  removeKubeChains();
  for (const d of [...nodeDirs, ...kubeDirs]) {
    unmountAll(d);
    if (mountsUnder(d).length === 0) {
      rmSync(d, { recursive: true, force: true });
      done.push(`removed ${d}`);
    }
  }
  removeKubepodsCgroups();
  // containerd's CRI names pod network namespaces cni-<uuid>; only this scenario runs pods here.
  for (const ns of listNetns().filter((n) => n.startsWith('cni-'))) {
    run('ip', ['netns', 'delete', ns], { allowFail: true });
    done.push(`deleted netns ${ns}`);
  }
  if (run('ip', ['link', 'show', BRIDGE], { allowFail: true }).code === 0) {
    run('ip', ['link', 'del', BRIDGE], { allowFail: true });
    done.push(`deleted bridge ${BRIDGE}`);
  }
  return done;
}
