import { NodeCluster, NODE_NAME } from './node-cluster.js';
const t0 = Date.now();
const c = await NodeCluster.start();
console.log('started in', Date.now() - t0, 'ms; dir', c.dir);
const r = await c.kubectl(['run', 'p', `--image=${c.registryHost}/pause:3.2`, '-n', 'default'], { allowFail: true });
console.log(r);
for (let i = 0; i < 60; i++) {
  const s = await c.kubectl(['get', 'pod', 'p', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].state}'], { allowFail: true });
  console.log(s.stdout);
  if (s.stdout.startsWith('Running')) break;
  await new Promise((r) => setTimeout(r, 2000));
}
console.log((await c.kubectl(['describe', 'pod', 'p'], { allowFail: true })).stdout.slice(-2500));
console.log(c.logTail('kubelet', 30));
if (process.env.KEEP !== '1') await c.stop();
console.log(NODE_NAME, 'done');
