import { randomFillSync } from "node:crypto";

const ID_BYTES = 12;
/** Ids drawn from one fill of the random pool. */
const IDS_PER_FILL = 256;

/**
 * Request ids (`req_` + 24 random hex digits) drawn from a pool of random
 * bytes filled 3 KB at a time, as Node does for `randomUUID`: one
 * `randomBytes(12)` per request cost ~13 µs on the hot path, most of it the
 * call into the CSPRNG, not the 12 bytes. Every byte is used once, so ids
 * stay as unpredictable as before.
 */
export function createRequestIdSource(): () => string {
  const pool = Buffer.alloc(ID_BYTES * IDS_PER_FILL);
  let offset = pool.length;
  return () => {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const id = pool.toString("hex", offset, offset + ID_BYTES);
    offset += ID_BYTES;
    return `req_${id}`;
  };
}
