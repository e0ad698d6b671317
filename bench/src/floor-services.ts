// The processes `queue-floor.ts` measures, one role each (FLOOR_ROLE), as
// little code as each design needs, so what they add is the design's own
// cost on this machine, not ours:
//
// - proxy: a plain Node HTTP server that forwards the body to the GPU
//   server (SIM_URL) and relays its reply: the least any pass-through proxy
//   adds.
// - queue-api / queue-worker: the least a durable queue adds. The API pushes
//   the request onto a Redis list and blocks on the job's own reply list
//   (both sent at once, no round trip waited on between them); a worker
//   blocks on BLMOVE, which hands it the job and parks it in a processing
//   list in one step (it stays in Redis until answered, as a crash-safe
//   queue needs), calls the GPU server, writes the PNG to disk, and in one
//   MULTI takes the job off the processing list and pushes the reply. Two
//   Redis hops on the way in, one on the way out: no job hash, no events,
//   no deadlines, no withdrawal, no records, no limits.
//
// Every role answers GET /health once it is ready.
import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Pool } from "undici";

const role = process.env.FLOOR_ROLE;
const port = Number(process.env.PORT);
const simUrl = process.env.SIM_URL ?? "";
const JOBS = "floor:jobs";
const PROCESSING = "floor:processing";
const replyKey = (id: string) => `floor:reply:${id}`;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function serve(handle: (body: string, res: ServerResponse) => Promise<void>): void {
  createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200).end("ok");
      return;
    }
    readBody(req)
      .then((body) => handle(body, res))
      .catch((error: unknown) => res.writeHead(502).end(String(error)));
  }).listen(port, "127.0.0.1");
}

async function callSimulator(pool: Pool, body: string): Promise<Buffer> {
  const reply = await pool.request({ method: "POST", path: "/v1/images/generations", headers: { "content-type": "application/json" }, body });
  return Buffer.from(await reply.body.arrayBuffer());
}

function runProxy(): void {
  const pool = new Pool(simUrl, { connections: 64 });
  serve(async (body, res) => {
    const reply = await callSimulator(pool, body);
    res.writeHead(200, { "content-type": "application/json", "content-length": reply.length }).end(reply);
  });
}

function runQueueApi(): void {
  const producer = new Redis(process.env.REDIS_URL ?? "");
  // One blocking connection per request in flight, reused.
  const idle: Redis[] = [];
  serve(async (body, res) => {
    const id = randomUUID();
    const waiter = idle.pop() ?? new Redis(process.env.REDIS_URL ?? "");
    try {
      const [replied] = await Promise.all([waiter.blpop(replyKey(id), 30), producer.lpush(JOBS, JSON.stringify({ id, body }))]);
      if (!replied) throw new Error("no reply in 30 s");
      const answer = Buffer.from(replied[1]);
      res.writeHead(200, { "content-type": "application/json", "content-length": answer.length }).end(answer);
    } finally {
      idle.push(waiter);
    }
  });
}

function runQueueWorker(): void {
  const pool = new Pool(simUrl, { connections: 64 });
  const imageDir = process.env.IMAGE_DIR ?? "";
  mkdirSync(imageDir, { recursive: true });
  const writer = new Redis(process.env.REDIS_URL ?? "");
  const loop = async (blocking: Redis): Promise<never> => {
    for (;;) {
      const raw = await blocking.blmove(JOBS, PROCESSING, "RIGHT", "LEFT", 0);
      if (raw === null) continue;
      const job = JSON.parse(raw) as { id: string; body: string };
      const reply = JSON.parse((await callSimulator(pool, job.body)).toString("utf8")) as { created: number; data: Array<{ b64_json: string }> };
      const file = join(imageDir, `${job.id}.png`);
      writeFileSync(file, Buffer.from(reply.data[0]?.b64_json ?? "", "base64"));
      const answer = JSON.stringify({ created: reply.created, data: [{ url: `http://127.0.0.1/images/${job.id}.png` }] });
      await writer.multi().lrem(PROCESSING, 1, raw).lpush(replyKey(job.id), answer).expire(replyKey(job.id), 60).exec();
    }
  };
  for (let i = 0; i < 64; i++) {
    loop(new Redis(process.env.REDIS_URL ?? "")).catch((error: unknown) => {
      console.error(`queue worker loop stopped: ${String(error)}`);
      process.exit(1);
    });
  }
  serve(async (_body, res) => void res.writeHead(404).end());
}

if (role === "proxy") runProxy();
else if (role === "queue-api") runQueueApi();
else if (role === "queue-worker") runQueueWorker();
else throw new Error(`FLOOR_ROLE must be proxy, queue-api or queue-worker, not ${String(role)}`);
