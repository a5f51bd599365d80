// Deterministic pseudo-random number generator for the simulator.
//
// Every source of nondeterminism in a simulation run must flow from one seed,
// so a failing run can be replayed exactly from the seed it printed. Math.random
// cannot be seeded, hence this class. The generator is xoshiro128** (fast,
// 32-bit, good statistical quality, tiny state); its 128-bit state is expanded
// from the seed with splitmix32, because xoshiro behaves badly from low-entropy
// states such as "seed = 1" and must never start from all zeros.

/** One splitmix32 step: returns [output, nextState]. Used only for seeding. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [z >>> 0, next];
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const TWO_POW_32 = 0x1_0000_0000;

/** Folds any finite number (including > 2^32 and negatives) into a uint32, so
 *  seeds such as Date-like integers or 64-bit-ish values still differ. */
function seedToU32(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`Prng: seed must be finite, got ${seed}`);
  if (!Number.isInteger(seed)) throw new Error(`Prng: seed must be an integer, got ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  // Mix the high word in so seeds that differ only above bit 32 still differ.
  return (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** The seed this generator was built from (for printing in failure reports). */
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed;
    let st = seedToU32(seed);
    let out: number;
    [out, st] = splitmix32(st);
    this.s0 = out;
    [out, st] = splitmix32(st);
    this.s1 = out;
    [out, st] = splitmix32(st);
    this.s2 = out;
    [out, st] = splitmix32(st);
    this.s3 = out;
    // xoshiro's one forbidden state; splitmix32 makes it practically impossible.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new Error("Prng: all-zero state");
  }

  /** Uniform uint32 in [0, 2^32). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of precision (enough for rates/delays). */
  float(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n). Uses rejection sampling so there is no modulo
   *  bias: values from the incomplete last "bucket" of 2^32 are redrawn. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`Prng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform integer in [lo, hi], both inclusive. */
  range(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) {
      throw new Error(`Prng.range: need integers lo <= hi, got [${lo}, ${hi}]`);
    }
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. Always consumes exactly one draw, even for p = 0
   *  or p = 1, so changing a rate at runtime does not shift the rest of the
   *  stream (keeps runs with slightly different configs comparable). */
  chance(p: number): boolean {
    if (!(p >= 0 && p <= 1)) throw new Error(`Prng.chance: p must be in [0, 1], got ${p}`);
    return this.float() < p;
  }

  /** Exponentially distributed value with the given mean (memoryless gaps
   *  between fault events, like a Poisson process). */
  exponential(mean: number): number {
    if (!(mean > 0)) throw new Error(`Prng.exponential: mean must be > 0, got ${mean}`);
    // 1 - float() is in (0, 1], so the log is finite.
    return -mean * Math.log(1 - this.float());
  }

  /** Uniformly chosen element of a non-empty array. */
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("Prng.pick: empty array");
    return xs[this.int(xs.length)] as T;
  }

  /** Fisher-Yates shuffle, in place; returns the same array for chaining. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = xs[i] as T;
      xs[i] = xs[j] as T;
      xs[j] = tmp;
    }
    return xs;
  }

  /** An independent child generator. Consumes one draw from this stream to
   *  seed the child; afterwards the two streams never interact, so giving each
   *  subsystem (network, disks, clocks, faults) its own fork at setup means a
   *  change in how often one subsystem draws does not perturb the others. */
  fork(): Prng {
    // XOR with a constant so the child's seed path differs from "new Prng(x)"
    // for the same draw x used elsewhere.
    return new Prng((this.nextU32() ^ 0x5bd1e995) >>> 0);
  }
}
