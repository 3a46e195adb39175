// Reused buffers for large request bodies: those clients send, and those sent to Kiro. An
// agent's request is 100–600 KB of JSON, and putting it in a fresh Buffer costs more than the
// copy itself: the memory is fresh from the kernel each time (page faults; glibc hands freed
// blocks that large back) and garbage afterwards. Measured on the captured 115 KB Claude Code
// request: Buffer.from(json) 0.35–0.47 ms, writing it into a warm buffer 0.05 ms
// (`npm run bench -- micro` shows it on this machine).
//
// Whoever takes a buffer gives it back once nothing refers to it any more. For a body sent to
// Kiro that is when Kiro has answered 200: Kiro reads the whole body before it answers, so every
// byte was copied to the kernel by then. After any other outcome it is left to the garbage
// collector. A client's body goes back as soon as it is parsed (parsing copies what it keeps).

/** Bodies smaller than this are sent as strings: small allocations come from Node's own pool. */
export const POOLED_FROM = 16 * 1024;
const SMALLEST = 32 * 1024;
/** Idle bytes kept on the shelves in all; more go to the garbage collector. */
const MAX_IDLE_BYTES = 16 * 1024 * 1024;

export interface BodyLease {
  /** The encoded body (a view of the lease's buffer). */
  bytes: Buffer;
  /** Puts the buffer back for the next request; call only once nothing refers to `bytes`. */
  release(): void;
}

export class BodyBuffers {
  /** Buffers by size class (a power of two from 32 KB). */
  private readonly shelves = new Map<number, Buffer[]>();
  private idle = 0;

  /** A reused buffer of exactly `bytes` bytes (a view of a larger one). */
  take(bytes: number): BodyLease {
    const size = sizeClass(bytes);
    let buffer = this.shelves.get(size)?.pop();
    if (buffer) this.idle -= size;
    else buffer = Buffer.allocUnsafeSlow(size);
    const reused = buffer;
    let released = false;
    return {
      bytes: reused.subarray(0, bytes),
      release: () => {
        if (released) return;
        released = true;
        if (this.idle + size > MAX_IDLE_BYTES) return;
        this.idle += size;
        let list = this.shelves.get(size);
        if (!list) this.shelves.set(size, (list = []));
        list.push(reused);
      },
    };
  }

  /** `chunks` one after another in a reused buffer. */
  concat(chunks: readonly Buffer[], total: number): BodyLease {
    const lease = this.take(total);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(lease.bytes, at);
    return lease;
  }

  /** Bytes waiting on the shelves (for tests). */
  get idleBytes(): number {
    return this.idle;
  }
}

function sizeClass(bytes: number): number {
  let size = SMALLEST;
  while (size < bytes) size *= 2;
  return size;
}

/** The process's one set: client bodies and Kiro bodies share the shelves (and the idle cap). */
export const bodyBuffers = new BodyBuffers();
