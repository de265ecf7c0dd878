import { benchVerification } from './verification.js';

// `npm run bench`: prints what each benchmark measures, with the baseline measured in the same run.
const results = await benchVerification();
console.log('Signature verification (RSA-3072 leaf, RSA-3072 intermediate and root; warm certificate cache)');
for (const r of results) {
  const ratio = r.full.microseconds / r.raw.microseconds;
  console.log(
    `  ${r.format.toUpperCase().padEnd(4)} full verification ${r.full.microseconds.toFixed(1).padStart(8)} µs/op   raw signature checks ${r.raw.microseconds
      .toFixed(1)
      .padStart(8)} µs/op   ratio ${ratio.toFixed(2)}x (goal ≤ 3x) ${ratio <= 3 ? 'OK' : 'OVER GOAL'}`,
  );
}
